"""Build ``groupcache_node.go`` offline, in GOPATH mode, against Debian's groupcache.

``golang-github-golang-groupcache-dev`` installs groupcache's source (and golang-protobuf's)
under ``/usr/share/gocode``; with ``GOPATH`` there and ``GO111MODULE=off`` the node builds with
no network, as ``tests/servers.py``'s ``GoBuilder`` does for the interop tests (copied rather than
imported, so that the benchmark does not import the test suite).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.rpc.golang import go_missing

__all__ = ["GOCODE", "SOURCE", "build_node", "groupcache_missing"]

SOURCE = Path(__file__).with_name("groupcache_node.go")
GOCODE = Path("/usr/share/gocode")
_GROUPCACHE = GOCODE / "src" / "github.com" / "golang" / "groupcache"


def groupcache_missing() -> str | None:
    """Why the Go node cannot be built here, or None if it can."""
    reason = go_missing()
    if reason is not None:
        return reason
    if not _GROUPCACHE.is_dir():
        package = "golang-github-golang-groupcache-dev"
        return f"no groupcache source in {_GROUPCACHE} (apt-get install {package})"
    return None


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env.update(GOCACHE=str(base / "gee-bench" / "go-build"), GOPROXY="off", GOENV="off")
    if not (shutil.which("gcc") or shutil.which("cc")):
        env["CGO_ENABLED"] = "0"  # net needs a C compiler for cgo; without one, cgo off
    env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GONOSUMDB="*", GOFLAGS="")
    env.update(GOPATH=str(GOCODE), GO111MODULE="off")
    return env


def build_node(workdir: Path) -> Path:
    """Build the node under ``workdir``; return the binary. Raises RuntimeError on failure."""
    src = workdir / "src"
    src.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, src / "main.go")
    binary = workdir / "groupcache-node"
    done = subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=src,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"go build failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return binary
