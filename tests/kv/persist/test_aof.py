"""The append-only file: deterministic rewriting, replay, a truncated tail, damage in the middle,
and kill -9 under a steady write load."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.kv import Config, Server
from gee.kv.commands import load_all
from gee.kv.errors import AOFError
from gee.kv.keyspace import Keyspace
from gee.kv.persist.aof import AOF, effect, replay
from gee.kv.persist.rdb import dump_payload
from gee.kv.resp import encode_command
from tests.kv.conftest import ThreadedServer
from tests.kv.persist.dataset import call, full_dump, populate
from tests.kv.resp_client import RawClient
from tests.servers import free_port, launch_redis, stop_process

FAR = 4_000_000_000_000


def _db() -> Keyspace:
    keyspace = Keyspace(16)
    db = keyspace.dbs[0]
    db.data[b"k"] = b"v"
    db.set_expire(b"k", FAR)
    db.data[b"plain"] = b"v"
    db.data[b"s"] = {b"a"}
    return keyspace


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        ([b"EXPIRE", b"k", b"100"], [[b"PEXPIREAT", b"k", b"%d" % FAR]]),
        ([b"expire", b"gone", b"-1"], [[b"DEL", b"gone"]]),
        ([b"SETEX", b"k", b"10", b"v"], [[b"SET", b"k", b"v", b"PXAT", b"%d" % FAR]]),
        (
            [b"SET", b"k", b"v", b"NX", b"EX", b"9"],
            [[b"SET", b"k", b"v", b"NX", b"PXAT", b"%d" % FAR]],
        ),
        ([b"SET", b"plain", b"v", b"XX"], [[b"SET", b"plain", b"v", b"XX"]]),
        ([b"GETEX", b"plain", b"PERSIST"], [[b"PERSIST", b"plain"]]),
        ([b"SPOP", b"s"], [[b"RESTORE", b"s", b"0", dump_payload({b"a"}, False), b"REPLACE"]]),
        ([b"SPOP", b"empty"], [[b"DEL", b"empty"]]),
        ([b"LPUSH", b"l", b"x"], [[b"LPUSH", b"l", b"x"]]),
    ],
)
def test_effect_is_deterministic(argv: list[bytes], want: list[list[bytes]]) -> None:
    got = effect(_db().dbs[0], argv)
    assert got == want, f"got {got!r}; want {want!r}"


def _aof_server(path: Path, policy: str = "always") -> ThreadedServer:
    return ThreadedServer(dir=str(path), appendonly="yes", appendfsync=policy)


def test_dataset_survives_restart_through_the_aof(tmp_path: Path) -> None:
    server = _aof_server(tmp_path, "everysec")
    try:
        client = RawClient(server.port)
        waiter = RawClient(server.port)
        try:
            populate(client)
            waiter.send("BLPOP", "queue", "0")
            time.sleep(0.1)
            script = [
                ["SADD", "pop", *range(50)],
                ["SPOP", "pop", "5"],
                ["INCRBYFLOAT", "f", "0.1"],
                ["INCRBYFLOAT", "f", "0.2"],
                ["EXPIRE", "s:embstr", "1000"],
                ["SET", "gone", "x", "PX", "1"],
                ["MULTI"],
                ["INCR", "counter"],
                ["RPUSH", "queue", "first", "second"],
                ["EXEC"],
                ["SELECT", "5"],
                ["SETEX", "ttl", "100", "v"],
                ["SELECT", "0"],
            ]
            for cmd in script:
                assert call(client, *cmd).__class__.__name__ != "ReplyError", cmd
            assert waiter.read() == b"*2\r\n$5\r\nqueue\r\n$5\r\nfirst\r\n"
            time.sleep(0.05)
            assert call(client, "GET", "gone") is None
            want = full_dump(server.port)
        finally:
            client.close()
            waiter.close()
    finally:
        server.stop()
    again = _aof_server(tmp_path)
    try:
        got = full_dump(again.port)
    finally:
        again.stop()
    assert len(got) > 30
    assert got == want


def test_rdb_content_becomes_the_aof_base(tmp_path: Path) -> None:
    server = ThreadedServer(dir=str(tmp_path))
    try:
        client = RawClient(server.port)
        populate(client)
        assert call(client, "SAVE") == b"OK"
        client.close()
        want = full_dump(server.port)
    finally:
        server.stop()
    for _ in range(2):  # first start: from the RDB into a new AOF; second: from the AOF
        again = _aof_server(tmp_path)
        try:
            got = full_dump(again.port)
        finally:
            again.stop()
        assert got == want
        assert (tmp_path / "appendonly.aof").exists()


def test_truncated_tail_loads_the_prefix(tmp_path: Path) -> None:
    server = _aof_server(tmp_path)
    try:
        client = RawClient(server.port)
        call(client, "SET", "a", "1")
        call(client, "SET", "b", "2")
        client.close()
    finally:
        server.stop()
    aof = tmp_path / "appendonly.aof"
    whole = aof.stat().st_size
    with aof.open("ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1")
    again = _aof_server(tmp_path)
    try:
        client = RawClient(again.port)
        assert call(client, "MGET", "a", "b", "c") == [b"1", b"2", None]
        client.close()
    finally:
        again.stop()
    assert aof.stat().st_size == whole


@pytest.mark.parametrize(
    "argv",
    [
        [b"SET", b"k", b"v"],
        [b"set", b"k", b"v", b"EX", b"100"],
        [b"Set", b"plain", b"v", b"XX"],
        [b"LPUSH", b"l", b"x"],
        [b"hset", b"h", b"f", b"v"],
        [b"HSET", b"h", b"f", b"v", b"g", b"w"],
        [b"DEL", b"k"],
        [b"FLUSHALL"],
        [b"EXPIRE", b"k", b"100"],
        [b"expire", b"gone", b"-1"],
        [b"SPOP", b"s"],
        [b"MULTI"],
        [b"EXEC"],
    ],
)
def test_propagate_appends_the_effect_in_resp(tmp_path: Path, argv: list[bytes]) -> None:
    load_all()
    server = Server(Config({"port": "0", "dir": str(tmp_path), "save": ""}))
    server.keyspace = _db()
    aof = AOF(server, tmp_path / "appendonly.aof")
    try:
        aof.scheduled = True  # no loop here to schedule the commit on
        aof.db = 0
        aof.propagate(0, argv)
        want = b"".join(encode_command(e) for e in effect(server.keyspace.dbs[0], argv))
        assert bytes(aof.buf) == want, f"got {bytes(aof.buf)!r}; want {want!r}"
        aof.propagate(0, [b"GET", b"k"])  # a read (that expired a key): nothing appended
        aof.propagate(3, [b"INCR", b"n"])
        assert bytes(aof.buf) == want + encode_command([b"SELECT", b"3"]) + encode_command(
            [b"INCR", b"n"]
        )
    finally:
        aof.buf.clear()
        aof.close()


# A file longer than the chunks replay feeds its reader (64 KiB), so the cuts below fall in a
# later chunk than the first.
_MANY = b"".join(encode_command([b"SET", b"key:%d" % i, b"v" * 20]) for i in range(3000))
_LAST = encode_command([b"RPUSH", b"list", b"a", b"bb" * 40])


def _replay(tmp_path: Path, content: bytes) -> tuple[int, Server]:
    aof = tmp_path / "appendonly.aof"
    aof.write_bytes(content)
    server = Server(Config({"port": "0", "dir": str(tmp_path), "save": ""}))
    return replay(server, aof), server


@pytest.mark.parametrize("cut", range(1, len(_LAST)))
def test_replay_truncates_a_tail_cut_anywhere(tmp_path: Path, cut: int) -> None:
    count, server = _replay(tmp_path, _MANY + _LAST[:cut])
    assert count == 3000, f"got {count} commands; want 3000"
    assert len(server.keyspace.dbs[0].data) == 3000
    size = (tmp_path / "appendonly.aof").stat().st_size
    assert size == len(_MANY), f"got a file of {size} bytes; want {len(_MANY)}"


def test_replay_of_a_whole_file_keeps_it(tmp_path: Path) -> None:
    count, server = _replay(tmp_path, _MANY + _LAST)
    assert count == 3001
    assert len(server.keyspace.dbs[0].data[b"list"]) == 2
    assert (tmp_path / "appendonly.aof").stat().st_size == len(_MANY + _LAST)


def test_replay_runs_transactions_and_skips_failing_commands(tmp_path: Path) -> None:
    commands = [
        [b"SET", b"a", b"x"],
        [b"INCR", b"a"],  # fails (not an integer): skipped, as Redis's loader does
        [b"GET"],  # wrong argument count: the dispatcher rejects it
        [b"MULTI"],
        [b"SET", b"b", b"1"],
        [b"INCR", b"b"],
        [b"EXEC"],
        [b"SELECT", b"2"],
        [b"RPUSH", b"l", b"p", b"q"],
    ]
    count, server = _replay(tmp_path, b"".join(map(encode_command, commands)))
    assert count == len(commands)
    dbs = server.keyspace.dbs
    assert (dbs[0].data[b"a"], dbs[0].data[b"b"]) == (b"x", b"2")
    assert len(dbs[2].data[b"l"]) == 2


def test_replay_refuses_an_unknown_command(tmp_path: Path) -> None:
    with pytest.raises(AOFError, match="Unknown command 'NOSUCH'"):
        _replay(tmp_path, encode_command([b"NOSUCH", b"x"]))


@pytest.mark.parametrize(
    "bad", [b"garbage\r\n", b"*1\r\n:5\r\n", b"*0\r\n", b"*2\r\n*1\r\n$1\r\na\r\n$1\r\nb\r\n"]
)
def test_replay_names_the_offset_of_damage_past_the_first_chunk(tmp_path: Path, bad: bytes) -> None:
    with pytest.raises(AOFError, match=f"at offset {len(_MANY)}$"):
        _replay(tmp_path, _MANY + bad + _LAST)


# -- real processes ---------------------------------------------------------------------------


@contextlib.contextmanager
def _process(workdir: Path, policy: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    conf = workdir / "gee-kv.conf"
    conf.write_text(f'appendonly yes\nappendfsync {policy}\nsave ""\n')
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(workdir), "--config", str(conf)]
    with open(workdir / "gee.log", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"gee kv exited with {proc.returncode}")
            try:
                RawClient(port, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _write_until_killed(port: int, acked: list[int], stop: threading.Event) -> None:
    client = RawClient(port)
    try:
        i = 0
        while not stop.is_set():
            client.send("SET", f"k{i}", i)
            try:
                reply = client.read()
            except (ConnectionError, OSError):
                return
            assert reply == b"+OK\r\n"
            acked.append(i)
            i += 1
    except (ConnectionError, OSError):
        return
    finally:
        client.close()


@pytest.mark.parametrize("policy", ["always", "everysec"])
def test_kill_9_loses_no_acknowledged_write(tmp_path: Path, policy: str) -> None:
    acked: list[int] = []
    stop = threading.Event()
    with _process(tmp_path, policy) as (proc, port):
        writers = [
            threading.Thread(target=_write_until_killed, args=(port, acked, stop)) for _ in range(1)
        ]
        for t in writers:
            t.start()
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in writers:
            t.join(10)
    assert len(acked) > 100, f"only {len(acked)} writes acknowledged"
    with _process(tmp_path, policy) as (proc, port):
        client = RawClient(port)
        try:
            values = call(client, "MGET", *(f"k{i}" for i in acked))
        finally:
            client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    lost = [i for i, v in zip(acked, values, strict=True) if v != b"%d" % i]
    assert not lost, f"{len(lost)} acknowledged writes lost, first {lost[:5]}"


def test_damage_in_the_middle_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "appendonly.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" + b"garbage\r\n" + b"*1\r\n$4\r\nPING\r\n"
    )
    port = free_port()
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(tmp_path), "--save", ""]
    conf = tmp_path / "c.conf"
    conf.write_text("appendonly yes\n")
    done = subprocess.run(
        [*argv, "--config", str(conf)], capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 1
    log = done.stdout.decode()
    assert "Bad file format reading the append only file" in log, log
    assert "at offset 27" in log, log


def _wait_rewrite(client: RawClient) -> dict[str, str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = call(client, "INFO", "persistence").decode()
        info = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if info["aof_rewrite_in_progress"] == "0" and info["aof_rewrite_scheduled"] == "0":
            return info
        time.sleep(0.02)
    raise AssertionError("the AOF rewrite did not finish")


def test_bgrewriteaof_under_write_load_keeps_every_write(tmp_path: Path) -> None:
    server = _aof_server(tmp_path, "everysec")
    try:
        client = RawClient(server.port)
        try:
            populate(client)
            client.pipeline([["INCR", "counter"] for _ in range(5000)])
            size = (tmp_path / "appendonly.aof").stat().st_size
            replies = client.pipeline(
                [["BGREWRITEAOF"], ["BGREWRITEAOF"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"]]
            )
            assert replies == [
                b"+Background append only file rewriting started\r\n",
                b"-ERR Background append only file rewriting already in progress\r\n",
                b"-ERR Another child process is active (AOF?): can't BGSAVE right now. "
                b"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n",
                b"+Background saving scheduled\r\n",
            ]
            # writes while the child rewrites: they must reach the new file
            for i in range(300):
                call(client, "SET", f"during:{i}", i)
                call(client, "EXPIRE", f"during:{i}", 1000 + i)
            info = _wait_rewrite(client)
            assert info["aof_last_bgrewrite_status"] == "ok"
            assert int(info["aof_base_size"]) < size
            want = full_dump(server.port)
        finally:
            client.close()
    finally:
        server.stop()
    assert not list(tmp_path.glob("temp-rewriteaof-*"))
    again = _aof_server(tmp_path)
    try:
        got = full_dump(again.port)
    finally:
        again.stop()
    assert len(got) > 300
    assert got == want


def test_auto_rewrite_on_growth(tmp_path: Path) -> None:
    server = ThreadedServer(
        dir=str(tmp_path),
        appendonly="yes",
        **{"auto-aof-rewrite-min-size": "4096", "auto-aof-rewrite-percentage": "100"},
    )
    try:
        client = RawClient(server.port)
        try:
            client.pipeline([["SET", "k", "v" * 100] for _ in range(100)])
            deadline = time.monotonic() + 10
            while (tmp_path / "appendonly.aof").stat().st_size > 4096:
                assert time.monotonic() < deadline, "no automatic rewrite"
                time.sleep(0.05)
            _wait_rewrite(client)
            assert call(client, "GET", "k") == b"v" * 100
        finally:
            client.close()
    finally:
        server.stop()


def test_expiry_is_appended_as_del_and_reads_are_not(tmp_path: Path) -> None:
    server = _aof_server(tmp_path)
    try:
        client = RawClient(server.port)
        try:
            call(client, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
            call(client, "SET", "k", "v", "PX", "20")
            time.sleep(0.05)
            assert call(client, "GET", "k") is None  # lazily expired by a read
            call(client, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        finally:
            client.close()
    finally:
        server.stop()
    text = (tmp_path / "appendonly.aof").read_bytes()
    assert b"DEL\r\n$1\r\nk\r\n" in text
    assert b"GET" not in text.upper()


@pytest.mark.redis
def test_redis_replays_gee_aof_with_redis_cli_pipe(tmp_path: Path) -> None:
    server = _aof_server(tmp_path)
    try:
        client = RawClient(server.port)
        try:
            populate(client)
            call(client, "SADD", "pool", *range(20))
            call(client, "SPOP", "pool", "3")
            call(client, "INCRBYFLOAT", "f", "2.5")
            call(client, "EXPIRE", "s:embstr", "1000")
            want = full_dump(server.port)
        finally:
            client.close()
    finally:
        server.stop()
    with _redis_fed(tmp_path, (tmp_path / "appendonly.aof").read_bytes()) as port:
        got = full_dump(port)
    assert got == want


@contextlib.contextmanager
def _redis_fed(tmp_path: Path, commands: bytes) -> Iterator[int]:
    """A redis-server in ``tmp_path``/redis that ``commands`` were piped into with redis-cli
    --pipe, which must report no error (Redis refuses anything but RESP bulk strings); its
    port."""
    (tmp_path / "redis").mkdir()
    redis = launch_redis(tmp_path / "redis")
    try:
        done = subprocess.run(
            ["redis-cli", "-p", str(redis.port), "--pipe"],
            input=commands,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert b"errors: 0" in done.stdout, done.stdout
        yield redis.port
    finally:
        assert redis.proc is not None
        stop_process(redis.proc)


def test_a_deadline_that_passed_while_down_does_not_change_the_replay(tmp_path: Path) -> None:
    # The key lived when INCR ran; replayed after its deadline, INCR must still see it, and
    # the key must end expired (not revived without a TTL).
    (tmp_path / "appendonly.aof").write_bytes(
        b"".join(
            encode_command(cmd)
            for cmd in (
                [b"SELECT", b"0"],
                [b"SET", b"k", b"5"],
                [b"PEXPIREAT", b"k", b"%d" % (int(time.time() * 1000) - 1000)],
                [b"INCR", b"k"],
                [b"SET", b"other", b"1"],
            )
        )
    )
    server = _aof_server(tmp_path)
    try:
        client = RawClient(server.port)
        try:
            assert call(client, "GET", "k") is None
            assert call(client, "GET", "other") == b"1"
        finally:
            client.close()
    finally:
        server.stop()


# Requests as a client may frame them, and the record each must leave in the AOF: RESP's one
# spelling of the arguments. hiredis also reads a simple string, a verbatim string or a big
# number inside a request array as bytes (Redis refuses them), so those may not be copied.
_SPELLINGS = [
    (encode_command([b"SET", b"a", b"1"]), [b"SET", b"a", b"1"]),
    (encode_command([b"set", b"b", b"2"]), [b"set", b"b", b"2"]),
    (b"*3\r\n+SET\r\n$1\r\nc\r\n$1\r\n3\r\n", [b"SET", b"c", b"3"]),
    (b"*3\r\n$3\r\nSET\r\n=7\r\ntxt:d:d\r\n$1\r\n4\r\n", [b"SET", b"d:d", b"4"]),
    (b"*3\r\n$3\r\nSET\r\n$1\r\ne\r\n(12345\r\n", [b"SET", b"e", b"12345"]),
    (encode_command([b"RPUSH", b"big", b"v" * 5000]), [b"RPUSH", b"big", b"v" * 5000]),
    (
        encode_command([b"SADD", b"many", *(b"%d" % i for i in range(300))]),
        [b"SADD", b"many", *(b"%d" % i for i in range(300))],
    ),
    (encode_command([b"SELECT", b"3"]), None),
    (encode_command([b"HSET", b"h", b"f", b"v"]), [b"HSET", b"h", b"f", b"v"]),
]


@pytest.mark.redis
@pytest.mark.parametrize("policy", ["always", "everysec"])
def test_each_write_is_recorded_in_resp_one_spelling(tmp_path: Path, policy: str) -> None:
    server = _aof_server(tmp_path, policy)
    try:
        client = RawClient(server.port)
        try:
            for request, _ in _SPELLINGS:
                client.send_raw(request)  # one request per read: the fast path's case
                assert client.read().startswith((b"+OK", b":")), request
        finally:
            client.close()
    finally:
        server.stop()
    want = [encode_command([b"SELECT", b"0"])]
    for request, argv in _SPELLINGS:
        if argv is None:
            want.append(request)
        else:
            want.append(encode_command(argv))
    text = (tmp_path / "appendonly.aof").read_bytes()
    assert text == b"".join(want)
    with _redis_fed(tmp_path, text):
        pass
