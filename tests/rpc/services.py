"""Services the rpc tests serve: Go's Arith example, and a few that misbehave on purpose."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import msgspec


class Args(msgspec.Struct):
    A: int
    B: int


class Quotient(msgspec.Struct):
    Quo: int
    Rem: int


class Arith:
    """Go's net/rpc documentation example, field names and error text included."""

    async def Multiply(self, args: Args) -> int:
        return args.A * args.B

    def Divide(self, args: Args) -> Quotient:
        if args.B == 0:
            raise ZeroDivisionError("divide by zero")
        return Quotient(args.A // args.B, args.A % args.B)


@dataclasses.dataclass
class Sleep:
    seconds: float
    tag: int = 0


class Timing:
    """Handlers that take their time, to test ordering, timeouts and cancellation."""

    def __init__(self) -> None:
        self.cancelled = 0
        self.started = 0
        self.threads = threading.Event()

    async def Sleep(self, args: Sleep) -> int:
        self.started += 1
        try:
            await asyncio.sleep(args.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return args.tag

    def BlockingSleep(self, args: Sleep) -> int:
        time.sleep(args.seconds)
        return args.tag

    async def Echo(self, args: bytes) -> bytes:
        return args

    async def Fill(self, size: int) -> bytes:
        return b"x" * size
