"""A throwaway PostgreSQL 15 cluster for the benchmark: initdb in a temp dir, a free port, stopped
and deleted at the end.

The recipe is tests/servers.py's (which the benchmark cannot import: it needs pytest): initdb and
postgres refuse to run as root, so as root both run as the ``postgres`` user (through
``runuser``); the data dir is owned by it, mode 700; the server listens on 127.0.0.1 only,
trusts local connections and does not fsync (the same settings for every library measured).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import Server, ServerError, free_port

__all__ = ["PG_BIN", "postgres"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "autovacuum=off",  # no background work in the middle of a timed operation
)


def _as_postgres() -> list[str]:
    """The argv prefix that runs a command as ``postgres`` when we are root; empty otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerError("running as root and there is no postgres user for initdb") from None
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", "postgres", "--"]


def _answers(dsn: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


@contextmanager
def postgres() -> Iterator[str]:
    """Start a fresh cluster; yield its DSN (user ``postgres``, no password); stop and delete it.

    Raises ``ServerError`` (with initdb's or the server's output) if it cannot start.
    """
    initdb = PG_BIN / "initdb"
    if not initdb.exists():
        raise ServerError(f"{initdb} not found: apt-get install postgresql")
    prefix = _as_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="gee-bench-pg-"))
    try:
        if prefix:
            shutil.chown(workdir, "postgres", "postgres")
        workdir.chmod(0o700)
        data = workdir / "data"
        argv = [*prefix, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust"]
        argv += ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        done = subprocess.run(
            argv,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise ServerError(f"initdb failed ({done.returncode}): {done.stdout}{done.stderr}")
        port = free_port()
        argv = [*prefix, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port)]
        argv += ["-k", str(workdir)]
        for setting in SETTINGS:
            argv += ["-c", setting]
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with Server(argv, cwd=workdir) as server:
            server.wait_until(lambda: _answers(dsn), timeout=60)
            yield dsn
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
