"""The keyspace leaf: lazy expiry, the active cycle's heap, WATCH and readiness hooks."""

from __future__ import annotations

import time

from gee.kv.keyspace import Keyspace, now_ms


def test_lazy_expiry_and_counters() -> None:
    ks = Keyspace(2)
    db = ks.dbs[0]
    db.set(b"k", b"v")
    db.set_expire(b"k", now_ms() - 1)
    assert db.get(b"k") is None
    assert b"k" not in db.data
    assert ks.expired_keys == 1


def test_active_cycle_reclaims_in_deadline_order_within_budget() -> None:
    ks = Keyspace(1)
    db = ks.dbs[0]
    for i in range(1000):
        db.set(b"%d" % i, b"v")
        db.set_expire(b"%d" % i, now_ms() - 1)
    db.set(b"later", b"v")
    db.set_expire(b"later", now_ms() + 60_000)
    while ks.active_expire(0.001):
        pass
    assert list(db.data) == [b"later"]


def test_stale_heap_entries_are_skipped_and_compacted() -> None:
    ks = Keyspace(1)
    db = ks.dbs[0]
    db.set(b"k", b"v")
    for i in range(5000):
        db.set_expire(b"k", now_ms() + 60_000 + i)
    assert len(db.heap) <= 2 * len(db.expires) + 1024
    ks.active_expire(0.01)
    assert db.get(b"k") == b"v"


def test_swap_touches_watchers_of_keys_in_either_db() -> None:
    class Watcher:
        dirty_cas = False

    ks = Keyspace(2)
    watcher = Watcher()
    ks.dbs[0].watched[b"k"] = [watcher]  # type: ignore[list-item]
    ks.dbs[1].set(b"k", b"v")
    ks.swap(0, 1)
    assert watcher.dirty_cas
    assert ks.dbs[0].get(b"k") == b"v"
    time.sleep(0)
