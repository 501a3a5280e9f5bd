"""LRUCache against a reference model, plus the edges groupcache's lru_test.go covers."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.cache.lru import LRUCache, entry_size


class ModelLRU:
    """The obvious LRU: an OrderedDict, re-measured from scratch after every step."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.data: OrderedDict[str, bytes] = OrderedDict()
        self.evicted: list[tuple[str, bytes]] = []

    def size(self) -> int:
        return sum(entry_size(k, v) for k, v in self.data.items())

    def get(self, key: str) -> bytes | None:
        if key not in self.data:
            return None
        self.data.move_to_end(key)
        return self.data[key]

    def add(self, key: str, value: bytes) -> None:
        if self.max_bytes and entry_size(key, value) > self.max_bytes:
            self.remove(key)
            return
        self.data[key] = value
        self.data.move_to_end(key)
        while self.max_bytes and self.size() > self.max_bytes:
            self.evicted.append(self.data.popitem(last=False))

    def remove(self, key: str) -> bytes | None:
        value = self.data.pop(key, None)
        if value is not None:
            self.evicted.append((key, value))
        return value


keys = st.sampled_from(["", "a", "b", "key", "ключ", "k/ey", "%41", "z" * 20])
values = st.binary(max_size=24)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("get"), keys),
        st.tuples(st.just("add"), keys, values),
        st.tuples(st.just("remove"), keys),
        st.tuples(st.just("oldest")),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(max_bytes=st.sampled_from([0, 1, 10, 40, 100]), steps=ops)
def test_lru_matches_reference_model(max_bytes: int, steps: list[tuple[object, ...]]) -> None:
    evicted: list[tuple[str, bytes]] = []
    cache = LRUCache(max_bytes, on_evicted=lambda k, v: evicted.append((k, v)))
    model = ModelLRU(max_bytes)
    for step in steps:
        if step[0] == "get":
            key = str(step[1])
            got, want = cache.get(key), model.get(key)
            assert got == want, f"get({key!r}): got {got!r}; want {want!r}"
        elif step[0] == "add":
            key, value = str(step[1]), step[2]
            assert isinstance(value, bytes)
            cache.add(key, value)
            model.add(key, value)
        elif step[0] == "remove":
            key = str(step[1])
            got, want = cache.remove(key), model.remove(key)
            assert got == want, f"remove({key!r}): got {got!r}; want {want!r}"
        else:
            want_item = next(iter(model.data.items()), None)
            if want_item is not None:
                model.remove(want_item[0])
            got_item = cache.remove_oldest()
            assert got_item == want_item, f"remove_oldest: got {got_item!r}; want {want_item!r}"
        assert list(cache.keys()) == list(model.data), f"order: got {list(cache.keys())}"
        assert cache.nbytes == model.size(), f"nbytes: got {cache.nbytes}; want {model.size()}"
        assert len(cache) == len(model.data)
        assert evicted == model.evicted, f"evicted: got {evicted}; want {model.evicted}"
        if max_bytes:
            assert cache.nbytes <= max_bytes, f"nbytes {cache.nbytes} > max_bytes {max_bytes}"


@pytest.mark.parametrize(
    ("key", "value", "want"),
    [("", b"", 0), ("ab", b"xyz", 5), ("é", b"", 2), ("日本", b"1", 7)],
)
def test_entry_size_counts_utf8_bytes(key: str, value: bytes, want: int) -> None:
    got = entry_size(key, value)
    assert got == want, f"entry_size({key!r}, {value!r}): got {got}; want {want}"


def test_zero_max_bytes_means_no_limit() -> None:
    cache = LRUCache(0)
    for i in range(1000):
        cache.add(f"k{i}", b"x" * 100)
    assert len(cache) == 1000, f"got {len(cache)} entries; want 1000"


def test_get_refreshes_recency() -> None:
    cache = LRUCache(entry_size("a", b"1") * 2)
    cache.add("a", b"1")
    cache.add("b", b"2")
    assert cache.get("a") == b"1"
    cache.add("c", b"3")  # evicts b, the least recently used
    assert list(cache.keys()) == ["a", "c"], f"got {list(cache.keys())}; want ['a', 'c']"


def test_peek_and_contains_do_not_refresh() -> None:
    cache = LRUCache(4)
    cache.add("a", b"1")
    cache.add("b", b"2")
    assert cache.peek("a") == b"1"
    assert "a" in cache
    cache.add("c", b"3")
    assert list(cache.keys()) == ["b", "c"], f"got {list(cache.keys())}; want ['b', 'c']"


def test_replacing_a_value_adjusts_bytes_and_does_not_call_on_evicted() -> None:
    evicted: list[str] = []
    cache = LRUCache(0, on_evicted=lambda k, v: evicted.append(k))
    cache.add("k", b"12345")
    cache.add("k", b"1")
    assert cache.nbytes == 2, f"got {cache.nbytes}; want 2"
    assert evicted == []


def test_oversized_entry_is_not_stored_and_keeps_the_others() -> None:
    cache = LRUCache(10)
    cache.add("a", b"1")
    cache.add("big", b"x" * 20)
    assert list(cache.keys()) == ["a"], f"got {list(cache.keys())}; want ['a']"


def test_clear_and_empty_remove_oldest() -> None:
    cache = LRUCache(0)
    cache.add("a", b"1")
    cache.clear()
    assert (len(cache), cache.nbytes, cache.remove_oldest()) == (0, 0, None)


def test_negative_max_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        LRUCache(-1)
