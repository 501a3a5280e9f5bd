"""Group: groupcache's load path, its counters, the shared budget, TTL and remove."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

import gee.cache.group as group_module
from gee.cache import (
    GetterError,
    Group,
    GroupExistsError,
    HashRing,
    PeerGetter,
    get_group,
    unregister_group,
)
from gee.cache.lru import entry_size


@pytest.fixture
def name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A group name unique to the test, unregistered afterwards."""
    group_name = f"test-{request.node.name}"
    yield group_name
    unregister_group(group_name)


class Counting:
    """A sync getter that counts its calls per key."""

    def __init__(self, fmt: str = "value-of-{}") -> None:
        self.fmt = fmt
        self.calls: dict[str, int] = {}
        self.threads: set[int] = set()

    def __call__(self, key: str) -> str:
        self.calls[key] = self.calls.get(key, 0) + 1
        self.threads.add(threading.get_ident())
        return self.fmt.format(key)


class FakePeer:
    """A PeerGetter that answers from another in-process Group, or fails on demand."""

    def __init__(self, group: Group | None) -> None:
        self.group = group
        self.gets: list[str] = []
        self.removes: list[str] = []

    async def get(self, group: str, key: str) -> bytes:
        self.gets.append(key)
        if self.group is None:
            raise ConnectionRefusedError("peer down")
        self.group.stats.server_requests += 1
        return await self.group.get(key)

    async def remove(self, group: str, key: str) -> None:
        self.removes.append(key)
        if self.group is None:
            raise ConnectionRefusedError("peer down")
        self.group.remove_local(key)


class FixedPicker:
    """Every key is owned by ``peer`` (or by us, when ``peer`` is None)."""

    def __init__(self, peer: FakePeer | None) -> None:
        self.peer = peer

    def pick_peer(self, key: str) -> PeerGetter | None:
        return self.peer

    def remote_peers(self) -> Sequence[PeerGetter]:
        return [] if self.peer is None else [self.peer]


def counters(group: Group) -> dict[str, int]:
    s = group.stats
    return {
        "gets": s.gets,
        "cache_hits": s.cache_hits,
        "peer_loads": s.peer_loads,
        "peer_errors": s.peer_errors,
        "loads": s.loads,
        "loads_deduped": s.loads_deduped,
        "local_loads": s.local_loads,
        "local_load_errs": s.local_load_errs,
        "server_requests": s.server_requests,
    }


def want_counters(**values: int) -> dict[str, int]:
    base = dict.fromkeys(
        [
            "gets",
            "cache_hits",
            "peer_loads",
            "peer_errors",
            "loads",
            "loads_deduped",
            "local_loads",
            "local_load_errs",
            "server_requests",
        ],
        0,
    )
    base.update(values)
    return base


async def test_miss_then_hit(name: str) -> None:
    getter = Counting()
    group = Group(name, 1 << 20, getter)
    assert await group.get("Tom") == b"value-of-Tom"
    assert await group.get("Tom") == b"value-of-Tom"
    assert getter.calls == {"Tom": 1}, f"got {getter.calls}; want one call"
    got = counters(group)
    want = want_counters(gets=2, cache_hits=1, loads=1, loads_deduped=1, local_loads=1)
    assert got == want, f"got {got}; want {want}"
    main = group.cache_stats("main")
    size = entry_size("Tom", b"value-of-Tom")
    assert (main.bytes, main.items, main.hits) == (size, 1, 1), f"got {main}"


async def test_sync_getter_runs_in_a_worker_thread(name: str) -> None:
    getter = Counting()
    await Group(name, 1024, getter).get("k")
    assert threading.get_ident() not in getter.threads, "the sync getter blocked the loop"


@pytest.mark.parametrize(
    ("returned", "want"),
    [(b"raw", b"raw"), ("héllo", "héllo".encode()), (bytearray(b"ba"), b"ba"), ("", b"")],
)
async def test_async_getter_and_value_types(name: str, returned: object, want: bytes) -> None:
    async def getter(key: str) -> object:
        return returned

    got = await Group(name, 1024, getter).get("k")  # type: ignore[arg-type]
    assert got == want, f"got {got!r}; want {want!r}"


async def test_getter_returning_a_wrong_type_is_a_getter_error(name: str) -> None:
    group = Group(name, 1024, lambda key: 42)  # type: ignore[arg-type, return-value]
    with pytest.raises(GetterError, match="bytes or str"):
        await group.get("k")


async def test_empty_key_is_a_key(name: str) -> None:
    getter = Counting()
    group = Group(name, 1024, getter)
    assert await group.get("") == b"value-of-"
    assert await group.get("") == b"value-of-"
    assert getter.calls == {"": 1}


@pytest.mark.parametrize("callers", [2, 100, 1000])
async def test_concurrent_gets_load_once(name: str, callers: int) -> None:
    calls = 0

    async def slow(key: str) -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return b"v"

    group = Group(name, 1024, slow)
    results = await asyncio.gather(*(group.get("k") for _ in range(callers)))
    assert results == [b"v"] * callers
    assert calls == 1, f"got {calls} getter calls; want 1"
    got = counters(group)
    want = want_counters(gets=callers, loads=callers, loads_deduped=1, local_loads=1)
    assert got == want, f"got {got}; want {want}"


async def test_getter_error_reaches_every_caller_and_is_counted(name: str) -> None:
    async def failing(key: str) -> bytes:
        await asyncio.sleep(0.01)
        raise KeyError(f"{key} not exist")

    group = Group(name, 1024, failing)
    results = await asyncio.gather(*(group.get("Kate") for _ in range(5)), return_exceptions=True)
    for result in results:
        assert isinstance(result, GetterError), f"got {result!r}; want GetterError"
        assert isinstance(result.__cause__, KeyError)
    assert group.stats.local_load_errs == 1, f"got {group.stats.local_load_errs}; want 1"
    assert group.cache_stats("main").items == 0, "a failed load was cached"


async def test_zero_cache_bytes_caches_nothing(name: str) -> None:
    getter = Counting()
    group = Group(name, 0, getter)
    for _ in range(3):
        await group.get("k")
    assert getter.calls == {"k": 3}, f"got {getter.calls}; want three loads"


def test_duplicate_name_is_refused(name: str) -> None:
    group = Group(name, 1, Counting())
    assert get_group(name) is group
    with pytest.raises(GroupExistsError, match=name):
        Group(name, 1, Counting())
    assert get_group(name) is group, "the refused group replaced the registered one"
    private = Group(name, 1, Counting(), register=False)
    assert get_group(name) is group
    assert private is not group


def test_get_group_of_unknown_name_is_none() -> None:
    assert get_group("no-such-group-anywhere") is None


def test_getter_must_be_callable(name: str) -> None:
    with pytest.raises(TypeError, match="callable"):
        Group(name, 1, "not a function")  # type: ignore[arg-type]


async def test_value_from_peer(name: str) -> None:
    owner = Group("owner", 1024, Counting("owner-{}"), register=False)
    peer = FakePeer(owner)
    getter = Counting()
    group = Group(name, 1024, getter, peers=FixedPicker(peer), hot_cache_chance=0.0)
    assert await group.get("k") == b"owner-k"
    assert await group.get("k") == b"owner-k"  # not hot-cached: asks again
    assert getter.calls == {}, "loaded locally although the peer answered"
    assert peer.gets == ["k", "k"]
    got = counters(group)
    want = want_counters(gets=2, loads=2, loads_deduped=2, peer_loads=2)
    assert got == want, f"got {got}; want {want}"
    assert owner.stats.server_requests == 2
    assert owner.cache_stats("main").items == 1


async def test_peer_value_goes_to_the_hot_cache(name: str) -> None:
    owner = Group("owner", 1024, Counting("owner-{}"), register=False)
    peer = FakePeer(owner)
    group = Group(name, 1024, Counting(), peers=FixedPicker(peer), hot_cache_chance=1.0)
    await group.get("k")
    assert await group.get("k") == b"owner-k"
    assert peer.gets == ["k"], f"got peer gets {peer.gets}; want one"
    hot, main = group.cache_stats("hot"), group.cache_stats("main")
    assert (hot.items, main.items) == (1, 0), f"got hot {hot}, main {main}"


async def test_hot_cache_chance_is_one_in_ten_by_default(name: str) -> None:
    owner = Group("owner", 1 << 20, Counting(), register=False)
    group = Group(name, 1 << 20, Counting(), peers=FixedPicker(FakePeer(owner)))
    group._random.seed(5)
    for i in range(2000):
        await group.get(f"k{i}")
    items = group.cache_stats("hot").items
    assert 140 <= items <= 260, f"got {items} of 2000 in the hot cache; want about 200"


async def test_peer_error_falls_back_to_local_load(name: str) -> None:
    peer = FakePeer(None)
    getter = Counting()
    group = Group(name, 1024, getter, peers=FixedPicker(peer))
    assert await group.get("k") == b"value-of-k"
    got = counters(group)
    want = want_counters(gets=1, loads=1, loads_deduped=1, peer_errors=1, local_loads=1)
    assert got == want, f"got {got}; want {want}"
    assert group.cache_stats("main").items == 1


async def test_one_budget_and_the_victim_rule(name: str) -> None:
    # Each entry costs 2 + 8 = 10 bytes; the budget holds 10 entries in all.
    owner = Group("owner", 0, lambda key: b"x" * 8, register=False)
    picker = FixedPicker(None)
    group = Group(name, 100, lambda key: b"y" * 8, peers=picker, hot_cache_chance=1.0)
    for i in range(8):
        await group.get(f"m{i}")  # owned here: main cache
    picker.peer = FakePeer(owner)
    for i in range(4):
        await group.get(f"h{i}")  # owned by the peer: hot cache
    main, hot = group.cache_stats("main"), group.cache_stats("hot")
    assert main.bytes + hot.bytes <= 100, f"got {main.bytes} + {hot.bytes} > 100"
    # Adding h2 and h3 overflowed: hot (10, 20 bytes) > main/8 (8 bytes), so hot lost its oldest.
    assert (main.items, hot.items) == (8, 2), f"got main {main.items}, hot {hot.items}"
    assert list(group._hot.lru.keys()) == ["h2", "h3"]


async def test_budget_evicts_main_when_hot_is_small(name: str) -> None:
    group = Group(name, 50, lambda key: b"y" * 8)
    for i in range(20):
        await group.get(f"k{i:02d}")  # 3 + 8 = 11 bytes each: 4 fit
    main = group.cache_stats("main")
    assert (main.bytes, main.items, main.evictions) == (44, 4, 16), f"got {main}"
    assert list(group._main.lru.keys()) == ["k16", "k17", "k18", "k19"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(group_module.time, "time", fake.time)
    return fake


async def test_ttl_value_expires(name: str, clock: Clock) -> None:
    calls = 0

    def getter(key: str) -> tuple[bytes, float]:
        nonlocal calls
        calls += 1
        return f"v{calls}".encode(), clock.now + 10

    group = Group(name, 1024, getter)
    assert await group.get("k") == b"v1"
    clock.now += 9
    assert await group.get("k") == b"v1"
    clock.now += 1
    assert await group.get("k") == b"v2", "an expired value was served"
    assert calls == 2


async def test_ttl_accepts_datetime_and_skips_already_expired(name: str, clock: Clock) -> None:
    past = datetime.fromtimestamp(clock.now, UTC) - timedelta(seconds=1)
    group = Group(name, 1024, lambda key: ("stale", past))
    assert await group.get("k") == b"stale", "the caller still gets what was loaded"
    assert group.cache_stats("main").items == 0, "an already expired value was cached"


async def test_hot_ttl(name: str, clock: Clock) -> None:
    owner = Group("owner", 1024, Counting(), register=False)
    peer = FakePeer(owner)
    group = Group(name, 1024, Counting(), peers=FixedPicker(peer), hot_cache_chance=1.0, hot_ttl=5)
    await group.get("k")
    await group.get("k")
    clock.now += 5
    await group.get("k")
    assert peer.gets == ["k", "k"], f"got {peer.gets}; want a second fetch after hot_ttl"


async def test_remove_drops_locally_and_on_peers(name: str) -> None:
    owner = Group("owner", 1024, Counting(), register=False)
    peer = FakePeer(owner)
    picker = FixedPicker(peer)
    group = Group(name, 1024, Counting(), peers=picker, hot_cache_chance=1.0)
    await group.get("k")
    assert (group.cache_stats("hot").items, owner.cache_stats("main").items) == (1, 1)
    failed = await group.remove("k")
    assert failed == 0
    assert peer.removes == ["k"]
    assert (group.cache_stats("hot").items, owner.cache_stats("main").items) == (0, 0)


async def test_remove_counts_failed_peers(name: str) -> None:
    group = Group(name, 1024, Counting(), peers=FixedPicker(FakePeer(None)))
    assert await group.remove("k") == 1


async def test_ring_cluster_loads_each_key_once_on_its_owner() -> None:
    """Three in-process groups on one ring: every key is loaded once, by its owner."""
    urls = ["http://n1", "http://n2", "http://n3"]
    ring = HashRing.of(urls)
    getters = {url: Counting() for url in urls}
    groups = {url: Group("g", 1 << 20, getters[url], register=False) for url in urls}

    class RingPicker:
        def __init__(self, me: str) -> None:
            self.me = me

        def pick_peer(self, key: str) -> PeerGetter | None:
            owner = ring.owner(key)
            return None if owner in (None, self.me) else FakePeer(groups[str(owner)])

        def remote_peers(self) -> Sequence[PeerGetter]:
            return [FakePeer(groups[u]) for u in urls if u != self.me]

    for url in urls:
        groups[url].peers = RingPicker(url)
    keys = [f"key{i}" for i in range(300)]
    for url in urls:
        for key in keys:
            assert await groups[url].get(key) == f"value-of-{key}".encode()
    for key in keys:
        loaded_by = [url for url in urls if key in getters[url].calls]
        assert loaded_by == [ring.owner(key)], f"{key!r} loaded by {loaded_by}; want its owner"
        assert sum(getters[u].calls.get(key, 0) for u in urls) == 1


def test_stats_dict_is_json_ready(name: str) -> None:
    import json

    group = Group(name, 64, Counting())
    data = json.loads(json.dumps(group.stats_dict()))
    got = (data["name"], data["gets"], data["main_cache"]["bytes"], data["hot_cache"]["items"])
    assert got == (name, 0, 0, 0), f"got {got}"


async def test_remove_during_a_load_keeps_the_old_value_out_of_the_cache(name: str) -> None:
    release = asyncio.Event()
    versions = iter([b"old", b"new"])

    async def getter(key: str) -> bytes:
        await release.wait()
        return next(versions)

    group = Group(name, 1024, getter)
    waiting = asyncio.create_task(group.get("k"))
    await asyncio.sleep(0.01)
    group.remove_local("k")  # the data changed while "old" was being read
    release.set()
    assert await waiting == b"old", "a caller already waiting gets the load it joined"
    assert group.cache_stats("main").items == 0, "the value read before the remove was cached"
    assert await group.get("k") == b"new"


async def test_key_error_message_has_no_quotes(name: str) -> None:
    def getter(key: str) -> bytes:
        raise KeyError(f"{key} not exist")

    with pytest.raises(GetterError) as caught:
        await Group(name, 1024, getter).get("Kate")
    assert str(caught.value) == "Kate not exist", f"got {str(caught.value)!r}"


async def test_stats_carry_each_caches_figures(name: str) -> None:
    group = Group(name, 1024, Counting())
    await group.get("k")
    await group.get("k")
    main = group.stats.main_cache
    got = (main.bytes, main.items, main.gets, main.hits, main.evictions)
    want = (entry_size("k", b"value-of-k"), 1, 3, 1, 0)  # the flight's second look is a get
    assert got == want, f"got {got}; want {want}"
    assert group.stats.hot_cache.items == 0
    assert group.stats.as_dict()["main_cache"] == {
        "bytes": want[0],
        "items": 1,
        "gets": 3,
        "hits": 1,
        "evictions": 0,
    }
