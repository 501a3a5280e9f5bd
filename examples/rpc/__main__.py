"""``python -m examples.rpc``: the registry, two servers and the client, started and stopped.

Each program runs in its own process; their output is shown prefixed with its name. Whatever
happens, every process started here is stopped (by its PID) before this exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from examples.rpc.client import demo

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 20.0


class Child:
    """A program of the demo: started, its output relayed, stopped by PID."""

    def __init__(self, name: str, argv: list[str], stop_signal: int = signal.SIGTERM) -> None:
        self.name = name
        self.argv = argv
        self.stop_signal = stop_signal
        self.process: asyncio.subprocess.Process | None = None
        self.first_line: asyncio.Future[str] | None = None
        self._relay: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Start the program; return its first line of output (where it listens)."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.first_line = asyncio.get_running_loop().create_future()
        self._relay = asyncio.create_task(self._relay_output())
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                return await self.first_line
        except TimeoutError:
            raise RuntimeError(f"{self.name} said nothing for {READY_TIMEOUT:g} s") from None

    async def _relay_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            print(f"[{self.name}] {line}", flush=True)
            if self.first_line is not None and not self.first_line.done():
                self.first_line.set_result(line)
        if self.first_line is not None and not self.first_line.done():
            code = await self.process.wait()
            self.first_line.set_exception(RuntimeError(f"{self.name} exited with status {code}"))

    async def stop(self) -> int:
        """Signal the program, wait for it (SIGKILL after 5 s); return its exit status."""
        process = self.process
        if process is None:
            return 0
        if process.returncode is None:
            process.send_signal(self.stop_signal)
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._relay is not None:
            await self._relay  # the rest of its output
        self.process = None
        assert process.returncode is not None
        return process.returncode


async def main() -> int:
    python = sys.executable
    # the registry exits cleanly on Ctrl-C, i.e. SIGINT
    registry = Child("registry", [python, "-m", "gee", "rpc", "registry", "--port", "0",
                                  "--ttl", "10"], stop_signal=signal.SIGINT)  # fmt: skip
    children = [registry]
    failed = False
    try:
        url = (await registry.start()).rsplit(" ", 1)[-1]  # "gee rpc registry on http://..."
        servers = {}
        for name in ("alpha", "beta"):
            child = Child(name, [python, "-m", "examples.rpc.server", "--name", name,
                                 "--registry", url])  # fmt: skip
            children.append(child)
            servers[name] = child
            await child.start()

        async def stop(name: str) -> None:
            status = await servers[name].stop()
            print(f"{name} exited with status {status}", flush=True)

        await demo(url, stop)
    except Exception as exc:
        print(f"demo failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        failed = True
    finally:
        for child in reversed(children):
            if child.process is None:
                continue
            status = await child.stop()
            print(f"{child.name} exited with status {status}", flush=True)
            failed = failed or status != 0
    print("demo failed" if failed else "all stopped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
