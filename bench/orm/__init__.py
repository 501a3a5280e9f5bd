"""The orm benchmark: gee.orm against raw DB-API, SQLAlchemy 2 (ORM and Core) and peewee.

Five operations on ``users(id pk, name, age, email)`` (``workload``), on a SQLite file and on a
PostgreSQL 15 server the benchmark starts on a free port and stops at the end (``postgres``); one
table of times per database. The subjects, one module each, are written the way each library's
documentation writes the operation (``raw``, ``alchemy``, ``pw``, ``ours``).
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from pathlib import Path

from bench.common import Report, Result, ServerError, Table
from bench.orm.workload import (
    FULL,
    GEE,
    OPERATIONS,
    PEERS,
    QUICK,
    SUBJECTS,
    Sizes,
    label,
    verdict,
)

__all__ = ["run"]


def _table(label: str, results: list[Result], sizes: Sizes) -> Table:
    table = Table(
        title=f"{label}: milliseconds per operation (lower is better)",
        unit="ms",
        higher_is_better=False,
        results=results,
        subject_label="library",
        case_label="operation",
        extra_columns=["× raw"],
        ours=GEE,
        peers=list(PEERS),
    )
    table.notes.append(
        f"{label}, gee.orm against issue 7's targets in this run:\n\n" + verdict(table, sizes)
    )
    return table


def _runs_note(runs: int, budget: float) -> str:
    if runs == 1:
        return "Each figure is one run (quick mode: a smoke test whose figures mean nothing)."
    return (
        f"Each figure is the best of up to {runs} runs, each on a fresh table, taken in rounds"
        " over the libraries; a library gets no further run of an operation once its runs of it"
        f" took {budget:g} s (set-up included), so the fast ones, which noise distorts most, get"
        " the most runs and the slowest peers often one."
    )


def _versions() -> str:
    found = []
    for package in ("SQLAlchemy", "peewee", "psycopg"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def run(quick: bool) -> Report:
    """Measure on SQLite, then on PostgreSQL; ``quick``: sizes divided by 100, one run each."""
    from bench.orm.postgres import postgres
    from bench.orm.subject import Database
    from bench.orm.workload import measure

    sizes = QUICK if quick else FULL
    tables = []
    servers = []
    with tempfile.TemporaryDirectory(prefix="gee-bench-orm-") as tmp:
        db = Database("sqlite", "SQLite file", path=Path(tmp) / "bench.db")
        print("SQLite", flush=True)
        results, version = measure(db, sizes)
        servers.append(version)
        tables.append(_table(db.label, results, sizes))

    print("PostgreSQL", flush=True)
    try:
        with postgres() as dsn:
            db = Database("postgresql", "PostgreSQL", dsn=dsn)
            results, version = measure(db, sizes)
            servers.append(version)
    except (ServerError, OSError, ImportError) as exc:
        reason = f"PostgreSQL did not start: {exc}"
        print(f"  {reason}", flush=True)
        results = [
            Result(name, op.case(sizes), status="failed", detail=reason[:300])
            for op in OPERATIONS
            for name, *_ in SUBJECTS
        ]
    tables.append(_table("PostgreSQL", results, sizes))

    return Report(
        system="orm",
        title="orm: gee.orm against raw DB-API, SQLAlchemy and peewee",
        tables=tables,
        notes=[
            "Operations, each on a fresh `users(id pk, name, age, email)` table created by the"
            " benchmark with one DDL for every library (filled by raw `executemany` first for"
            " the reads and updates); only the library's call is timed, then what it returned"
            " (ids, every value read) and the whole table afterwards are checked row by row, so"
            " every library is seen to leave the same database state, keys included. Inserts and"
            " updates run in one transaction; every single insert takes its generated key; every"
            " key is looked up once, in shuffled order; an update adds 1 to the age of an object"
            " loaded beforehand (untimed) and writes it back.",
            "Bulk insert, the same task for every library: start from one list of"
            f" {label(sizes.bulk)} plain `(name, age, email)` tuples and get them into the table"
            " in one transaction with the library's bulk call; whatever that call needs made of"
            " the tuples (dicts for SQLAlchemy) is made inside the timed call; no library builds"
            " model objects or fetches the generated keys (none of the bulk calls used returns"
            " them).",
            "Each library is used the way its documentation writes the operation. Raw is the"
            " limit: sqlite3 / psycopg 3 with hand-written SQL, done the best plain way with"
            " gee.orm's transaction handling (autocommit connection, explicit BEGIN/COMMIT"
            " around the writes, reads outside a transaction, one reused cursor), rows built"
            " into dataclasses, an UPDATE that sets only the changed column, bulk as one"
            " `executemany` (pipelined by psycopg). SQLAlchemy ORM flushes after each `add` or"
            " change (one INSERT/UPDATE per row, key known before the next), bulk-inserts with"
            " `session.execute(insert(User), dicts)` and reads with `session.scalars(select(User))`"
            " and `session.get`; SQLAlchemy Core executes `insert`/`select`/`update` constructs"
            " and turns each `Row` it reads into the dataclass raw builds (Core has no model"
            " objects, and its read-only C rows alone would do less than raw, the limit);"
            " peewee uses `Model.create`, `insert_many` in"
            " `chunked(rows, 100)`, `select()`, `get_by_id` and `save()`; gee.orm uses"
            " `s.insert`, `s.insert_many(User, rows)`, `s.query(User).all()`, `s.get` and"
            " `s.update` (which writes every field). The garbage collector is on (collected"
            " before each timing).",
            _runs_note(sizes.runs, sizes.budget),
            "SQLite: one file in a temp dir, default journal and synchronous settings."
            " PostgreSQL: a fresh cluster on loopback with fsync, synchronous_commit,"
            " full_page_writes and autovacuum off (the same for every library); psycopg 3"
            " prepares a statement on the server after 5 executions, for every library on it.",
            "Issue 7, measured before gee existed (time as a multiple of raw): insert one by one"
            " — SQLAlchemy ORM 39–86×, peewee 38×; bulk insert — SQLAlchemy Core 3.2×, peewee"
            " 11×; select all — SQLAlchemy ORM 9×, peewee 4.9×; get by pk — SQLAlchemy ORM"
            " 9.7×, peewee 10.6×; update one by one — peewee 9×. Targets for gee.orm: ≤ 5× raw"
            " on single inserts, 2× on bulk insert, 1.5× on select-all, 2× on get-by-pk, 3× on"
            " updates, and ahead of every peer on every row.",
            f"Versions: {', '.join(servers)}, {_versions()}.",
        ],
    )
