"""Scripts while memory is full, against redis-server configured the same way (noeviction, a
tiny maxmemory, data over it): EVAL, EVAL_RO, EVALSHA and EVALSHA_RO with and without a
shebang, byte for byte. redis-py Lock's release script is the one both servers can run."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.lock import Lock

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer, launch_redis, stop_process

pytestmark = pytest.mark.redis

RELEASE = Lock.LUA_RELEASE_SCRIPT
OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


@pytest.fixture
def pair(oracle: RunningServer) -> Iterator[Differ]:
    """A Differ over a private gee.kv and the session's redis-server, both holding a lock key
    and some filler, with no scripts cached; redis-server's limit is put back afterwards."""
    server = ThreadedServer()
    differ = Differ(server.port, oracle.port)
    try:
        differ.call("SCRIPT", "FLUSH")
        differ.call("SET", "lock", "token")
        differ.call("SET", "filler", "x" * 10_000)
        yield differ
    finally:
        differ.close()
        redis = RawClient(oracle.port)
        redis.call("CONFIG", "SET", "maxmemory", 0, "maxmemory-policy", "noeviction")
        redis.call("SCRIPT", "FLUSH")
        redis.close()
        server.stop()


def _full(diff: Differ) -> None:
    """Put both over their limit with nothing to evict; check writes are refused."""
    diff.call("CONFIG", "SET", "maxmemory", 1)
    assert diff.call("SET", "more", "data") == OOM


# (command, script, token, the reply when known): the token matches the lock's or not.
CASES = [
    # No shebang (compatibility mode): runs; Redis refuses only a denyoom call, and DEL is not.
    ("EVAL", RELEASE, "token", b":1\r\n"),
    ("EVAL", RELEASE, "other", b":0\r\n"),
    ("EVAL_RO", RELEASE, "other", b":0\r\n"),
    ("EVAL_RO", RELEASE, "token", None),  # the DEL is refused: read-only
    # A shebang without no-writes or allow-oom: refused before it runs.
    ("EVAL", "#!lua\n" + RELEASE, "token", OOM),
    ("EVAL", "#!lua\nreturn 1", "token", OOM),
    ("EVAL", "#!lua flags=allow-stale\n" + RELEASE, "other", OOM),
    ("EVAL_RO", "#!lua\n" + RELEASE, "other", OOM),
    # no-writes or allow-oom: allowed.
    ("EVAL", "#!lua flags=no-writes\n" + RELEASE, "other", b":0\r\n"),
    ("EVAL", "#!lua flags=no-writes\n" + RELEASE, "token", None),  # the DEL is refused
    ("EVAL", "#!lua flags=allow-oom\n" + RELEASE, "token", b":1\r\n"),
    ("EVAL", "#!lua flags=no-writes,allow-oom\n" + RELEASE, "other", b":0\r\n"),
    ("EVAL_RO", "#!lua flags=no-writes\n" + RELEASE, "other", b":0\r\n"),
    ("EVAL_RO", "#!lua flags=allow-oom\n" + RELEASE, "other", None),  # may write: not for _RO
    # A bad shebang is not refused for memory: it fails as it would anyway.
    ("EVAL", "#!lua flags=bogus\n" + RELEASE, "token", None),
    ("EVAL", "#!lua name=x\n" + RELEASE, "token", None),
    ("EVAL", "#!python\n" + RELEASE, "token", None),
    ("EVAL", '#!lua "x\n' + RELEASE, "token", None),
    ("EVAL", "#!lua", "token", None),
]


@pytest.mark.parametrize(("command", "script", "token", "want"), CASES)
def test_eval_when_memory_is_full(
    pair: Differ, command: str, script: str, token: str, want: bytes | None
) -> None:
    _full(pair)
    got = pair.call(command, script, 1, "lock", token)
    if want is not None:
        assert got == want, f"got {got!r}; want {want!r}"
    else:
        assert got.startswith(b"-ERR "), f"got {got!r}; want an error"
    pair.call("EXISTS", "lock")
    pair.call("SCRIPT", "EXISTS", hashlib.sha1(script.encode()).hexdigest())


@pytest.mark.parametrize(
    ("script", "token", "want"),
    [
        (RELEASE, "token", b":1\r\n"),
        ("#!lua\n" + RELEASE, "token", OOM),
        ("#!lua flags=no-writes\n" + RELEASE, "other", b":0\r\n"),
        ("#!lua flags=allow-oom\n" + RELEASE, "token", b":1\r\n"),
    ],
)
@pytest.mark.parametrize("command", ["EVALSHA", "EVALSHA_RO"])
def test_evalsha_of_cached_script_when_memory_is_full(
    pair: Differ, command: str, script: str, token: str, want: bytes
) -> None:
    sha = pair.call("SCRIPT", "LOAD", script)[-42:-2]
    _full(pair)
    got = pair.call(command, sha, 1, "lock", token)
    if command == "EVALSHA":  # EVALSHA_RO's replies are Redis's, whatever they are
        assert got == want, f"got {got!r}; want {want!r}"
    pair.call("EXISTS", "lock")


def test_evalsha_errors_when_memory_is_full(pair: Differ) -> None:
    _full(pair)
    pair.call("EVALSHA", "f" * 40, 1, "lock", "token")  # NOSCRIPT, not OOM
    pair.call("EVALSHA", "f" * 40, 5, "lock", "token")  # the key count is checked first
    pair.call("EVALSHA", "abc", 5, "lock")  # a SHA1 of the wrong length: NOSCRIPT at once
    pair.call("EVALSHA_RO", "f" * 40, -1)
    pair.call("SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1")


def test_scripts_run_again_once_memory_is_freed(pair: Differ) -> None:
    sha = pair.call("SCRIPT", "LOAD", "#!lua\n" + RELEASE)[-42:-2]
    _full(pair)
    assert pair.call("EVALSHA", sha, 1, "lock", "token") == OOM
    pair.call("CONFIG", "SET", "maxmemory", 0)
    assert pair.call("EVALSHA", sha, 1, "lock", "token") == b":1\r\n"


@pytest.mark.parametrize(
    "script",
    ["#!lua\n" + RELEASE, "#!lua flags=allow-oom\n" + RELEASE, RELEASE],
)
def test_eval_ro_refuses_scripts_that_may_write(pair: Differ, script: str) -> None:
    """With memory to spare: *_RO refuses a shebang without no-writes; a script without a
    shebang fails at its first write."""
    pair.call("EVAL_RO", script, 1, "lock", "token")
    pair.call("EXISTS", "lock")


# -- in MULTI: the script's shebang decides at EXEC, as a queued command's denyoom flag does --

EXECABORT_OOM = b"-EXECABORT Transaction discarded because of: " + OOM[1:]
EXECABORT_QUEUED = b"-EXECABORT Transaction discarded because of previous errors.\r\n"

# (command, script, token, EXEC's reply once memory filled up after the script was queued).
EXEC_CASES = [
    ("EVAL", "#!lua\nreturn 1", "token", EXECABORT_OOM),
    ("EVAL", "#!lua\n" + RELEASE, "token", EXECABORT_OOM),
    ("EVAL", "#!lua flags=allow-stale\n" + RELEASE, "other", EXECABORT_OOM),
    ("EVAL_RO", "#!lua\n" + RELEASE, "other", EXECABORT_OOM),
    ("EVAL", "#!lua flags=no-writes\n" + RELEASE, "other", b"*1\r\n:0\r\n"),
    ("EVAL", "#!lua flags=allow-oom\n" + RELEASE, "token", b"*1\r\n:1\r\n"),
    ("EVAL", RELEASE, "token", b"*1\r\n:1\r\n"),  # no shebang: Redis refuses only a denyoom call
    ("EVAL", "#!lua flags=bogus\n" + RELEASE, "token", None),  # fails inside EXEC
]


def _fill_from_another_client(diff: Differ) -> None:
    diff.call("CONFIG", "SET", "maxmemory", 1, conn="admin")
    assert diff.call("SET", "more", "data", conn="admin") == OOM


@pytest.mark.parametrize(("command", "script", "token", "want"), EXEC_CASES)
def test_exec_of_script_queued_before_memory_filled(
    pair: Differ, command: str, script: str, token: str, want: bytes | None
) -> None:
    assert pair.call("MULTI") == b"+OK\r\n"
    assert pair.call(command, script, 1, "lock", token) == b"+QUEUED\r\n"
    _fill_from_another_client(pair)
    got = pair.call("EXEC")
    if want is not None:
        assert got == want, f"got {got!r}; want {want!r}"
    else:
        assert got.startswith(b"*1\r\n-ERR "), f"got {got!r}; want an error inside EXEC"
    assert pair.call("EXEC") == b"-ERR EXEC without MULTI\r\n"  # the transaction is over
    pair.call("EXISTS", "lock")


@pytest.mark.parametrize(
    ("script", "token", "want"),
    [
        ("#!lua\n" + RELEASE, "token", EXECABORT_OOM),
        ("#!lua flags=no-writes\n" + RELEASE, "other", b"*2\r\n:0\r\n:0\r\n"),
        (RELEASE, "token", b"*2\r\n:1\r\n:0\r\n"),
    ],
)
def test_exec_of_cached_script_queued_before_memory_filled(
    pair: Differ, script: str, token: str, want: bytes
) -> None:
    """EVALSHA takes the cached script's flags; its SHA1 in either case."""
    sha = pair.call("SCRIPT", "LOAD", script)[-42:-2].decode()
    pair.call("MULTI")
    pair.call("EVALSHA", sha, 1, "lock", token)
    pair.call("EVALSHA", sha.upper(), 1, "lock", token)
    _fill_from_another_client(pair)
    got = pair.call("EXEC")
    assert got == want, f"got {got!r}; want {want!r}"
    pair.call("EXISTS", "lock")


def test_exec_of_unknown_sha_and_reads_runs_when_memory_is_full(pair: Differ) -> None:
    """EVALSHA of a script not cached has EVALSHA's own flags: EXEC runs it (NOSCRIPT)."""
    pair.call("MULTI")
    pair.call("EVALSHA", "f" * 40, 1, "lock", "token")
    pair.call("GET", "lock")
    pair.call("EVAL", "#!lua flags=no-writes\n" + RELEASE, 1, "lock", "other")
    _fill_from_another_client(pair)
    got = pair.call("EXEC")
    assert got.startswith(b"*3\r\n-NOSCRIPT "), f"got {got!r}"


@pytest.mark.parametrize(
    "script",
    ["#!lua\n" + RELEASE, "#!lua flags=no-writes\n" + RELEASE, RELEASE, "#!lua flags=bogus\n"],
)
def test_script_queued_while_memory_is_full(pair: Differ, script: str) -> None:
    """Every command sent inside MULTI while memory is full is refused, whatever its flags,
    and EXEC then discards the transaction."""
    _full(pair)
    pair.call("MULTI")
    assert pair.call("EVAL", script, 1, "lock", "other") == OOM
    assert pair.call("EXEC") == EXECABORT_QUEUED
    pair.call("EXISTS", "lock")


# -- while the last BGSAVE failed: the shebang decides whether a script counts as a write ----

MISCONF = b"-MISCONF Redis is configured to save RDB snapshots"


def _fail_bgsave(port: int, workdir: Path) -> None:
    """Make BGSAVE fail (its file's name is taken by a directory) and wait for it to end."""
    (workdir / "blocked").unlink(missing_ok=True)  # a save FLUSHALL made
    (workdir / "blocked").mkdir()
    client = RawClient(port)
    try:
        assert client.call("BGSAVE") == b"+Background saving started\r\n"
        deadline = time.monotonic() + 60
        while b"rdb_last_bgsave_status:err\r\n" not in client.call("INFO", "persistence"):
            assert time.monotonic() < deadline, "BGSAVE did not fail within 60 s"
            time.sleep(0.05)
    finally:
        client.close()


def test_scripts_when_bgsave_failed(tmp_path: Path) -> None:
    # Save points make a failed BGSAVE stop writes (stop-writes-on-bgsave-error).
    options = {"dbfilename": "blocked", "save": "3600 1000000"}
    redis_dir, gee_dir = tmp_path / "redis", tmp_path / "gee"
    redis_dir.mkdir()
    gee_dir.mkdir()
    redis = launch_redis(redis_dir, *(x for k, v in options.items() for x in (f"--{k}", v)))
    gee = ThreadedServer(dir=str(gee_dir), **options)
    diff = Differ(gee.port, redis.port)
    try:
        diff.call("SET", "lock", "token")
        diff.call("MULTI")
        diff.call("EVAL", "#!lua\n" + RELEASE, 1, "lock", "token")
        _fail_bgsave(redis.port, redis_dir)
        _fail_bgsave(gee.port, gee_dir)
        got = diff.call("EXEC")
        assert got.startswith(b"-EXECABORT Transaction discarded because of: MISCONF "), got
        for script, token in [
            ("#!lua\n" + RELEASE, "token"),
            ("#!lua flags=allow-oom\n" + RELEASE, "other"),
            ("#!lua\nreturn 1", "token"),
        ]:
            got = diff.call("EVAL", script, 1, "lock", token)
            assert got.startswith(MISCONF), f"{script!r}: got {got!r}; want -MISCONF"
        assert diff.call("EVAL", "#!lua flags=no-writes\n" + RELEASE, 1, "lock", "o") == b":0\r\n"
        assert diff.call("EVAL", RELEASE, 1, "lock", "other") == b":0\r\n"
        diff.call("MULTI")
        assert diff.call("EVAL", "#!lua\n" + RELEASE, 1, "lock", "token").startswith(MISCONF)
        assert diff.call("EXEC") == EXECABORT_QUEUED
        assert diff.call("GET", "lock") == b"$5\r\ntoken\r\n"
    finally:
        diff.close()
        gee.stop()
        assert redis.proc is not None
        stop_process(redis.proc)
