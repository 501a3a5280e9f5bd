"""SingleFlight: one call per key among concurrent callers, errors to all, cancellation safe."""

from __future__ import annotations

import asyncio

import pytest

from gee.cache.singleflight import SingleFlight


@pytest.mark.parametrize("callers", [1, 2, 100, 1000])
async def test_concurrent_callers_share_one_call(callers: int) -> None:
    flight: SingleFlight[str] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "v"

    waiters = [asyncio.create_task(flight.do("k", load)) for _ in range(callers)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters)
    assert calls == 1, f"got {calls} calls; want 1"
    assert results == ["v"] * callers
    assert len(flight) == 0, "a finished call was not forgotten"


async def test_distinct_keys_do_not_share() -> None:
    flight: SingleFlight[str] = SingleFlight()

    async def load(key: str) -> str:
        await asyncio.sleep(0.01)
        return key

    got = await asyncio.gather(*(flight.do(k, lambda k=k: load(k)) for k in "abc"))  # type: ignore[misc]
    assert got == ["a", "b", "c"], f"got {got}; want ['a', 'b', 'c']"


async def test_error_reaches_every_waiter() -> None:
    flight: SingleFlight[str] = SingleFlight()
    calls = 0

    async def fail() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("db down")

    results = await asyncio.gather(
        *(flight.do("k", fail) for _ in range(10)), return_exceptions=True
    )
    assert calls == 1, f"got {calls} calls; want 1"
    for result in results:
        assert isinstance(result, RuntimeError), f"got {result!r}; want RuntimeError('db down')"
        assert str(result) == "db down"


async def test_after_an_error_the_next_call_runs_again() -> None:
    flight: SingleFlight[str] = SingleFlight()
    outcomes = iter([RuntimeError("once"), "ok"])

    async def load() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(RuntimeError, match="once"):
        await flight.do("k", load)
    assert await flight.do("k", load) == "ok"


async def test_cancelling_one_waiter_does_not_cancel_the_call() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()
    finished = False

    async def load() -> str:
        nonlocal finished
        await release.wait()
        finished = True
        return "v"

    first = asyncio.create_task(flight.do("k", load))
    second = asyncio.create_task(flight.do("k", load))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await second == "v"
    assert first.cancelled(), "the cancelled waiter was not cancelled"
    assert finished


async def test_cancelling_every_waiter_lets_the_call_finish() -> None:
    flight: SingleFlight[str] = SingleFlight()
    done = asyncio.Event()

    async def load() -> str:
        await asyncio.sleep(0.01)
        done.set()
        raise RuntimeError("nobody reads this, and asyncio must not complain")

    waiter = asyncio.create_task(flight.do("k", load))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.wait_for(done.wait(), 1)
    await asyncio.sleep(0.01)
    assert not flight.in_flight("k")


async def test_forget_starts_a_fresh_call() -> None:
    flight: SingleFlight[int] = SingleFlight()
    release = asyncio.Event()
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        mine = calls
        await release.wait()
        return mine

    old = asyncio.create_task(flight.do("k", load))
    await asyncio.sleep(0)
    flight.forget("k")
    new = asyncio.create_task(flight.do("k", load))
    await asyncio.sleep(0)
    release.set()
    got = (await old, await new)
    assert got == (1, 2), f"got {got}; want (1, 2)"
    assert len(flight) == 0


async def test_is_current_turns_false_after_forget() -> None:
    flight: SingleFlight[tuple[bool, bool]] = SingleFlight()
    started, release = asyncio.Event(), asyncio.Event()

    async def load() -> tuple[bool, bool]:
        before = flight.is_current("k")
        started.set()
        await release.wait()
        return before, flight.is_current("k")

    task = asyncio.create_task(flight.do("k", load))
    await started.wait()
    flight.forget("k")
    release.set()
    got = await task
    assert got == (True, False), f"got {got}; want (True, False)"
    assert not flight.is_current("k"), "outside a call nothing is current"
