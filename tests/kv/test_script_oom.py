"""Scripts while memory is full, against redis-server configured the same way (noeviction, a
tiny maxmemory, data over it): EVAL, EVAL_RO, EVALSHA and EVALSHA_RO with and without a
shebang, byte for byte. redis-py Lock's release script is the one both servers can run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from redis.lock import Lock

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer

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
