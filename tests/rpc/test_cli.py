"""``gee rpc``: the registry command and the one-shot caller, as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import gee.rpc
from tests.rpc.conftest import Served
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


async def gee_cmd(*args: str, timeout: float = 20) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gee", "rpc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    async with asyncio.timeout(timeout):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_call_prints_the_reply_as_json(served: Served) -> None:
    for codec in ("msgpack", "json", "jsonrpc"):
        code, out, err = await gee_cmd(
            "call", served.url, "Arith.Divide", '{"A": 17, "B": 5}', "--codec", codec
        )
        assert (code, json.loads(out)) == (0, {"Quo": 3, "Rem": 2}), err


async def test_call_reports_the_servers_error(served: Served) -> None:
    code, out, err = await gee_cmd("call", served.url, "Arith.Divide", '{"A": 1, "B": 0}')
    assert code == 1
    assert out == ""
    assert err.strip() == "error: divide by zero"
    code, _, err = await gee_cmd("call", served.url, "Arith.Divide", "{nope")
    assert code == 2
    assert "not JSON" in err


async def test_registry_command_serves_heartbeats() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gee", "rpc", "registry", "--port", str(port), "--ttl", "5",
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            line = (await proc.stdout.readline()).decode()
        url = line.split()[-1]
        assert url == f"http://127.0.0.1:{port}/_geerpc_/registry"
        server = gee.rpc.Server()
        server.register(gee_service())
        await server.start()
        await gee.rpc.announce(server, url)
        discovery = gee.rpc.RegistryDiscovery(url)
        assert await discovery.servers() == [str(server.addresses[0])]
        await discovery.close()
        await server.shutdown()
    finally:
        proc.terminate()
        await proc.wait()


def gee_service() -> object:
    from tests.rpc.services import Arith

    return Arith()


async def test_serve_announces_and_deregisters_on_sigterm() -> None:
    from gee.rpc.registry import Registry

    registry = Registry(ttl=30)
    port = await registry.start()
    url = f"http://127.0.0.1:{port}/_geerpc_/registry"
    rpc_port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gee", "rpc", "serve", "tests.rpc.services:Arith",
        "tests.rpc.services:Timing", "--address", f"tcp@127.0.0.1:{rpc_port}",
        "--registry", url,
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            line = (await proc.stdout.readline()).decode()
        assert line.strip() == f"gee rpc serving Arith, Timing on tcp@127.0.0.1:{rpc_port}"
        assert registry.alive() == [f"tcp@127.0.0.1:{rpc_port}"]
        async with gee.rpc.Client(f"tcp@127.0.0.1:{rpc_port}") as client:
            assert await client.call("Arith.Multiply", {"A": 6, "B": 7}) == 42
        proc.terminate()
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
        assert registry.alive() == [], "SIGTERM did not deregister the server"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await registry.shutdown()
