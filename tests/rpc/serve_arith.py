"""A gee.rpc server in its own process: ``python -m tests.rpc.serve_arith [ADDRESS]``.

Prints the bound address on one line once listening, then serves until killed; tests use it to
kill a server in the middle of calls.
"""

from __future__ import annotations

import asyncio
import sys

from gee.rpc import Server
from tests.rpc.services import Arith, Timing


async def main(address: str) -> None:
    server = Server()
    server.register(Arith())
    server.register(Timing())
    bound = await server.start(address)
    print(bound, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "tcp@127.0.0.1:0"))
