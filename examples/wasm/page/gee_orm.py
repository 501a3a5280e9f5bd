"""Demo 5c: gee.orm on Pyodide's sqlite3, holding the 28 chapters of the seven-days series.

The model, the engine (an in-memory SQLite database) and the queries are the ones a server
would use; the page shows each query's SQL and bound parameters next to its rows.
"""

from __future__ import annotations

from typing import Any

import js

from gee.orm import Engine, Field, Model, col

from .dom import element, listen

CHAPTERS = {
    "Gee": [
        "http.Handler Interface Basic",
        "Design a Flexible Context",
        "Router with Trie-Tree Algorithm",
        "Group Control",
        "Middleware Mechanism",
        "Embedded Template Support",
        "Panic Recover & Make it Robust",
    ],
    "GeeCache": [
        "LRU (Least Recently Used) Caching Strategy",
        "Single Machine Concurrent Cache",
        "Launch a HTTP Server",
        "Consistent Hash Algorithm",
        "Communication between Distributed Nodes",
        "Cache Breakdown & Single Flight",
        "Use Protobuf as RPC Data Exchange Type",
    ],
    "GeeORM": [
        "database/sql Basic",
        "Object Schema Mapping",
        "Insert and Query",
        "Chain, Delete and Update",
        "Support Hooks",
        "Support Transaction",
        "Migrate Database",
    ],
    "GeeRPC": [
        "Server Message Codec",
        "Concurrent Client",
        "Service Register",
        "Timeout Processing",
        "Support HTTP Protocol",
        "Load Balance",
        "Discovery and Registry",
    ],
}


class Chapter(Model, table="chapters"):
    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=16, index=True)
    day: int
    title: str


engine = Engine("sqlite://:memory:")


def load() -> None:
    with engine.transaction() as s:
        s.create_table(Chapter)
        s.insert_many(
            [
                Chapter(system=system, day=day, title=title)
                for system, titles in CHAPTERS.items()
                for day, title in enumerate(titles, 1)
            ]
        )


def refresh(event: Any = None) -> None:
    system = str(element("orm-system").value)
    text = str(element("orm-search").value).strip()
    with engine.session() as s:
        query = s.query(Chapter)
        if system:
            query = query.where(Chapter.system == system)
        if text:
            query = query.where(col(Chapter.title).like(f"%{text}%"))
        query = query.order_by("system", "day")
        rows = query.all()
        sql, params = query.sql()
        total = s.query(Chapter).count()
    element("orm-sql").textContent = f"{sql}  {params}"
    element("orm-count").textContent = f"{len(rows)} of {total} rows"
    body = element("orm-rows")
    body.replaceChildren()
    for row in rows:
        tr = js.document.createElement("tr")
        for value in (row.system, row.day, row.title):
            td = js.document.createElement("td")
            td.textContent = str(value)
            tr.appendChild(td)
        body.appendChild(tr)


def add(event: Any) -> None:
    title = str(element("orm-title").value).strip()
    if not title:
        return
    system = str(element("orm-system").value) or "Gee"
    with engine.transaction() as s:
        day = s.query(Chapter).where(Chapter.system == system).count() + 1
        s.insert(Chapter(system=system, day=day, title=title))
    element("orm-title").value = ""
    refresh()


def main() -> None:
    load()
    listen(element("orm-system"), "change", refresh)
    listen(element("orm-search"), "input", refresh)
    listen(element("orm-add"), "click", add)
    refresh()
