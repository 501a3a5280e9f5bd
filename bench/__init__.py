"""gee's benchmarks: each system measured beside its peers in the same run.

Run ``python -m bench --list`` for the systems that have a benchmark and
``python -m bench <system> [--quick] [--no-docs]`` to run one (see ``bench/__main__.py``).

The contract for a system's benchmark
-------------------------------------
A benchmark is a package ``bench/<system>/`` (``web``, ``kv``, ``cache``...). Every package here
whose name does not start with ``_`` is one; ``--list`` finds them without importing them. Its
``__init__`` defines::

    def run(quick: bool) -> bench.common.Report: ...

``run`` measures gee and its peers and returns a ``Report``: one or more ``Table``s of ``Result``
rows (subject, case, value, extra figures, status). It prints progress if it likes, but writes no
files: the harness (``bench.common``) formats the tables, computes the ratios, writes the JSON and
the PNG chart and rewrites the system's section of ``docs/benchmarks.md``.

- ``quick=True`` is CI's smoke test: every subject still runs, just briefly (the whole system well
  under a minute); it proves the benchmark works and its numbers mean nothing.
- A subject whose package is not installed is a ``Result`` with status ``"unavailable"`` and a
  message saying what to install; one that fails to start, answers wrongly or crashes is
  ``"failed"`` with the reason. ``run`` itself raises only when the benchmark as a whole cannot
  run (e.g. the load generator is missing).
- Keep ``__init__`` cheap to import: import the peers inside ``run``.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

__all__ = ["BENCH_DIR", "systems"]

BENCH_DIR = Path(__file__).resolve().parent


def systems() -> list[str]:
    """The names of the systems that have a benchmark (the public packages of ``bench``), sorted."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(BENCH_DIR)])
        if info.ispkg and not info.name.startswith("_")
    )
