"""Real ``gee cache`` processes for tests: start, stop, restart, and read their logs."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gee.cache.demo import Score, open_scores
from tests.servers import free_ports, port_open, start_process, stop_process, wait_for


@dataclass
class CacheNode:
    """One ``gee cache`` process: its peer URL, front API URL, ports, command line and log."""

    url: str
    api: str
    port: int
    api_port: int
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, workdir: Path) -> None:
        """Start (or restart) the node's process and wait until both its ports answer."""
        self.proc = proc = start_process(self.argv, workdir, self.log)

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"gee cache exited:\n{self.log.read_text()}")
            return port_open(self.port) and port_open(self.api_port)

        wait_for(up, what="gee cache")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop_process(self.proc, sig=sig)
            self.proc = None


def make_cluster(tmp_path: Path, *extra: str) -> list[CacheNode]:
    """Three ``gee cache`` nodes that know each other, each with a front API port (not started)."""
    ports = free_ports(6)
    urls = [f"http://127.0.0.1:{p}" for p in ports[:3]]
    nodes = []
    for url, port, api_port in zip(urls, ports[:3], ports[3:], strict=True):
        argv = [sys.executable, "-m", "gee", "cache", "--port", str(port), "--self", url]
        argv += ["--peers", ",".join(urls), "--api-port", str(api_port), *extra]
        api = f"http://127.0.0.1:{api_port}"
        nodes.append(CacheNode(url, api, port, api_port, argv, tmp_path / f"node-{port}.log"))
    return nodes


def etcd_cluster(tmp_path: Path, etcd: str, prefix: str, db: Path, ttl: int = 2) -> list[CacheNode]:
    """Three ``gee cache`` nodes that find each other in etcd under ``prefix`` (not started)."""
    ports = free_ports(6)
    nodes = []
    for port, api_port in zip(ports[:3], ports[3:], strict=True):
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "gee", "cache", "--port", str(port), "--self", url]
        argv += ["--api-port", str(api_port), "--db", str(db)]
        argv += ["--etcd", etcd, "--etcd-prefix", prefix, "--etcd-ttl", str(ttl)]
        api = f"http://127.0.0.1:{api_port}"
        nodes.append(CacheNode(url, api, port, api_port, argv, tmp_path / f"node-{port}.log"))
    return nodes


def slow_db_loads(nodes: list[CacheNode], key: str) -> int:
    """How many times the nodes' logs say the slow database searched for ``key``."""
    return sum(n.log.read_text().count(f"[SlowDB] search key {key}\n") for n in nodes)


def write_scores(path: Path, table: dict[str, int]) -> None:
    """Create the SQLite file ``gee cache --db`` reads, holding ``table`` (and the seed rows)."""
    engine = open_scores(path)
    with engine.transaction() as s:
        s.insert_many(Score(name=name, score=score) for name, score in table.items())
    engine.close()
