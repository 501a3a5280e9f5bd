"""Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, DUMP and RESTORE.

DUMP and RESTORE speak Redis's payload format (persist/rdb.py), so a payload moves between
gee.kv and Redis 7.0 in either direction. RESTORE checks its arguments in Redis's order (options,
then BUSYKEY, then the TTL, then the payload's footer, then its body), so a request that is wrong
in several ways gets the same error from both.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import SYNTAX, parse_int
from gee.kv.errors import CommandError, RDBError
from gee.kv.keyspace import now_ms
from gee.kv.persist.rdb import dump_payload, load_payload
from gee.kv.resp import NULL_BULK, OK, bulk

if TYPE_CHECKING:
    from gee.kv.connection import Client

_IN_PROGRESS = "ERR Background save already in progress"


@command("save")
def save(c: Client, args: list[bytes]) -> None:
    snapshots = c.server.snapshots
    if snapshots.child_pid is not None:
        raise CommandError(_IN_PROGRESS)
    if not snapshots.save():
        raise CommandError("ERR")
    c.out += OK


@command("bgsave")
def bgsave(c: Client, args: list[bytes]) -> None:
    if len(args) > 2 or (len(args) == 2 and args[1].lower() != b"schedule"):
        raise CommandError(SYNTAX)
    snapshots = c.server.snapshots
    if snapshots.child_pid is not None:
        raise CommandError(_IN_PROGRESS)
    aof = c.server.aof
    if aof is not None and aof.rewrite_pid is not None:
        if len(args) == 2:
            snapshots.bgsave_scheduled = True
            c.out += b"+Background saving scheduled\r\n"
            return
        raise CommandError(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. "
            "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
        )
    if not snapshots.bgsave():
        raise CommandError("ERR Background save failed to start: fork failed")
    c.out += b"+Background saving started\r\n"


@command("bgrewriteaof")
def bgrewriteaof(c: Client, args: list[bytes]) -> None:
    aof = c.server.aof
    if aof is None:
        raise CommandError("ERR BGREWRITEAOF needs appendonly yes in gee.kv")
    if aof.rewrite_pid is not None:
        raise CommandError("ERR Background append only file rewriting already in progress")
    if c.server.snapshots.child_pid is not None:
        aof.rewrite_scheduled = True
        c.out += b"+Background append only file rewriting scheduled\r\n"
        return
    if not aof.start_rewrite():
        raise CommandError(
            "ERR Can't execute an AOF background rewriting. "
            "Please check the server logs for more information."
        )
    c.out += b"+Background append only file rewriting started\r\n"


@command("dump")
def dump(c: Client, args: list[bytes]) -> None:
    value = c.db.get(args[1])
    if value is None:
        c.out += NULL_BULK
        return
    compress = c.server.config.values["rdbcompression"] == "yes"
    c.out += bulk(dump_payload(value, compress))


@command("restore")
def restore(c: Client, args: list[bytes]) -> None:
    replace = absttl = False
    idle = freq = -1
    j = 4
    n = len(args)
    while j < n:
        opt = args[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(args[j + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(args[j + 1])
            if not 0 <= freq <= 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    db = c.db
    key = args[1]
    if not replace and db.get(key) is not None:
        raise CommandError("BUSYKEY Target key name already exists.")
    ttl = parse_int(args[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    try:
        value = load_payload(args[3])
    except RDBError as exc:
        message = str(exc)
        if message != "DUMP payload version or checksum are wrong":
            message = "Bad data format"
        raise CommandError("ERR " + message) from None
    deleted = replace and db.delete(key)
    if ttl and not absttl:
        ttl += now_ms()
    if ttl and ttl <= now_ms():
        if deleted:
            db.modified(key)
        c.out += OK
        return
    db.set(key, value)
    if ttl:
        db.set_expire(key, ttl)
    db.modified(key)
    c.server.memory.restore_access(db, key, idle, freq)
    if value.__class__ is deque:
        db.ready(key)
    c.out += OK
