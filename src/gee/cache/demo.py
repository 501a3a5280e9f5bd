"""GeeCache's demo, as ``gee cache`` runs it: a score table in SQLite behind a slow "database".

The table is a gee.orm model in a SQLite file. A missing file is created and seeded with
GeeCache's own rows (Tom 630, Jack 589, Sam 567); an existing one is used as it is. (A plain
mapping may stand in for the file: the benchmarks serve tables of any values.) The group's
getter logs ``[SlowDB] search key K`` for every load, as GeeCache's does, so the log shows the
cache at work: a key is searched once, however often and wherever it is asked for.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from gee.cache.errors import CacheError
from gee.cache.group import Group
from gee.orm import Engine, Field, Model
from gee.web import Context, Gee

__all__ = ["SEED", "Score", "api_app", "demo_group", "open_scores"]

log = logging.getLogger("gee.cache.demo")

# GeeCache's demo table.
SEED = {"Tom": 630, "Jack": 589, "Sam": 567}


class Score(Model, table="scores"):
    """One row of the demo table: a name and its score."""

    name: str = Field(primary_key=True)
    score: int


def open_scores(path: str | os.PathLike[str]) -> Engine:
    """An Engine on the SQLite file ``path``; a missing file is created with the seed rows.

    Several nodes may start on one missing file at once: the table is created if absent and
    each seed row inserted unless present, so whoever comes second changes nothing.
    """
    engine = Engine(f"sqlite:///{os.fspath(path)}")
    if not os.path.exists(path):
        with engine.session() as s:
            s.create_table(Score, exists_ok=True)
            s.upsert(*(Score(name=n, score=v) for n, v in SEED.items()), update=[])
    return engine


def demo_group(
    name: str, cache_bytes: int, scores: Engine | Mapping[str, str], slow_db: float = 0.0
) -> Group:
    """A Group over ``scores``; each load is logged, then takes ``slow_db`` seconds.

    ``scores`` is the Engine of a scores file (:func:`open_scores`), or a plain mapping of key
    to value (``gee cache --db table.json``: the benchmarks' tables of any values). The getter
    is a plain function: the Group runs it in a worker thread, where the sleep and the query
    block nobody. A key with no row fails the load with ``K not exist``.
    """
    find = _finder(scores)

    def load_score(key: str) -> str:
        log.info("[SlowDB] search key %s", key)
        if slow_db:
            time.sleep(slow_db)
        value = find(key)
        if value is None:
            raise KeyError(f"{key} not exist")
        return value

    return Group(name, cache_bytes, load_score)


def _finder(scores: Engine | Mapping[str, str]) -> Callable[[str], str | None]:
    if not isinstance(scores, Engine):
        return scores.get
    engine = scores

    def find(key: str) -> str | None:
        try:
            with engine.session() as s:
                row = s.get(Score, key)
        except UnicodeEncodeError:  # a key of raw bytes, not UTF-8: not a name in the table
            return None
        return None if row is None else str(row.score)

    return find


def api_app(group: Group) -> Gee:
    """GeeCache's front API: ``GET /api?key=K`` answers the value, 500 with the getter's error."""
    app = Gee()

    async def api(c: Context) -> None:
        key = c.query("key")
        if key is None:
            c.string(400, "key is required\n")
            return
        try:
            value = await group.get(key)
        except CacheError as exc:
            c.string(500, "%s\n", exc)
            return
        c.data(200, value, "application/octet-stream")

    app.get("/api", api)
    return app
