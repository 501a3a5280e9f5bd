"""gee.rpc: a multiplexed asyncio RPC framework that also speaks Go's net/rpc/jsonrpc.

::

    import msgspec, gee.rpc

    class Args(msgspec.Struct):
        A: int
        B: int

    class Arith:
        async def Multiply(self, args: Args) -> int:
            return args.A * args.B

    server = gee.rpc.Server()
    server.register(Arith())
    await server.start("tcp@127.0.0.1:9000")

    client = await gee.rpc.connect("tcp@127.0.0.1:9000")
    await client.call("Arith.Multiply", Args(7, 8), result=int, timeout=1.0)   # 56

Names are imported on first use (PEP 562), so that ``gee --help``, which imports
``gee.rpc.cli``, does not pay for asyncio or msgspec.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.rpc.address import Address, parse_address
    from gee.rpc.client import Client, SyncClient, connect
    from gee.rpc.codec import Codec
    from gee.rpc.discovery import Discovery, StaticDiscovery, discover
    from gee.rpc.errors import (
        CallTimeoutError,
        FrameTooLargeError,
        ProtocolError,
        RemoteError,
        RPCConnectionError,
        RPCError,
        ServiceError,
    )
    from gee.rpc.etcd import EtcdDiscovery, announce_etcd
    from gee.rpc.registry import Registry, RegistryDiscovery, announce
    from gee.rpc.server import Server
    from gee.rpc.service import Method, Service
    from gee.rpc.xclient import XClient

__all__ = [
    "Address",
    "CallTimeoutError",
    "Client",
    "Codec",
    "Discovery",
    "EtcdDiscovery",
    "FrameTooLargeError",
    "Method",
    "ProtocolError",
    "RPCConnectionError",
    "RPCError",
    "Registry",
    "RegistryDiscovery",
    "RemoteError",
    "Server",
    "Service",
    "ServiceError",
    "StaticDiscovery",
    "SyncClient",
    "XClient",
    "announce",
    "announce_etcd",
    "connect",
    "discover",
    "parse_address",
]

# public name -> the private module that defines it
_HOMES: dict[str, str] = {
    "Address": "address",
    "parse_address": "address",
    "Client": "client",
    "SyncClient": "client",
    "connect": "client",
    "Codec": "codec",
    "CallTimeoutError": "errors",
    "FrameTooLargeError": "errors",
    "ProtocolError": "errors",
    "RPCConnectionError": "errors",
    "RPCError": "errors",
    "RemoteError": "errors",
    "ServiceError": "errors",
    "Server": "server",
    "discover": "discovery",
    "Registry": "registry",
    "RegistryDiscovery": "registry",
    "announce": "registry",
    "EtcdDiscovery": "etcd",
    "announce_etcd": "etcd",
    "XClient": "xclient",
    "StaticDiscovery": "discovery",
    "Discovery": "discovery",
    "Method": "service",
    "Service": "service",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gee.rpc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"gee.rpc.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
