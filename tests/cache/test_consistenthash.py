"""HashRing: groupcache's own table, a brute-force oracle, and minimal movement."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.cache.consistenthash import HashRing, crc32


def atoi_hash(data: bytes) -> int:
    """The hash groupcache's consistenthash_test.go uses: the key read as a decimal number."""
    return int(data.decode())


def brute_force_owner(peers: list[str], key: str, replicas: int = 50) -> str | None:
    """Scan every point: the smallest point >= hash(key), else the smallest point of all."""
    points: dict[int, str] = {}
    for peer in peers:
        for i in range(replicas):
            points[zlib.crc32(f"{i}{peer}".encode("utf-8", "surrogateescape"))] = peer
    if not points:
        return None
    h = zlib.crc32(key.encode("utf-8", "surrogateescape"))
    at_or_after = [p for p in points if p >= h]
    return points[min(at_or_after) if at_or_after else min(points)]


@pytest.mark.parametrize(("key", "want"), [("2", "2"), ("11", "2"), ("23", "4"), ("27", "2")])
def test_groupcache_table(key: str, want: str) -> None:
    ring = HashRing(3, atoi_hash)
    ring.add("6", "4", "2")  # points 2 4 6 12 14 16 22 24 26
    got = ring.owner(key)
    assert got == want, f"owner({key!r}): got {got!r}; want {want!r}"


def test_groupcache_table_after_adding_8() -> None:
    ring = HashRing(3, atoi_hash)
    ring.add("6", "4", "2")
    ring.add("8")  # 8 18 28: 27 now belongs to 8
    assert ring.owner("27") == "8", f"got {ring.owner('27')!r}; want '8'"


def test_later_peer_wins_a_collision() -> None:
    ring = HashRing(1, lambda data: 7)
    ring.add("first", "second")
    assert ring.owner("anything") == "second", f"got {ring.owner('anything')!r}; want 'second'"
    assert len(ring) == 1


def test_empty_ring_has_no_owner() -> None:
    ring = HashRing()
    assert not ring
    assert ring.owner("k") is None


def test_crc32_is_ieee() -> None:
    # The check value of CRC-32/ISO-HDLC (IEEE 802.3), as Go's crc32.ChecksumIEEE gives it.
    assert crc32(b"123456789") == 0xCBF43926


def test_consistency_regardless_of_order_of_distinct_points() -> None:
    a = HashRing.of(["http://a:1", "http://b:2", "http://c:3"])
    b = HashRing.of(["http://c:3", "http://a:1", "http://b:2"])
    for i in range(500):
        key = f"key{i}"
        assert a.owner(key) == b.owner(key), f"owner({key!r}) depends on the order"


peer_names = st.lists(
    st.text(min_size=1, max_size=12).map(lambda s: "http://" + s),
    min_size=1,
    max_size=8,
    unique=True,
)
any_keys = st.lists(st.text(max_size=16), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(peers=peer_names, keys=any_keys)
def test_owner_matches_brute_force(peers: list[str], keys: list[str]) -> None:
    ring = HashRing.of(peers)
    for key in keys:
        got, want = ring.owner(key), brute_force_owner(peers, key)
        assert got == want, f"owner({key!r}) over {peers}: got {got!r}; want {want!r}"


@settings(max_examples=150, deadline=None)
@given(peers=peer_names, newcomer=st.text(min_size=1, max_size=12), keys=any_keys)
def test_adding_or_removing_one_peer_moves_only_its_keys(
    peers: list[str], newcomer: str, keys: list[str]
) -> None:
    newcomer = "http://new/" + newcomer
    before = HashRing.of(peers)
    after = HashRing.of([*peers, newcomer])
    for key in keys:
        old, new = before.owner(key), after.owner(key)
        # In: a key changes owner only to the newcomer. Out (read the other way): a key changes
        # owner only if it was the leaver's.
        assert old == new or new == newcomer, f"{key!r} moved {old!r} -> {new!r}, not to newcomer"


@settings(max_examples=150, deadline=None)
@given(peers=peer_names, data=st.data(), keys=any_keys)
def test_removing_any_peer_moves_only_its_keys(
    peers: list[str], data: st.DataObject, keys: list[str]
) -> None:
    leaver = data.draw(st.sampled_from(peers))
    before = HashRing.of(peers)
    after = HashRing.of([p for p in peers if p != leaver])
    for key in keys:
        old, new = before.owner(key), after.owner(key)
        assert old in (new, leaver), f"{key!r} moved {old!r} -> {new!r}; {leaver!r} left"


@settings(max_examples=50, deadline=None)
@given(peers=peer_names)
def test_shares_sum_to_one_and_match_sampled_keys(peers: list[str]) -> None:
    ring = HashRing.of(peers)
    shares = ring.shares()
    assert abs(sum(shares.values()) - 1) < 1e-9, f"got shares summing to {sum(shares.values())}"
    assert set(shares) == set(peers)


def test_shares_of_empty_ring() -> None:
    assert HashRing().shares() == {}
