"""HTTPPool: escaping, the peer endpoint's answers, and gee clusters on real sockets."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx
import pytest

from gee.cache import Group, HTTPPool, PeerError
from gee.cache.http import _BAD_ESCAPE, encode_get_response, escape, split_path, unescape
from gee.cache.pb import GetResponse
from tests.cache.cluster import cluster, serve
from tests.servers import free_port, port_open

# Keys that break naive escaping, path normalisation or UTF-8 assumptions.
AWKWARD_KEYS = [
    "Tom",
    "",
    "a b",
    "a+b",
    "a%20b",
    "a/b",
    "a//b",
    "/",
    "./x",
    ".",
    "..",
    "%",
    "%41",
    "?q=1",
    "#frag",
    "é",
    "日本語",
    "emoji 🎉",
    "~-_.",
    "tab\tnl\n",
    "\udcff\udcfe",  # the bytes FF FE, not UTF-8: a str carries them as surrogate escapes
    "bin\udc80%ary",
]


def utf8(key: str) -> bytes:
    """The bytes a key stands for (surrogate escapes are the raw bytes they were decoded from)."""
    return key.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("abcXYZ019", "abcXYZ019"),
        ("-_.~", "-_.~"),
        ("a b", "a%20b"),  # Go's QueryEscape says "+"; see the module docstring for why not
        ("a+b", "a%2Bb"),
        ("a/b", "a%2Fb"),
        ("%", "%25"),
        ("*!'()", "%2A%21%27%28%29"),
        ("é", "%C3%A9"),
        ("", ""),
        ("\udcff", "%FF"),  # a non-UTF-8 byte carried as a surrogate escape
    ],
)
def test_escape_is_query_escape_with_space_as_percent_20(text: str, want: str) -> None:
    got = escape(text)
    assert got == want, f"escape({text!r}): got {got!r}; want {want!r}"
    assert unescape(got) == text, f"unescape(escape({text!r})) = {unescape(got)!r}"


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (b"/_groupcache/g/k", ("g", "k")),
        (b"/_groupcache/g/a+b", ("g", "a b")),  # a Go client's space
        (b"/_groupcache/g/a%2Bb", ("g", "a+b")),  # a Go client's plus
        (b"/_groupcache/g/a%2Fb", ("g", "a/b")),
        (b"/_groupcache/g/a//b", ("g", "a//b")),
        (b"/_groupcache/g/..", ("g", "..")),
        (b"/_groupcache/g/", ("g", "")),
        (b"/_groupcache/g%2Fh/k", ("g/h", "k")),
        (b"/_groupcache/g/k?x=1", ("g", "k")),
        (b"/_groupcache/g/%FF", ("g", "\udcff")),
        (b"/_groupcache/g", None),
        (b"/_groupcache/g/%zz", None),
        (b"/_groupcache/g/%4", None),
        (b"/other/g/k", None),
    ],
)
def test_split_path(raw: bytes, want: tuple[str, str] | None) -> None:
    got = split_path(raw, "/_groupcache/")
    assert got == want, f"split_path({raw!r}): got {got!r}; want {want!r}"


def split_path_slowly(raw: bytes, base_path: str) -> tuple[str, str] | None:
    """split_path as it was before its fast path: every path through the regex and unescape."""
    raw = raw.partition(b"?")[0]
    if _BAD_ESCAPE.search(raw):
        return None
    path = raw.decode("latin-1")
    if not path.startswith(base_path):
        return None
    group, slash, key = path[len(base_path) :].partition("/")
    if not slash:
        return None
    return unescape(group), unescape(key)


@pytest.mark.parametrize(
    "raw",
    [
        *(b"/_groupcache/g/" + escape(k).encode() for k in AWKWARD_KEYS),
        *(b"/_groupcache/g/" + utf8(k) for k in AWKWARD_KEYS if "?" not in k),
        b"/_groupcache/g/\xc3\xa9",  # raw UTF-8 on the request line, not escaped
        b"/_groupcache/g/\xff",
        b"/_groupcache/g/a+b",
        b"/_groupcache/g+h/k",
        b"/_groupcache/g/k?x=%zz",
        b"/_groupcache/%zz",
        b"/_groupcache/",
        b"/_groupcache",
        b"",
        b"/other/g/%zz",
    ],
)
def test_split_path_fast_path_agrees_with_the_slow_one(raw: bytes) -> None:
    got, want = split_path(raw, "/_groupcache/"), split_path_slowly(raw, "/_groupcache/")
    assert got == want, f"split_path({raw!r}): got {got!r}; want {want!r}"


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 16383, 16384, 1 << 21])
def test_encode_get_response_is_protobufs_encoding(size: int) -> None:
    value = bytes(i % 251 for i in range(size))
    got = encode_get_response(value)
    want = GetResponse(value=value).SerializeToString()
    assert got == want, f"{size} bytes: got {got[:8]!r}...; want {want[:8]!r}..."
    assert GetResponse.FromString(got).value == value


def test_base_path_must_be_slashed() -> None:
    with pytest.raises(ValueError, match="base_path"):
        HTTPPool("http://x", base_path="/_groupcache")


def test_pool_never_picks_itself() -> None:
    pool = HTTPPool("http://a:1")
    pool.set_peers("http://a:1", "http://b:2", "http://c:3")
    owners = {pool.ring.owner(f"k{i}") for i in range(300)}
    assert owners == {"http://a:1", "http://b:2", "http://c:3"}
    for i in range(300):
        key = f"k{i}"
        picked = pool.pick_peer(key)
        if pool.ring.owner(key) == "http://a:1":
            assert picked is None, f"{key!r}: picked {picked!r}; want None (owned here)"
        else:
            assert picked is not None
    assert [g.base_url for g in pool.remote_peers()] == [  # type: ignore[attr-defined]
        "http://b:2/_groupcache/",
        "http://c:3/_groupcache/",
    ]
    pool.set_peers()
    assert pool.pick_peer("k1") is None, "a pool with no peers picked one"


async def test_every_awkward_key_is_loaded_once_on_its_owner() -> None:
    async with cluster(3) as nodes:
        for asker in nodes:
            for key in AWKWARD_KEYS:
                got = await asker.group.get(key)
                want = utf8(f"value-of-{key}")
                assert got == want, f"{asker.url} get({key!r}): got {got!r}; want {want!r}"
        ring = nodes[0].pool.ring
        for key in AWKWARD_KEYS:
            loaded_on = [n.url for n in nodes for k in n.calls if k == key]
            assert loaded_on == [ring.owner(key)], f"{key!r} loaded on {loaded_on}; want its owner"
        for node in nodes:
            errors = node.group.stats.peer_errors
            assert errors == 0, f"{node.url}: got {errors} peer errors; want 0"


async def test_endpoint_answers_like_groupcache() -> None:
    async def getter(key: str) -> bytes:
        if key == "bad":
            raise KeyError("bad not exist")
        return b"v:" + utf8(key)

    port = free_port()
    group = Group("g", 1024, getter, register=False)
    pool = HTTPPool(f"http://127.0.0.1:{port}", groups={"g": group})
    base = f"http://127.0.0.1:{port}/_groupcache/"
    async with serve(pool, port), httpx.AsyncClient() as client:
        ok = await client.get(base + "g/a+b%2Bc")
        assert ok.status_code == 200, f"got {ok.status_code} {ok.text}"
        assert ok.headers["content-type"] == "application/x-protobuf"
        got = GetResponse.FromString(ok.content).value
        assert got == b"v:a b+c", f"got {got!r}; want b'v:a b+c'"
        # A key that is not UTF-8 once unescaped, as a Go client sends it: served all the same.
        raw = await client.get(base + "g/%FF%FE%20x")
        assert raw.status_code == 200, f"got {raw.status_code} {raw.text}"
        got = GetResponse.FromString(raw.content).value
        assert got == b"v:\xff\xfe x", f"got {got!r}; want b'v:\\xff\\xfe x'"
        for path, status, text in [
            ("nope/k", 404, "no such group: nope"),
            ("g/bad", 500, "bad not exist\n"),
            ("g/%zz", 400, ""),
            ("g", 400, "bad request"),
            ("", 400, "bad request"),
        ]:
            response = await client.get(base + path)
            assert response.status_code == status, (
                f"{path}: got {response.status_code}; want {status}"
            )
            assert text in response.text, f"{path}: got {response.text!r}; want {text!r} in it"
        assert group.stats.server_requests == 3, f"got {group.stats.server_requests}; want 3"
        stats = (await client.get(base + "_stats")).json()
        got_counts = (stats["g"]["local_loads"], stats["g"]["local_load_errs"])
        assert got_counts == (2, 1), f"got (local_loads, local_load_errs) {got_counts}; want (2, 1)"
        pool.set_peers(pool.self_url, "http://127.0.0.1:1")
        peers = (await client.get(base + "_peers")).json()
        assert peers == [pool.self_url, "http://127.0.0.1:1"], f"got _peers {peers}"
    await pool.aclose()


async def test_direct_get_answers_as_the_app_does() -> None:
    """The pool answers GET {base}{group}/{key} itself; pool.app (gee.web) is the reference.
    (Escaped paths are not compared: pool.app refuses keys that are not UTF-8, the pool serves
    them; test_endpoint_answers_like_groupcache checks those.)"""
    from gee.cache.http import LOOP_HEADER

    async def getter(key: str) -> bytes:
        if key == "bad":
            raise KeyError("bad not exist")
        return b"v:" + key.encode()

    group = Group("g", 1024, getter, register=False)
    direct_port, app_port = free_port(), free_port()
    pool = HTTPPool(f"http://127.0.0.1:{direct_port}", groups={"g": group})
    requests: list[tuple[str, dict[str, str]]] = [
        ("g/a", {}),
        ("g/", {}),  # the empty key
        ("g/a/b//./c", {}),
        ("g/a+b", {}),
        ("g/bad", {}),
        ("nope/k", {}),
        ("g", {}),
        ("g/" + "k" * 9000, {}),  # past the app's path limit: 414
        ("g/a", {"x-big": "v" * 20000}),  # a header past the limit: 431
        ("g/a", {LOOP_HEADER: pool._token}),  # asked itself: 508
        ("_stats", {}),
    ]
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(serve(pool, direct_port))
        await stack.enter_async_context(serve(pool.app, app_port))
        client = await stack.enter_async_context(httpx.AsyncClient())
        for path, headers in requests:
            answers = []
            for port in (direct_port, app_port):
                r = await client.get(f"http://127.0.0.1:{port}/_groupcache/{path}", headers=headers)
                answers.append((r.status_code, r.headers.get("content-type"), r.content))
            if path == "_stats":  # the second ask counts the first
                answers = [a[:2] for a in answers]
            assert answers[0] == answers[1], f"{path[:40]}: got {answers[0]!r}; want {answers[1]!r}"
    await pool.aclose()


async def test_concurrent_gets_of_one_key_load_once_in_the_cluster() -> None:
    """1,000 concurrent gets of one missing key, spread over 3 nodes: one getter call in all."""
    async with cluster(3, delay=0.2) as nodes:
        gets = [nodes[i % 3].group.get("hot-key") for i in range(1000)]
        results = await asyncio.gather(*gets)
        assert set(results) == {b"value-of-hot-key"}
        calls = sum(len(n.calls) for n in nodes)
        assert calls == 1, f"got {calls} getter calls in the cluster; want 1"
        # Each non-owner asked the owner once: its other gets joined that one flight.
        requests = sum(n.group.stats.server_requests for n in nodes)
        assert requests == 2, f"got {requests} peer requests; want 2"


async def test_self_spelled_differently_loads_locally_instead_of_stalling() -> None:
    port = free_port()
    calls: list[str] = []

    async def getter(key: str) -> bytes:
        calls.append(key)
        return b"v"

    group = Group("g", 1024, getter, register=False)
    pool = HTTPPool(f"http://localhost:{port}", groups={"g": group}, timeout=2)
    pool.set_peers(f"http://127.0.0.1:{port}")  # the same node, spelled otherwise
    group.peers = pool
    async with serve(pool, port):
        got = await asyncio.wait_for(group.get("k"), 5)
    await pool.aclose()
    assert got == b"v"
    assert calls == ["k"], f"got getter calls {calls}; want one"
    assert group.stats.peer_errors == 1, f"got {group.stats.peer_errors}; want 1 (the loop)"


async def test_remove_reaches_every_node() -> None:
    async with cluster(3, hot_cache_chance=1.0) as nodes:
        key = next(f"k{i}" for i in range(100) if nodes[0].pool.pick_peer(f"k{i}") is not None)
        for node in nodes:
            await node.group.get(key)
        cached = sum(
            n.group.cache_stats("main").items + n.group.cache_stats("hot").items for n in nodes
        )
        assert cached == 3, f"got {cached} cached copies; want 3 (owner + two hot)"
        failed = await nodes[0].group.remove(key)
        assert failed == 0
        cached = sum(
            n.group.cache_stats("main").items + n.group.cache_stats("hot").items for n in nodes
        )
        assert cached == 0, f"got {cached} cached copies after remove; want 0"


async def test_peer_killed_and_back() -> None:
    async with cluster(3) as nodes:
        asker, victim = nodes[0], nodes[1]
        victim_keys = [f"k{i}" for i in range(400) if asker.pool.ring.owner(f"k{i}") == victim.url]
        assert len(victim_keys) > 20
        assert victim.server is not None
        port = int(victim.url.rsplit(":", 1)[1])
        victim.server.should_exit = True
        for _ in range(500):
            if not port_open(port):
                break
            await asyncio.sleep(0.02)
        assert not port_open(port), "the killed peer still listens"
        before = asker.group.stats.peer_errors
        for key in victim_keys[:10]:
            assert await asker.group.get(key) == f"value-of-{key}".encode()
        errors = asker.group.stats.peer_errors - before
        assert errors == 10, f"got {errors} new peer errors; want 10"
        assert asker.calls.count(victim_keys[0]) == 1, "the dead peer's key was not loaded here"
        async with serve(victim.pool, port):
            served = victim.group.stats.server_requests
            for key in victim_keys[10:20]:
                assert await asker.group.get(key) == f"value-of-{key}".encode()
            got = victim.group.stats.server_requests - served
            assert got == 10, f"got {got} requests to the revived peer; want 10"


async def test_get_from_unreachable_peer_is_a_peer_error() -> None:
    pool = HTTPPool("http://127.0.0.1:1", timeout=1)
    port = free_port()  # nobody listens there
    pool.set_peers("http://127.0.0.1:1", f"http://127.0.0.1:{port}")
    getter = pool.remote_peers()[0]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(pool.aclose)
        with pytest.raises(PeerError, match="ConnectError"):
            await getter.get("g", "k")


async def test_follow_tracks_a_peer_source_and_survives_its_errors() -> None:
    pool = HTTPPool("http://a:1")
    answers: list[object] = [
        ["http://a:1"],
        ["http://a:1", "http://b:2"],
        RuntimeError("registry down"),
        ["http://b:2", "http://a:1"],
    ]
    seen: list[list[str]] = []

    async def source() -> list[str]:
        answer = answers[min(len(seen), len(answers) - 1)]
        seen.append(pool.peers)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, list)
        return answer

    task = asyncio.create_task(pool.follow(source, interval=0.001))
    while len(seen) < 6:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[1:4] == [["http://a:1"], ["http://a:1", "http://b:2"], ["http://a:1", "http://b:2"]]
    assert pool.peers == ["http://b:2", "http://a:1"], f"got {pool.peers}"


async def test_follow_accepts_a_sync_source() -> None:
    pool = HTTPPool("http://a:1")
    task = asyncio.create_task(pool.follow(lambda: ("http://a:1", "http://c:3"), interval=60))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.peers == ["http://a:1", "http://c:3"], f"got {pool.peers}"


async def test_a_kept_alive_connection_closed_by_the_peer_is_retried_once() -> None:
    """The peer answers one request per connection and hangs up on the next, unanswered:
    what a keep-alive timeout firing as a request arrives looks like."""
    body = GetResponse(value=b"v").SerializeToString()
    connections = 0
    handlers: list[asyncio.Task[None]] = []

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)  # type: ignore[arg-type]
        try:
            await reader.readuntil(b"\r\n\r\n")
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # the next request: not answered
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:  # however it ends, the socket closes (a leaked one fails a later test)
            writer.close()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = HTTPPool("http://127.0.0.1:1")
    pool.set_peers("http://127.0.0.1:1", f"http://127.0.0.1:{port}")
    peer = pool.remote_peers()[0]
    try:
        assert await peer.get("g", "k") == b"v"
        assert await peer.get("g", "k") == b"v"
    finally:
        await pool.aclose()  # the last handler sees EOF and closes its side
        await asyncio.wait_for(asyncio.gather(*handlers), 5)
        server.close()
        await server.wait_closed()
    assert connections == 2, f"got {connections} connections; want 2 (one reuse failed, retried)"
