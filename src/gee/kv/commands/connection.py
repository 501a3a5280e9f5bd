"""Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT and CLIENT."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from gee.kv.commands import command, container
from gee.kv.commands.common import REDIS_VERSION, SYNTAX, map_header, parse_c_int, parse_int
from gee.kv.errors import CommandError
from gee.kv.resp import OK, ONE, PONG, ZERO, bulk, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client


@command("ping")
def ping(c: Client, args: list[bytes]) -> None:
    if len(args) > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if c.protocol == 2 and c.subscribed():
        payload = args[1] if len(args) > 1 else b""
        c.out += b"*2\r\n$4\r\npong\r\n" + bulk(payload)
    elif len(args) > 1:
        c.out += bulk(args[1])
    else:
        c.out += PONG


@command("echo")
def echo(c: Client, args: list[bytes]) -> None:
    c.out += bulk(args[1])


@command("quit")
def quit_(c: Client, args: list[bytes]) -> None:
    c.out += OK
    c.close()


@command("reset")
def reset(c: Client, args: list[bytes]) -> None:
    from gee.kv.commands.pubsub import unsubscribe_all

    c.multi = None
    c.multi_error = False
    c.unwatch()
    unsubscribe_all(c, notify=False)
    c.db = c.keyspace.dbs[0]
    c.name = b""
    c.no_evict = False
    c.authenticated = not c.server.config.requirepass
    c.set_protocol(2)
    c.out += b"+RESET\r\n"


def _check_password(c: Client, user: bytes, password: bytes) -> None:
    required = c.server.config.requirepass
    if user != b"default" or (required and password != required.encode()):
        raise CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    c.authenticated = True
    c.update_special()


@command("auth")
def auth(c: Client, args: list[bytes]) -> None:
    if len(args) > 3:
        raise CommandError(SYNTAX)
    if len(args) == 2:
        if not c.server.config.requirepass:
            raise CommandError(
                "ERR AUTH <password> called without any password configured for the default "
                "user. Are you sure your configuration is correct?"
            )
        _check_password(c, b"default", args[1])
    else:
        _check_password(c, args[1], args[2])
    c.out += OK


@command("hello")
def hello(c: Client, args: list[bytes]) -> None:
    version = c.protocol
    i = 1
    if len(args) > 1:
        try:
            version = parse_int(args[1])
        except CommandError:
            raise CommandError("ERR Protocol version is not an integer or out of range") from None
        if version not in (2, 3):
            raise CommandError("NOPROTO unsupported protocol version")
        i = 2
    name = None
    while i < len(args):
        option = args[i].lower()
        left = len(args) - i - 1
        if option == b"auth" and left >= 2:
            _check_password(c, args[i + 1], args[i + 2])
            i += 3
        elif option == b"setname" and left >= 1:
            name = _valid_name(args[i + 1])
            i += 2
        else:
            raise CommandError(b"ERR Syntax error in HELLO option '%s'" % args[i])
    if not c.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if name is not None:
        c.name = name
    c.set_protocol(version)
    c.out += map_header(c, 7)
    c.out += b"$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n" + bulk(REDIS_VERSION)
    c.out += b"$5\r\nproto\r\n" + integer(version) + b"$2\r\nid\r\n" + integer(c.id)
    c.out += b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
    c.out += b"$7\r\nmodules\r\n*0\r\n"


@command("select")
def select(c: Client, args: list[bytes]) -> None:
    index = parse_c_int(args[1])
    if not 0 <= index < len(c.keyspace.dbs):
        raise CommandError("ERR DB index is out of range")
    c.db = c.keyspace.dbs[index]
    c.out += OK


# -- CLIENT ---------------------------------------------------------------------------------

container("client")


def _valid_name(name: bytes) -> bytes:
    if any(ch < 33 or ch > 126 for ch in name):
        raise CommandError(
            "ERR Client names cannot contain spaces, newlines or special characters."
        )
    return name


def client_info_line(c: Client, now: float) -> bytes:
    """One CLIENT LIST line, with Redis's fields (memory figures are not measured)."""
    flags = ""
    if c.multi is not None:
        flags += "x"
    if c.blocked is not None:
        flags += "b"
    if c.subscribed():
        flags += "P"
    if c.no_evict:
        flags += "e"
    cmd = c.last_command.decode(errors="replace")
    line = (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd=8 name={c.name.decode(errors='replace')} "
        f"age={int(now - c.created)} idle={int(now - c.last_interaction)} "
        f"flags={flags or 'N'} db={c.db.index} sub={len(c.channels)} psub={len(c.patterns)} "
        f"ssub=0 multi={-1 if c.multi is None else len(c.multi)} qbuf=0 qbuf-free=0 "
        f"argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "
        f"cmd={cmd} user=default redir=-1 resp={c.protocol}\n"
    )
    return line.encode()


@command("client|id")
def client_id(c: Client, args: list[bytes]) -> None:
    c.out += integer(c.id)


@command("client|setname")
def client_setname(c: Client, args: list[bytes]) -> None:
    c.name = _valid_name(args[2])
    c.out += OK


@command("client|getname")
def client_getname(c: Client, args: list[bytes]) -> None:
    c.out += bulk(c.name) if c.name else c.null


@command("client|info")
def client_info(c: Client, args: list[bytes]) -> None:
    line = client_info_line(c, time.time())
    c.out += b"=%d\r\ntxt:%s\r\n" % (len(line) + 4, line) if c.protocol == 3 else bulk(line)


@command("client|list")
def client_list(c: Client, args: list[bytes]) -> None:
    clients = list(c.server.clients.values())
    if len(args) > 2:
        if args[2].lower() == b"id" and len(args) > 3:
            ids = {parse_int(a, "ERR Invalid client ID") for a in args[3:]}
            clients = [cl for cl in clients if cl.id in ids]
        elif args[2].lower() == b"type" and len(args) == 4:
            kind = args[3].lower()
            if kind not in (b"normal", b"master", b"replica", b"slave", b"pubsub"):
                raise CommandError(b"ERR Unknown client type '%s'" % args[3])
            clients = [
                cl
                for cl in clients
                if (kind == b"pubsub") == cl.subscribed() and kind in (b"normal", b"pubsub")
            ]
        else:
            raise CommandError(SYNTAX)
    now = time.time()
    text = b"".join(client_info_line(cl, now) for cl in clients)
    c.out += b"=%d\r\ntxt:%s\r\n" % (len(text) + 4, text) if c.protocol == 3 else bulk(text)


@command("client|kill")
def client_kill(c: Client, args: list[bytes]) -> None:
    clients = list(c.server.clients.values())
    if len(args) == 3:
        addr = args[2].decode(errors="replace")
        victims = [cl for cl in clients if cl.addr == addr]
        if not victims:
            raise CommandError("ERR No such client")
        _kill(c, victims)
        c.out += OK
        return
    if len(args) % 2:
        raise CommandError(SYNTAX)
    skipme = True
    for i in range(2, len(args), 2):
        field, value = args[i].lower(), args[i + 1]
        text = value.decode(errors="replace")
        if field == b"id":
            wanted = parse_int(value, "ERR client-id should be greater than 0")
            clients = [cl for cl in clients if cl.id == wanted]
        elif field == b"addr":
            clients = [cl for cl in clients if cl.addr == text]
        elif field == b"laddr":
            clients = [cl for cl in clients if cl.laddr == text]
        elif field == b"user":
            clients = [cl for cl in clients if text == "default"]
        elif field == b"type":
            kind = value.lower()
            if kind not in (b"normal", b"master", b"replica", b"slave", b"pubsub"):
                raise CommandError(b"ERR Unknown client type '%s'" % value)
            clients = [
                cl
                for cl in clients
                if (kind == b"pubsub") == cl.subscribed() and kind in (b"normal", b"pubsub")
            ]
        elif field == b"skipme":
            if value.lower() not in (b"yes", b"no"):
                raise CommandError(SYNTAX)
            skipme = value.lower() == b"yes"
        else:
            raise CommandError(SYNTAX)
    if skipme:
        clients = [cl for cl in clients if cl is not c]
    _kill(c, clients)
    c.out += integer(len(clients))


def _kill(c: Client, victims: list[Client]) -> None:
    for victim in victims:
        if victim is c:
            # Killing oneself: the reply goes out first, then the connection closes.
            c.server.clients.pop(c.id, None)
            asyncio.get_running_loop().call_soon(c.close)
        else:
            victim.close()


@command("client|unblock")
def client_unblock(c: Client, args: list[bytes]) -> None:
    target_id = parse_int(args[2])
    mode = args[3].lower() if len(args) > 3 else b"timeout"
    if len(args) > 4 or mode not in (b"timeout", b"error"):
        raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    target = c.server.clients.get(target_id)
    if target is None or target.blocked is None:
        c.out += ZERO
        return
    state = target.blocked
    target.unblock()
    if mode == b"error":
        target.out += b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    else:
        target.out += state.timeout_reply
    asyncio.get_running_loop().call_soon(target.resume)
    target.flush()
    c.out += ONE


@command("client|no-evict")
def client_no_evict(c: Client, args: list[bytes]) -> None:
    value = args[2].lower()
    if value not in (b"on", b"off"):
        raise CommandError(SYNTAX)
    c.no_evict = value == b"on"
    c.out += OK
