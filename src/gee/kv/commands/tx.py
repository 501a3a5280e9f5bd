"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Queued commands were already checked for existence and arity when queued (the dispatcher marks
the transaction doomed otherwise, so EXEC answers EXECABORT). Inside EXEC the commands run back
to back with no other client in between, so the transaction is atomic; blocked clients woken by
its writes are served once EXEC returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.errors import CommandError
from gee.kv.keyspace import now_ms
from gee.kv.resp import OK

if TYPE_CHECKING:
    from gee.kv.connection import Client
    from gee.kv.keyspace import Database


@command("multi")
def multi(c: Client, args: list[bytes]) -> None:
    if c.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    c.update_special()
    c.out += OK


def _end(c: Client) -> None:
    c.multi = None
    c.multi_error = False
    c.unwatch()
    c.update_special()


@command("discard")
def discard(c: Client, args: list[bytes]) -> None:
    if c.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    _end(c)
    c.out += OK


def _logically_expired(db: Database, key: bytes) -> bool:
    when = db.expires.get(key)
    return when is not None and key in db.data and when <= now_ms()


@command("exec")
def exec_(c: Client, args: list[bytes]) -> None:
    from gee.kv.connection import _error

    queue = c.multi
    if queue is None:
        raise CommandError("ERR EXEC without MULTI")
    if c.multi_error:
        _end(c)
        raise CommandError("EXECABORT Transaction discarded because of previous errors.")
    aborted = c.dirty_cas or any(
        not was_expired and _logically_expired(db, key) for db, key, was_expired in c.watched_keys
    )
    if aborted:
        _end(c)
        c.out += c.null_array
        return
    c.multi = None
    c.unwatch()
    c.update_special()
    c.out += b"*%d\r\n" % len(queue)
    c.in_exec = True
    keyspace = c.keyspace
    propagate = c.server.propagate
    # With propagation on, the writes are wrapped in MULTI ... EXEC, so that an AOF replay
    # applies all of them or (a file cut inside the block) none.
    wrapped = False
    try:
        for cmd, cmd_args in queue:
            dirty = keyspace.dirty
            index = c.db.index
            try:
                cmd.func(c, cmd_args)
            except CommandError as exc:
                c.out += _error(exc)
            except Exception as exc:  # a bug: keep EXEC's reply well-formed
                c._internal_error(cmd, exc)
            if propagate is not None and keyspace.dirty != dirty:
                if not wrapped:
                    propagate(index, [b"MULTI"])
                    wrapped = True
                propagate(index, cmd_args)
    finally:
        c.in_exec = False
        if wrapped and propagate is not None:
            propagate(c.db.index, [b"EXEC"])
    c.multi_error = False


@command("watch")
def watch(c: Client, args: list[bytes]) -> None:
    if c.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    db = c.db
    for key in args[1:]:
        if any(d is db and k == key for d, k, _ in c.watched_keys):
            continue
        c.watched_keys.append((db, key, _logically_expired(db, key)))
        db.watched.setdefault(key, []).append(c)
    c.out += OK


@command("unwatch")
def unwatch(c: Client, args: list[bytes]) -> None:
    c.unwatch()
    c.out += OK
