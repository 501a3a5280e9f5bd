"""Memory bound: a long run of distinct keys never holds more than cache_bytes, and RSS is flat."""

from __future__ import annotations

import gc
import os

import pytest

from gee.cache import Group


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
async def test_distinct_keys_stay_within_cache_bytes_and_rss_is_flat() -> None:
    cache_bytes = 256 * 1024

    async def getter(key: str) -> bytes:
        return key.encode() * 10

    group = Group("memory", cache_bytes, getter, register=False)

    main_lru, hot_lru = group._main.lru, group._hot.lru  # the caches' own byte counts

    async def run(start: int, stop: int) -> None:
        for i in range(start, stop):
            await group.get(f"key-{i:09d}")
            used = main_lru.nbytes + hot_lru.nbytes
            if used > cache_bytes:
                raise AssertionError(
                    f"after key {i}: got {used} bytes cached; want <= {cache_bytes}"
                )

    await run(0, 50_000)  # warm up: the cache fills, the allocator settles
    gc.collect()
    before = rss_bytes()
    await run(50_000, 200_000)
    gc.collect()
    grown = rss_bytes() - before
    main = group.cache_stats("main")
    assert main.evictions > 150_000 - main.items, f"got {main}"
    assert grown < 4 * 1024 * 1024, f"RSS grew {grown} bytes over 150,000 more keys; want flat"
