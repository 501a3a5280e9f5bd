"""Memory: a server's resident set after loading many small keys, beside redis-server's.

Each data set goes into a fresh server with ``redis-cli --pipe`` (Redis's mass-insertion path);
the server must then hold exactly the keys sent (DBSIZE), and its RSS is read from /proc.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import Result, ServerError, Table
from bench.kv.servers import (
    GEE,
    REDIS,
    Subject,
    ask,
    missing,
    pid_of,
    pipe,
    resp_command,
    serve,
)

__all__ = ["FIELDS_PER_HASH", "Dataset", "datasets", "rss_mib", "run"]

FIELDS_PER_HASH = 1000
PAIRS_PER_HSET = 100


@dataclass(frozen=True)
class Dataset:
    """``count`` small string keys (``SET key:<i> val:<i>``), or ``count`` hash fields in hashes
    of FIELDS_PER_HASH fields (``HSET hash:<h> field:<j> val:<i> ...``, PAIRS_PER_HSET fields
    a command)."""

    kind: str  # "string keys" or "hash fields"
    count: int

    @property
    def name(self) -> str:
        size = f"{self.count // 1_000_000}M" if self.count >= 1_000_000 else f"{self.count:,}"
        return f"{size} {self.kind}"

    @property
    def keys(self) -> int:
        """What DBSIZE must answer once it is loaded."""
        if self.kind == "string keys":
            return self.count
        return -(-self.count // FIELDS_PER_HASH)

    def commands(self) -> tuple[bytes, int]:
        """The RESP stream that loads it, and how many commands (replies) that is."""
        if self.kind == "string keys":
            stream = b"".join(
                resp_command("SET", f"key:{i}", f"val:{i}") for i in range(self.count)
            )
            return stream, self.count
        parts = []
        for start in range(0, self.count, PAIRS_PER_HSET):
            args = [f"hash:{start // FIELDS_PER_HASH}"]
            for i in range(start, min(start + PAIRS_PER_HSET, self.count)):
                args += [f"field:{i % FIELDS_PER_HASH}", f"val:{i}"]
            parts.append(resp_command("HSET", *args))
        return b"".join(parts), len(parts)


def datasets(quick: bool) -> list[Dataset]:
    count = 10_000 if quick else 1_000_000
    return [Dataset("string keys", count), Dataset("hash fields", count)]


def rss_mib(pid: int) -> float:
    """A process's resident set size in MiB (reads /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ServerError(f"no VmRSS in /proc/{pid}/status")


def load(port: int, dataset: Dataset) -> None:
    """Send ``dataset`` with ``redis-cli --pipe``; raise ServerError unless every reply came back
    without error and DBSIZE then counts its keys."""
    stream, commands = dataset.commands()
    with tempfile.TemporaryFile() as data:
        data.write(stream)
        data.seek(0)
        done = pipe(port, data, timeout=60 + commands / 2000)
    said = " ".join((done.stdout + done.stderr).split())
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        said = f"{said} (redis-cli killed by {name}: the server closed the connection)"
    if done.returncode != 0 or f"errors: 0, replies: {commands}" not in said:
        raise ServerError(f"redis-cli --pipe (status {done.returncode}): {said[-300:]}")
    ask(port, resp_command("DBSIZE"), b":%d\r\n" % dataset.keys)


def measure(subject: Subject, dataset: Dataset) -> Result:
    """Load ``dataset`` into a fresh ``subject``; its RSS before and after."""
    result = Result(subject.name, dataset.name)
    reason = missing(subject)
    if reason is not None:
        result.status, result.detail = "unavailable", reason
        return result
    try:
        with serve(subject) as (server, port):
            empty = rss_mib(pid_of(server))
            load(port, dataset)
            loaded = rss_mib(pid_of(server))
    except (ServerError, OSError, subprocess.TimeoutExpired) as exc:
        result.status, result.detail = "failed", " ".join(str(exc).split())
        return result
    result.value, result.extra = loaded, {"empty MiB": empty}
    return result


def run(quick: bool) -> Table:
    """RSS of redis-server and gee.kv, each loaded with each data set in a fresh process."""
    if shutil.which("redis-cli") is None:
        raise SystemExit("redis-cli is not installed (Debian: apt-get install redis-tools)")
    table = Table(
        title="Memory: RSS after loading small keys with redis-cli --pipe (lower is better)",
        unit="RSS MiB",
        higher_is_better=False,
        subject_label="server",
        case_label="data",
        extra_columns=["empty MiB"],
        baseline=REDIS.name,
        ours=GEE.name,
        peers=[REDIS.name],
    )
    for dataset in datasets(quick):
        for subject in (REDIS, GEE):
            result = measure(subject, dataset)
            shown = f"{result.value:,.0f} MiB" if result.value is not None else result.status
            print(f"  {subject.name:<12} {dataset.name:<18} {shown}", flush=True)
            table.results.append(result)
    return table
