"""gee.kv's evict module: Redis's LFU counter functions (LFULogIncr, LFUDecrAndReturn)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from gee.kv.evict import (
    LFU_INIT_VAL,
    lfu_decr_and_return,
    lfu_log_incr,
    lfu_minutes,
    lfu_time_elapsed,
)

counters = st.integers(0, 255)


@given(counters, st.integers(0, 100), st.floats(0, 1))
def test_log_incr_adds_at_most_one_and_saturates(counter: int, factor: int, r: float) -> None:
    got = lfu_log_incr(counter, factor, r)
    assert got in (counter, counter + 1) or counter == 255
    assert got <= 255
    if counter == 255:
        assert got == 255


@given(st.integers(0, LFU_INIT_VAL), st.integers(0, 100), st.floats(0, 1, exclude_max=True))
def test_log_incr_always_counts_new_keys(counter: int, factor: int, r: float) -> None:
    # baseval is 0 at or below LFU_INIT_VAL: p = 1, so every access counts.
    assert lfu_log_incr(counter, factor, r) == counter + 1


@given(st.integers(LFU_INIT_VAL, 254), st.integers(1, 100))
def test_log_incr_probability_is_one_over_baseval_times_factor(counter: int, factor: int) -> None:
    p = 1.0 / ((counter - LFU_INIT_VAL) * factor + 1)
    assert lfu_log_incr(counter, factor, p * 0.999) == counter + 1
    assert lfu_log_incr(counter, factor, p) == counter


def test_log_incr_grows_logarithmically() -> None:
    # Redis's table (redis.conf, lfu-log-factor 10): about 10 at 100 hits, 18 at 1000 ...
    rng = random.Random(7)
    counter = LFU_INIT_VAL
    for _ in range(1000):
        counter = lfu_log_incr(counter, 10, rng.random())
    assert 14 <= counter <= 22, f"got {counter} after 1000 hits; want about 18"


@given(counters, st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 10))
def test_decr_takes_one_per_period(counter: int, ldt: int, now: int, decay: int) -> None:
    field = ldt << 8 | counter
    got = lfu_decr_and_return(field, decay, now)
    elapsed = now - ldt if now >= ldt else 65535 - ldt + now
    want = counter if decay == 0 else max(counter - elapsed // decay, 0)
    assert got == want, f"got {got}; want {want}"


def test_time_elapsed_wraps_once() -> None:
    assert lfu_time_elapsed(10, 15) == 5
    assert lfu_time_elapsed(65530, 4) == 9  # 65535 - 65530 + 4, as Redis computes it
    assert lfu_minutes(60 * 65536 + 120) == 2
