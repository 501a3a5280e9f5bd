"""``python -m bench.rpc.serve SUBJECT PORT``: serve the echo for one peer on 127.0.0.1:PORT.

SUBJECT is ``raw``, ``grpc``, ``rpyc`` or ``pyro5``; gee.rpc is served by its own command
(``gee rpc serve bench.rpc.payload:Echo``) and Go by its own binary. Each runs until SIGTERM,
which ``bench.common.Server`` sends to the process group.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["main"]

_U32 = struct.Struct(">I")


class RawEcho(asyncio.Protocol):
    """Length-prefixed frames (u32 big-endian length, then the bytes) echoed back unchanged.

    The limit the frameworks are measured against: no header, no dispatch, no decoding on this
    side; every whole frame in a chunk goes back in one write.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 4:
            (length,) = _U32.unpack_from(buf, pos)
            if end - pos - 4 < length:
                break
            pos += 4 + length
        if pos:
            assert self.transport is not None
            self.transport.write(bytes(buf[:pos]))
            del buf[:pos]


async def _serve_raw(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RawEcho, "127.0.0.1", port, backlog=511)
    await _until_term()
    server.close()


async def _serve_grpc(port: int) -> None:
    import grpc
    import msgspec

    from bench.rpc.payload import GRPC_METHOD, Item

    async def echo(request: Item, context: Any) -> Item:
        return request

    service, method = GRPC_METHOD.strip("/").split("/")
    handler = grpc.method_handlers_generic_handler(
        service,
        {
            method: grpc.unary_unary_rpc_method_handler(
                echo,
                request_deserializer=msgspec.msgpack.Decoder(Item).decode,
                response_serializer=msgspec.msgpack.encode,
            )
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await _until_term()
    await server.stop(grace=None)


async def _until_term() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _serve_rpyc(port: int) -> None:
    import rpyc
    from rpyc.utils.server import ThreadedServer

    class EchoService(rpyc.Service):  # type: ignore[misc]
        def exposed_echo(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
            return item

    # one thread per connection: the benchmark's one connection is served by one thread, which
    # is how rpyc serves a pipelined client
    ThreadedServer(
        EchoService, hostname="127.0.0.1", port=port, protocol_config={"allow_public_attrs": False}
    ).start()


def _serve_pyro5(port: int) -> None:
    import Pyro5.api

    @Pyro5.api.expose
    class EchoObject:
        def echo(self, item: dict[str, Any]) -> dict[str, Any]:
            return item

    # the default thread-pool server: the benchmark's 64 callers are 64 proxies (connections)
    Pyro5.config.THREADPOOL_SIZE = 128
    daemon = Pyro5.api.Daemon(host="127.0.0.1", port=port)
    daemon.register(EchoObject, "echo")
    daemon.requestLoop()


def _run_async(serve: Callable[[int], Any], port: int, *, uvloop_ok: bool) -> None:
    if uvloop_ok:
        import uvloop

        uvloop.run(serve(port))
    else:
        asyncio.run(serve(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rpc.serve")
    parser.add_argument("subject", choices=["raw", "grpc", "rpyc", "pyro5"])
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the threaded servers
    if args.subject == "raw":
        _run_async(_serve_raw, args.port, uvloop_ok=True)
    elif args.subject == "grpc":
        # grpc.aio drives its own completion queue and supports only asyncio's own loop
        _run_async(_serve_grpc, args.port, uvloop_ok=False)
    elif args.subject == "rpyc":
        _serve_rpyc(args.port)
    else:
        _serve_pyro5(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
