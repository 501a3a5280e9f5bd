"""Build ``netrpc.go`` (Go's net/rpc server and client) offline with Debian's golang-go.

The environment is the one ``tests/servers.py``'s ``GoBuilder`` uses for module mode (standard
library only, no proxy, no toolchain download), copied rather than imported so that the
benchmark does not import the test suite (and pytest with it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["SOURCE", "build_netrpc", "go_missing"]

SOURCE = Path(__file__).with_name("netrpc.go")


def go_missing() -> str | None:
    """Why Go's side cannot run here, or None if it can."""
    if shutil.which("go") is None:
        return "go is not on PATH (Debian: apt-get install golang-go)"
    return None


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env.update(GOCACHE=str(base / "gee-bench" / "go-build"), GOPROXY="off", GOENV="off")
    if not (shutil.which("gcc") or shutil.which("cc")):
        env["CGO_ENABLED"] = "0"  # net needs a C compiler for cgo; without one, cgo off
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GONOSUMDB="*")
    env.update(GOPATH=str(workdir / "gopath"), GO111MODULE="on", GOFLAGS="-mod=mod")
    return env


def build_netrpc(workdir: Path) -> Path:
    """Build the program under ``workdir``; return the binary. Raises RuntimeError on failure."""
    src = workdir / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text("module netrpc\n\ngo 1.19\n", encoding="utf-8")
    shutil.copyfile(SOURCE, src / "main.go")
    binary = workdir / "netrpc"
    done = subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=src,
        env=_env(workdir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"go build failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return binary
