"""Config parsing (redis.conf syntax, refusals), the ``gee kv`` CLI, and the public API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gee.kv
from gee.kv import Config, ConfigError
from tests.kv.resp_client import RawClient
from tests.servers import free_port, wait_for


def test_public_api_is_pinned() -> None:
    assert gee.kv.__all__ == sorted(gee.kv.__all__)
    assert gee.kv.__all__ == [
        "Client",
        "CommandError",
        "Config",
        "ConfigError",
        "KVError",
        "Server",
        "run",
    ]


def test_redis_conf_lines_are_read() -> None:
    config = Config()
    config.load_text(
        """
        # comment
        port 7000
        bind 127.0.0.1 ::1
        requirepass "s3cret pw"
        maxmemory 1mb
        save ""
        save 900 1 300 10
        appendonly yes
        client-output-buffer-limit pubsub 64mb 16mb 60
        hash-max-ziplist-entries 100
        """
    )
    assert config.port == 7000
    assert config.bind == ["127.0.0.1", "::1"]
    assert config.requirepass == "s3cret pw"
    assert config.values["maxmemory"] == str(1024 * 1024)
    assert config.values["save"] == "900 1 300 10"
    assert config.values["hash-max-listpack-entries"] == "100"
    assert config.pubsub_limits() == (64 * 1024 * 1024, 16 * 1024 * 1024, 60)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nosuchoption yes", "Bad directive"),
        ("port", "Bad directive"),
        ("port 1 2", "Bad directive"),
        ("port abc", "integer"),
        ("appendonly maybe", "'yes' or 'no'"),
        ('requirepass "unbalanced', "Unbalanced quotes"),
    ],
)
def test_bad_lines_are_refused_with_the_line(line: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config().load_text(f"port 6000\n{line}\n", "test.conf")
    message = str(info.value)
    assert f">>> '{line}'" in message, f"got {message!r}; want the line quoted"
    assert "line 2" in message
    assert reason in message


def test_gee_kv_cli_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "gee-kv.conf"
    conf.write_text("databases 4\nrequirepass pw\n")
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(tmp_path / "data"), "--config", str(conf)]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _answers(port), what="gee kv")
        client = RawClient(port)
        assert client.call("ping").startswith(b"-NOAUTH")
        assert client.call("auth", "pw") == b"+OK\r\n"
        assert client.call("select", "4") == b"-ERR DB index is out of range\r\n"
        client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert proc.stdout is not None
        log = proc.stdout.read().decode()
        proc.stdout.close()
        assert f"Ready to accept connections on port {port}" in log
        assert "ready to exit" in log
        assert (tmp_path / "data").is_dir()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.stdout.close()


def _answers(port: int) -> bool:
    try:
        client = RawClient(port, timeout=1)
    except OSError:
        return False
    client.close()
    return True


def test_gee_kv_cli_refuses_bad_config(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("port 1234\nfrobnicate 1\n")
    done = subprocess.run(
        [sys.executable, "-m", "gee", "kv", "--config", str(conf)],
        capture_output=True,
        timeout=20,
        env={**os.environ},
    )
    assert done.returncode == 1
    assert b">>> 'frobnicate 1'" in done.stderr


def test_config_get_set_over_the_wire(kv: RawClient) -> None:
    assert kv.call("config", "set", "hz", "20") == b"+OK\r\n"
    assert kv.call("config", "get", "hz") == b"*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    assert kv.call("config", "set", "hz", "10") == b"+OK\r\n"
    assert kv.call("config", "set", "databases", "3").startswith(b"-ERR CONFIG SET failed")
    time.sleep(0)


def test_idle_clients_are_closed_after_timeout() -> None:
    from tests.kv.conftest import ThreadedServer

    server = ThreadedServer(timeout="1")
    try:
        idle = RawClient(server.port)
        assert idle.call("ping") == b"+PONG\r\n"
        subscriber = RawClient(server.port)
        subscriber.call("subscribe", "ch")
        assert idle.read_closed(timeout=5) == b""
        assert subscriber.call("ping") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        idle.close()
        subscriber.close()
    finally:
        server.stop()


def test_shutdown_command_stops_the_server() -> None:
    from tests.kv.conftest import ThreadedServer

    server = ThreadedServer()
    client = RawClient(server.port)
    client.send("shutdown", "nosave")
    assert client.read_closed(timeout=5) == b""
    client.close()
    server.thread.join(5)
    assert not server.thread.is_alive()
    server.server.log_file.close()


def test_gee_kv_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen(
        [*argv, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _answers(port), what="gee kv")
        client = RawClient(port)
        client.send("blpop", "q", "0")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


DEBIAN_REDIS_CONF = Path("/etc/redis/redis.conf")


@pytest.mark.redis
def test_debians_stock_redis_conf_loads() -> None:
    # The file the redis-server package ships: every directive in it is Redis 7.0's own.
    assert DEBIAN_REDIS_CONF.exists(), "redis-server's package ships /etc/redis/redis.conf"
    config = Config()
    config.load_file(DEBIAN_REDIS_CONF)
    assert config.port == 6379
    assert config.values["databases"] == "16"
    ignored = " ".join(config.ignored)
    for name in ("always-show-logo", "replica-read-only", "stream-node-max-bytes"):
        assert name in ignored, f"{name} should be accepted and listed as ignored"


def test_known_redis_directive_is_ignored_but_unknown_is_refused() -> None:
    config = Config()
    config.load_text("tls-port 0\nrepl-timeout 60\n", "test.conf")
    assert config.ignored == ["test.conf:1: tls-port 0", "test.conf:2: repl-timeout 60"]
    with pytest.raises(ConfigError, match="no-such-directive"):
        Config().load_text("no-such-directive yes\n", "test.conf")
