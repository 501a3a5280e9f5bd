"""Snapshots of a running server: SAVE and load on start, and RDB interchange with the real
redis-server in both directions, compared by a full dump of every key, type, value and TTL."""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.kv.persist import rdb
from tests.kv.conftest import ThreadedServer
from tests.kv.persist.dataset import call, encodings, full_dump, populate
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer, free_port, launch_redis, stop_process

# -- interchange with redis-server ------------------------------------------------------------


@pytest.fixture
def redis_dir(tmp_path: Path) -> Path:
    path = tmp_path / "redis"
    path.mkdir()
    return path


@contextlib.contextmanager
def _redis(workdir: Path, *extra: str) -> Iterator[RunningServer]:
    server = launch_redis(workdir, *extra)
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)


def _gee(workdir: Path, **options: str) -> ThreadedServer:
    return ThreadedServer(dir=str(workdir), **options)


WANT_ENCODINGS = {
    b"int",
    b"embstr",
    b"raw",
    b"quicklist",
    b"listpack",
    b"hashtable",
    b"intset",
    b"skiplist",
}


@pytest.mark.redis
def test_redis_dump_loads_in_gee(tmp_path: Path, redis_dir: Path) -> None:
    with _redis(redis_dir) as redis:
        client = RawClient(redis.port)
        try:
            populate(client)
            assert call(client, "SAVE") == b"OK"
        finally:
            client.close()
        assert encodings(redis.port) >= WANT_ENCODINGS
        want = full_dump(redis.port)
    gee_dir = tmp_path / "gee"
    gee_dir.mkdir()
    shutil.copy(redis_dir / "dump.rdb", gee_dir / "dump.rdb")
    gee = _gee(gee_dir)
    try:
        got = full_dump(gee.port)
        assert encodings(gee.port) >= WANT_ENCODINGS
    finally:
        gee.stop()
    assert len(want) == 30, sorted(want)
    assert got == want


@pytest.mark.redis
@pytest.mark.parametrize(("compression", "checksum"), [("yes", "yes"), ("no", "no")])
def test_gee_dump_loads_in_redis(
    tmp_path: Path, redis_dir: Path, compression: str, checksum: str
) -> None:
    gee = _gee(tmp_path, rdbcompression=compression, rdbchecksum=checksum)
    try:
        client = RawClient(gee.port)
        try:
            populate(client)
            assert call(client, "SAVE") == b"OK"
        finally:
            client.close()
        want = full_dump(gee.port)
    finally:
        gee.stop()
    shutil.copy(tmp_path / "dump.rdb", redis_dir / "dump.rdb")
    with _redis(redis_dir) as redis:
        got = full_dump(redis.port)
        assert encodings(redis.port) >= WANT_ENCODINGS
    assert len(want) == 30, sorted(want)
    assert got == want


# -- SAVE, BGSAVE, save points, INFO ----------------------------------------------------------


def _info(client: RawClient) -> dict[str, str]:
    text = call(client, "INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _wait_bgsave(client: RawClient, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _info(client)
        if info["rdb_bgsave_in_progress"] == "0":
            return info
        time.sleep(0.02)
    raise AssertionError("BGSAVE did not finish")


@pytest.fixture
def gee(tmp_path: Path) -> Iterator[ThreadedServer]:
    server = ThreadedServer(dir=str(tmp_path))
    try:
        yield server
    finally:
        server.stop()


def test_save_lastsave_and_info(gee: ThreadedServer, tmp_path: Path) -> None:
    client = RawClient(gee.port)
    try:
        before = call(client, "LASTSAVE")
        call(client, "SET", "a", "1")
        call(client, "SET", "b", "2")
        assert _info(client)["rdb_changes_since_last_save"] == "2"
        time.sleep(1.01)
        assert call(client, "SAVE") == b"OK"
        info = _info(client)
        assert info["rdb_changes_since_last_save"] == "0"
        assert int(info["rdb_last_save_time"]) == call(client, "LASTSAVE") > before
        keys = {e.key for e in rdb.load((tmp_path / "dump.rdb").read_bytes()).entries}
        assert keys == {b"a", b"b"}
        assert not list(tmp_path.glob("temp-*.rdb"))
    finally:
        client.close()


@pytest.mark.parametrize("schedule", [False, True])
def test_bgsave_snapshots_the_fork_while_serving(
    tmp_path: Path, gee: ThreadedServer, schedule: bool
) -> None:
    client = RawClient(gee.port)
    try:
        populate(client)
        client.pipeline([["SET", f"key:{i}", "v" * (i % 50)] for i in range(20000)])
        want = full_dump(gee.port)
        args = ["BGSAVE", "SCHEDULE"] if schedule else ["BGSAVE"]
        assert call(client, *args) == b"Background saving started"
        # the parent keeps serving while the child writes; these writes are after the fork
        for i in range(200):
            assert call(client, "SET", f"after:{i}", i) == b"OK"
        info = _wait_bgsave(client)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == "200"
    finally:
        client.close()
    second = ThreadedServer(dir=str(tmp_path))
    try:
        got = full_dump(second.port)
    finally:
        second.stop()
    assert got == want


def test_bgsave_refuses_a_second_one(gee: ThreadedServer) -> None:
    client = RawClient(gee.port)
    try:
        client.pipeline([["SET", f"key:{i}", "v" * 100] for i in range(50000)])
        replies = client.pipeline([["BGSAVE"], ["BGSAVE"], ["SAVE"], ["BGSAVE", "NOW"]])
        assert replies[0] == b"+Background saving started\r\n"
        assert replies[1] == b"-ERR Background save already in progress\r\n"
        assert replies[2] == b"-ERR Background save already in progress\r\n"
        assert replies[3] == b"-ERR syntax error\r\n"
        _wait_bgsave(client)
    finally:
        client.close()


def test_save_point_fires(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path), save="1 1")
    client = RawClient(server.port)
    try:
        call(client, "SET", "k", "v")
        deadline = time.monotonic() + 10
        while not (tmp_path / "dump.rdb").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = _wait_bgsave(client)
        assert info["rdb_changes_since_last_save"] == "0"
        assert [e.key for e in rdb.load((tmp_path / "dump.rdb").read_bytes()).entries] == [b"k"]
    finally:
        client.close()
        server.stop()


# -- the process: shutdown, signals, a damaged file -------------------------------------------


def _start(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    log = open(tmp_path / "gee.log", "ab")  # noqa: SIM115  (the child holds it; closed below)
    try:
        proc = subprocess.Popen([*argv, "--dir", str(tmp_path), *flags], stdout=log, stderr=log)
    finally:
        log.close()
    return proc, port


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gee kv exited with {proc.returncode}")
        try:
            RawClient(port, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("gee kv did not start")


@contextlib.contextmanager
def _process(tmp_path: Path, *flags: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    proc, port = _start(tmp_path, *flags)
    try:
        _wait_ready(proc, port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("save", "how", "saved"),
    [
        ("3600 1", "SIGTERM", True),
        ("", "SIGTERM", False),
        ("3600 1", "SHUTDOWN", True),
        ("3600 1", "SHUTDOWN NOSAVE", False),
        ("", "SHUTDOWN SAVE", True),
    ],
)
def test_shutdown_saves_as_configured(tmp_path: Path, save: str, how: str, saved: bool) -> None:
    with _process(tmp_path, "--save", save) as (proc, port):
        client = RawClient(port)
        call(client, "SET", "k", "v")
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            client.send(*how.split())
            assert client.read_closed(5) == b""
        client.close()
        assert proc.wait(10) == 0
    assert (tmp_path / "dump.rdb").exists() == saved
    if saved:
        with _process(tmp_path, "--save", "") as (proc, port):
            client = RawClient(port)
            assert call(client, "GET", "k") == b"v"
            client.close()


def test_a_flipped_byte_refuses_to_start(tmp_path: Path) -> None:
    f = io.BytesIO()
    rdb.dump(f, [(0, {b"key%d" % i: b"value" * 10 for i in range(20)}, {})])
    data = bytearray(f.getvalue())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "dump.rdb").write_bytes(bytes(data))
    proc, _ = _start(tmp_path, "--save", "")
    assert proc.wait(20) == 1
    log = (tmp_path / "gee.log").read_text()
    assert "Bad RDB file" in log, log
    assert "checksum mismatch" in log, log


def test_flushall_saves_the_empty_dataset_when_save_points_are_set(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path), save="3600 1")
    client = RawClient(server.port)
    try:
        call(client, "SET", "k", "v")
        assert call(client, "SAVE") == b"OK"
        assert call(client, "FLUSHALL") == b"OK"
        assert rdb.load((tmp_path / "dump.rdb").read_bytes()).entries == []
        assert _info(client)["rdb_changes_since_last_save"] == "0"  # as redis-server 7.0
    finally:
        client.close()
        server.stop()
