"""-MISCONF: with stop-writes-on-bgsave-error, a BGSAVE that really fails refuses writes (and
PING) until a save succeeds, byte for byte as redis-server in the same situation.

Tests run as root, so file permissions cannot make a save fail; a directory standing where
the snapshot's name is does: the final rename fails for both servers.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import launch_redis, stop_process

pytestmark = pytest.mark.redis


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[tuple[Differ, list[Path]]]:
    """A gee.kv and a redis-server with save points, each with a directory at dump.rdb."""
    dirs = [tmp_path / "gee", tmp_path / "redis"]
    for d in dirs:
        d.mkdir()
    gee = ThreadedServer(dir=str(dirs[0]), save="3600 1")
    redis = launch_redis(dirs[1], "--save", "3600 1")
    for d in dirs:  # after the start: both would refuse to load it
        (d / "dump.rdb").mkdir()
        (d / "dump.rdb" / "in-the-way").write_text("x")
    differ = Differ(gee.port, redis.port)
    try:
        yield differ, dirs
    finally:
        differ.close()
        assert redis.proc is not None
        stop_process(redis.proc)
        gee.stop()


def _wait_bgsave(port: int) -> str:
    client = RawClient(port)
    try:
        deadline = time.monotonic() + 20
        while True:
            text = client.call("INFO", "persistence").decode()
            if "rdb_bgsave_in_progress:0" in text:
                return text
            assert time.monotonic() < deadline, "BGSAVE never finished"
            time.sleep(0.05)
    finally:
        client.close()


def test_failed_bgsave_refuses_writes_until_a_save_succeeds(
    broken: tuple[Differ, list[Path]],
) -> None:
    diff, dirs = broken
    diff.call("CONFIG", "GET", "save")
    diff.call("SET", "a", 1)
    diff.call("MULTI", conn="tx")
    diff.call("SET", "x", 1, conn="tx")  # queued before the failure
    diff.call("BGSAVE")
    for port in (diff.kv_port, diff.redis_port):
        assert "rdb_last_bgsave_status:err" in _wait_bgsave(port)
    diff.call("EXEC", conn="tx")  # a queued write: the transaction is discarded
    diff.call("EXEC", conn="tx")
    diff.script(
        """
        set b 2
        get a
        ping
        del a
        incr a
        expire a 100
        echo hello
        exists a b
        multi
        get a
        set c 3
        exec
        multi
        get a
        exec
        config set stop-writes-on-bgsave-error no
        set b 2
        ping
        config set stop-writes-on-bgsave-error yes
        set b 3
        get b
        """
    )
    for d in dirs:
        shutil.rmtree(d / "dump.rdb")
    diff.call("SAVE")  # a good save lifts the refusal
    diff.script(
        """
        set b 4
        get b
        ping
        """
    )


def test_without_save_points_a_failed_bgsave_refuses_nothing(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path))  # save "" (Redis's saveparamslen == 0)
    (tmp_path / "dump.rdb").mkdir()
    (tmp_path / "dump.rdb" / "in-the-way").write_text("x")
    client = RawClient(server.port)
    try:
        assert client.call("BGSAVE") == b"+Background saving started\r\n"
        assert "rdb_last_bgsave_status:err" in _wait_bgsave(server.port)
        assert client.call("SET", "k", "v") == b"+OK\r\n"
        assert client.call("CONFIG", "SET", "save", "3600 1") == b"+OK\r\n"
        assert client.call("SET", "k", "v").startswith(b"-MISCONF Redis is configured to save")
        assert client.call("CONFIG", "SET", "save", "") == b"+OK\r\n"
        assert client.call("SET", "k", "v") == b"+OK\r\n"
    finally:
        client.close()
        server.stop()


def test_a_failed_aof_write_refuses_writes(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path), appendonly="yes", appendfsync="everysec")
    client = RawClient(server.port)
    aof = server.server.aof
    assert aof is not None
    saved = os.dup(aof.fd)
    try:
        assert client.call("SET", "k", "v") == b"+OK\r\n"
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, aof.fd)  # every write to the AOF now fails with ENOSPC
        os.close(full)
        client.call("SET", "k", "w")  # its write fails
        refused = client.call("SET", "k", "x")
        want = b"-MISCONF Errors writing to the AOF file: No space left on device\r\n"
        assert refused == want, f"got {refused!r}; want {want!r}"
        assert client.call("PING").startswith(b"-MISCONF")
        assert client.call("GET", "k") == b"$1\r\nw\r\n"  # reads go on
        os.dup2(saved, aof.fd)  # the disk has room again: the cron retries the write
        deadline = time.monotonic() + 5
        while client.call("PING") != b"+PONG\r\n":
            assert time.monotonic() < deadline, "writes still refused 5 s after the disk came back"
            time.sleep(0.05)
        assert client.call("SET", "k", "y") == b"+OK\r\n"
        logged = (tmp_path / "appendonly.aof").read_bytes()
        assert b"$1\r\nw\r\n" in logged, "the write that failed was not retried"
        assert logged.index(b"$1\r\nw\r\n") < logged.index(b"$1\r\ny\r\n"), "retried out of order"
    finally:
        os.dup2(saved, aof.fd)
        os.close(saved)
        client.close()
        server.stop()


def test_under_always_a_write_not_on_disk_is_not_acknowledged(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path), appendonly="yes", appendfsync="always")
    client = RawClient(server.port)
    aof = server.server.aof
    assert aof is not None
    saved = os.dup(aof.fd)
    try:
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, aof.fd)
        os.close(full)
        client.send("SET", "k", "held")
        client.sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            client.read()  # no +OK while the write is not in the file
        client.sock.settimeout(10)
        os.dup2(saved, aof.fd)
        assert client.read() == b"+OK\r\n"  # acknowledged once the retry wrote it
        assert b"$4\r\nheld\r\n" in (tmp_path / "appendonly.aof").read_bytes()
    finally:
        os.dup2(saved, aof.fd)
        os.close(saved)
        client.close()
        server.stop()
