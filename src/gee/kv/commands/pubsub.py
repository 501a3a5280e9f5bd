"""Pub/sub: SUBSCRIBE, PSUBSCRIBE, their UNs, PUBLISH, PUBSUB.

Messages are appended to each subscriber's output buffer and written at once; a subscriber whose
unsent output passes the ``client-output-buffer-limit pubsub`` hard limit is disconnected
(``Client.deliver``), so one slow reader cannot grow the server's memory without bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gee.kv.commands import command, container
from gee.kv.commands.common import glob_match
from gee.kv.resp import bulk, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client


def _push_header(c: Client, n: int) -> bytes:
    return b">%d\r\n" % n if c.protocol == 3 else b"*%d\r\n" % n


def _count(c: Client) -> int:
    return len(c.channels) + len(c.patterns)


def _ack(c: Client, kind: bytes, name: bytes | None, count: int | None = None) -> None:
    c.out += _push_header(c, 3) + bulk(kind)
    c.out += c.null if name is None else bulk(name)
    c.out += integer(_count(c) if count is None else count)


@command("subscribe")
def subscribe(c: Client, args: list[bytes]) -> None:
    server = c.server
    for channel in args[1:]:
        if channel not in c.channels:
            c.channels[channel] = None
            server.channels.setdefault(channel, {})[c] = None
        _ack(c, b"subscribe", channel)
    c.update_special()


@command("psubscribe")
def psubscribe(c: Client, args: list[bytes]) -> None:
    server = c.server
    for pattern in args[1:]:
        if pattern not in c.patterns:
            c.patterns[pattern] = None
            server.patterns.setdefault(pattern, {})[c] = None
        _ack(c, b"psubscribe", pattern)
    c.update_special()


def _leave(c: Client, table: dict[bytes, dict[Client, None]], name: bytes) -> None:
    subs = table.get(name)
    if subs is not None:
        subs.pop(c, None)
        if not subs:
            del table[name]


@command("unsubscribe")
def unsubscribe(c: Client, args: list[bytes]) -> None:
    names = args[1:] or list(c.channels)
    if not names:
        _ack(c, b"unsubscribe", None)
    for channel in names:
        if c.channels.pop(channel, 0) is None:
            _leave(c, c.server.channels, channel)
        _ack(c, b"unsubscribe", channel)
    c.update_special()


@command("punsubscribe")
def punsubscribe(c: Client, args: list[bytes]) -> None:
    names = args[1:] or list(c.patterns)
    if not names:
        _ack(c, b"punsubscribe", None)
    for pattern in names:
        if c.patterns.pop(pattern, 0) is None:
            _leave(c, c.server.patterns, pattern)
        _ack(c, b"punsubscribe", pattern)
    c.update_special()


@command("ssubscribe")
def ssubscribe(c: Client, args: list[bytes]) -> None:
    server = c.server
    for channel in args[1:]:
        if channel not in c.shard_channels:
            c.shard_channels[channel] = None
            server.shard_channels.setdefault(channel, {})[c] = None
        _ack(c, b"ssubscribe", channel, len(c.shard_channels))
    c.update_special()


@command("sunsubscribe")
def sunsubscribe(c: Client, args: list[bytes]) -> None:
    names = args[1:] or list(c.shard_channels)
    if not names:
        _ack(c, b"sunsubscribe", None, 0)
    for channel in names:
        if c.shard_channels.pop(channel, 0) is None:
            _leave(c, c.server.shard_channels, channel)
        _ack(c, b"sunsubscribe", channel, len(c.shard_channels))
    c.update_special()


@command("spublish")
def spublish(c: Client, args: list[bytes]) -> None:
    subs = c.server.shard_channels.get(args[1])
    receivers = 0
    if subs:
        body = bulk(args[1]) + bulk(args[2])
        for sub in list(subs):
            sub.deliver(_push_header(sub, 3) + b"$8\r\nsmessage\r\n" + body, c)
            receivers += 1
    c.out += integer(receivers)


def unsubscribe_all(c: Client, notify: bool) -> None:
    """Drop every subscription of ``c`` (RESET, disconnect), optionally acknowledging each."""
    for channel in list(c.channels):
        del c.channels[channel]
        _leave(c, c.server.channels, channel)
        if notify:
            _ack(c, b"unsubscribe", channel)
    for pattern in list(c.patterns):
        del c.patterns[pattern]
        _leave(c, c.server.patterns, pattern)
        if notify:
            _ack(c, b"punsubscribe", pattern)
    for channel in list(c.shard_channels):
        del c.shard_channels[channel]
        _leave(c, c.server.shard_channels, channel)
    c.update_special()


def publish_message(c: Client, channel: bytes, message: bytes) -> int:
    """Deliver ``message`` to subscribers of ``channel`` and matching patterns; count them."""
    server = c.server
    receivers = 0
    subs = server.channels.get(channel)
    if subs:
        body = bulk(channel) + bulk(message)
        for sub in list(subs):
            sub.deliver(_push_header(sub, 3) + b"$7\r\nmessage\r\n" + body, c)
            receivers += 1
    if server.patterns:
        for pattern, psubs in list(server.patterns.items()):
            if not glob_match(pattern, channel):
                continue
            body = bulk(pattern) + bulk(channel) + bulk(message)
            for sub in list(psubs):
                sub.deliver(_push_header(sub, 4) + b"$8\r\npmessage\r\n" + body, c)
                receivers += 1
    server.pubsub_messages += 1
    return receivers


@command("publish")
def publish(c: Client, args: list[bytes]) -> None:
    c.out += integer(publish_message(c, args[1], args[2]))


container("pubsub")


@command("pubsub|channels")
def pubsub_channels(c: Client, args: list[bytes]) -> None:
    if len(args) > 3:
        raise_args("pubsub|channels")
    pattern = args[2] if len(args) == 3 else None
    names = [ch for ch in c.server.channels if pattern is None or glob_match(pattern, ch)]
    c.out += b"*%d\r\n" % len(names) + b"".join(bulk(n) for n in names)


def raise_args(name: str) -> None:
    from gee.kv.errors import CommandError

    raise CommandError(f"ERR wrong number of arguments for '{name}' command")


@command("pubsub|numsub")
def pubsub_numsub(c: Client, args: list[bytes]) -> None:
    channels = args[2:]
    c.out += b"*%d\r\n" % (2 * len(channels))  # a flat array even in RESP3, as Redis 7.0
    for channel in channels:
        c.out += bulk(channel) + integer(len(c.server.channels.get(channel, ())))


@command("pubsub|numpat")
def pubsub_numpat(c: Client, args: list[bytes]) -> None:
    c.out += integer(len(c.server.patterns))


@command("pubsub|shardchannels")
def pubsub_shardchannels(c: Client, args: list[bytes]) -> None:
    if len(args) > 3:
        raise_args("pubsub|shardchannels")
    pattern = args[2] if len(args) == 3 else None
    names = [ch for ch in c.server.shard_channels if pattern is None or glob_match(pattern, ch)]
    c.out += b"*%d\r\n" % len(names) + b"".join(bulk(n) for n in names)


@command("pubsub|shardnumsub")
def pubsub_shardnumsub(c: Client, args: list[bytes]) -> None:
    c.out += b"*%d\r\n" % (2 * (len(args) - 2))
    for channel in args[2:]:
        c.out += bulk(channel) + integer(len(c.server.shard_channels.get(channel, ())))
