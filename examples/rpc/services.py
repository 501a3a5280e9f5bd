"""The two services each demo server serves: ``Arith`` (as in Go's net/rpc docs) and ``Host``.

Field names are Go's (``A``, ``B``, ``Quo``, ``Rem``), so a Go client could call ``Arith``
unchanged over the jsonrpc codec.
"""

from __future__ import annotations

import asyncio

import msgspec

__all__ = ["Args", "Arith", "Host", "Quotient"]


class Args(msgspec.Struct):
    A: int
    B: int


class Quotient(msgspec.Struct):
    Quo: int
    Rem: int


class Arith:
    """Go's net/rpc example service."""

    async def Multiply(self, args: Args) -> int:
        return args.A * args.B

    def Divide(self, args: Args) -> Quotient:  # a plain def: runs in the server's thread pool
        if args.B == 0:
            raise ValueError("divide by zero")
        return Quotient(args.A // args.B, args.A % args.B)


class Host:
    """Says which server answered, so the client can show where its calls went."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.served = 0

    async def Name(self, _: None) -> str:
        self.served += 1
        return self.name

    async def Sleep(self, seconds: float) -> str:
        """Answer after ``seconds``: a slow call, to show p2c steering around a busy server."""
        await asyncio.sleep(seconds)
        return self.name
