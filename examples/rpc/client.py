"""The demo's client: finds the servers through gee's registry and calls them through XClient.

The example's test checks the lines it prints, so keep them stable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import gee.rpc
from examples.rpc.services import Args, Quotient

__all__ = ["demo"]


async def _servers(discovery: gee.rpc.RegistryDiscovery, count: int) -> list[str]:
    """The registry's list once it has ``count`` servers (it changes as they come and go)."""
    async with asyncio.timeout(10):
        # a discovery offers no change event to wait on: poll its list
        while len(servers := await discovery.servers()) != count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return servers


async def demo(registry: str, stop: Callable[[str], Awaitable[None]]) -> None:
    """Call the servers listed at ``registry``; ``stop("beta")`` stops that server midway."""
    # RegistryDiscovery long-polls the registry, so a server coming or going is seen at once
    discovery = gee.rpc.RegistryDiscovery(registry)
    servers = await _servers(discovery, 2)
    print(f"registry lists 2 servers: {', '.join(servers)}")

    async with gee.rpc.XClient(discovery, "round_robin") as xc:
        product = await xc.call("Arith.Multiply", Args(7, 8), timeout=2.0)
        print(f"Arith.Multiply(7, 8) = {product}")
        quotient = await xc.call("Arith.Divide", Args(17, 5), result=Quotient, timeout=2.0)
        print(f"Arith.Divide(17, 5) = {quotient}")
        try:
            await xc.call("Arith.Divide", Args(1, 0), timeout=2.0)
        except gee.rpc.RemoteError as exc:
            print(f"Arith.Divide(1, 0) failed: {exc.message}")

        names = [await xc.call("Host.Name", None, timeout=2.0) for _ in range(4)]
        print(f"round robin, Host.Name four times: {', '.join(names)}")
        everyone = await xc.broadcast("Host.Name", None, timeout=2.0)
        print(f"broadcast Host.Name: {', '.join(sorted(everyone))}")

        # XClient.close() closes its discovery too, so each XClient gets its own
        async with gee.rpc.XClient(gee.rpc.RegistryDiscovery(registry), "consistent_hash") as ch:
            owners = {}
            for key in ("user:1", "user:2", "user:3", "user:4"):
                answers = {await ch.call("Host.Name", None, key=key) for _ in range(3)}
                owners[key] = answers.pop() if len(answers) == 1 else "several servers"
            shown = ", ".join(f"{key} -> {name}" for key, name in owners.items())
            print(f"consistent hash, three calls per key: {shown}")

        balanced = gee.rpc.RegistryDiscovery(registry)
        # the first servers() starts the discovery's long-poll: make it before a burst of
        # concurrent first calls, which would each start one
        await balanced.servers()
        async with gee.rpc.XClient(balanced, "p2c") as p2c:
            calls = [p2c.call("Arith.Multiply", Args(i, i), timeout=5.0) for i in range(200)]
            right = await asyncio.gather(*calls) == [i * i for i in range(200)]
            print(f"p2c, 200 concurrent Arith.Multiply calls: {'all right' if right else 'WRONG'}")

        await stop("beta")  # SIGTERM: beta deregisters on its way out
        servers = await _servers(discovery, 1)
        print(f"registry lists 1 server: {servers[0]}")
        names = [await xc.call("Host.Name", None, timeout=2.0) for _ in range(3)]
        print(f"round robin after beta left: {', '.join(names)}")
