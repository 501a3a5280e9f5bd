"""examples/rpc end to end: ``python -m examples.rpc`` as a user runs it, output checked.

The command starts gee's registry and two servers as processes, runs the client and stops them
all; here it must exit 0, print nothing on stderr (no logged warnings, no leaked long-polls
complaining when the registry goes), and say what docs/rpc.md promises line by line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = r"tcp@127\.0\.0\.1:\d+"


@pytest.mark.slow
def test_one_command_runs_the_registry_two_servers_and_the_client() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.rpc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out}\n{done.stderr}"
    assert done.stderr == ""
    lines = out.splitlines()

    assert re.fullmatch(
        r"\[registry\] gee rpc registry on http://127\.0\.0\.1:\d+/_geerpc_/registry", lines[0]
    )
    servers = {}
    for name in ("alpha", "beta"):
        line = next(x for x in lines if x.startswith(f"[{name}] serving"))
        match = re.fullmatch(rf"\[{name}\] serving Arith, Host on ({ADDRESS})", line)
        assert match, line
        servers[name] = match.group(1)
    assert f"registry lists 2 servers: {', '.join(sorted(servers.values()))}" in lines

    assert "Arith.Multiply(7, 8) = 56" in lines
    assert "Arith.Divide(17, 5) = Quotient(Quo=3, Rem=2)" in lines
    assert "Arith.Divide(1, 0) failed: divide by zero" in lines
    round_robin = next(x for x in lines if x.startswith("round robin, Host.Name four times: "))
    names = round_robin.split(": ", 1)[1].split(", ")
    assert sorted(names) == ["alpha", "alpha", "beta", "beta"]
    assert names[0] != names[1], "round robin alternates"
    assert "broadcast Host.Name: alpha, beta" in lines
    hashed = next(x for x in lines if x.startswith("consistent hash, three calls per key: "))
    owners = re.findall(r"user:\d -> (\w+)", hashed)
    assert len(owners) == 4
    assert set(owners) <= {"alpha", "beta"}, "each key's three calls went to one server"
    assert "p2c, 200 concurrent Arith.Multiply calls: all right" in lines

    # beta stops midway: it deregisters, the registry's long-poll tells the client at once
    assert lines.index("[beta] deregistered and stopped") < lines.index("beta exited with status 0")
    assert f"registry lists 1 server: {servers['alpha']}" in lines
    assert "round robin after beta left: alpha, alpha, alpha" in lines
    assert lines[-4:] == [
        "[alpha] deregistered and stopped",
        "alpha exited with status 0",
        "registry exited with status 0",
        "all stopped",
    ]
