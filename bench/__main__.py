"""``python -m bench``: run one system's benchmark with its peers and publish the results.

    python -m bench --list                       # the systems that have a benchmark
    python -m bench web                          # full run: table, JSON, PNG, docs section
    python -m bench web --quick                  # CI smoke test: brief, writes no results or docs
    python -m bench web --no-docs                # full run, leave docs/benchmarks.md alone

A full run writes bench/results/<system>.json and .png and rewrites the system's section of
docs/benchmarks.md. A quick run writes its JSON and PNG to a temp dir (so it never replaces a full
run's results) and never touches the docs. The exit status is 1 when a subject failed (or, with
CI=true, was not installed), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import BENCH_DIR, systems
from bench.common import (
    Report,
    exit_status,
    machine,
    now_utc,
    replace_section,
    report_markdown,
    report_text,
    write_chart,
    write_json,
)

ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DOCS = ROOT / "docs" / "benchmarks.md"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark a gee system against its peers."
    )
    parser.add_argument("system", nargs="?", help="the system to benchmark (see --list)")
    parser.add_argument("--list", action="store_true", help="print the systems and exit")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: brief runs, results to a temp dir"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    names = systems()
    if args.list:
        print("\n".join(names))
        return 0
    if args.system is None:
        parser.error("name a system (one of: " + ", ".join(names) + ")")
    if args.system not in names:
        parser.error(f"no benchmark for {args.system!r} (have: {', '.join(names)})")

    module = importlib.import_module(f"bench.{args.system}")
    run: Callable[[bool], Report] = module.run
    command = shlex.join(["python", "-m", "bench", *argv])
    started = time.monotonic()
    report = run(args.quick)
    elapsed = time.monotonic() - started

    print()
    print(report_text(report))
    if args.quick:
        out_dir = Path(tempfile.gettempdir()) / "gee-bench"
        stem = f"{args.system}.quick"
    else:
        out_dir, stem = RESULTS_DIR, args.system
    host, date = machine(), now_utc()
    json_path, chart_path = out_dir / f"{stem}.json", out_dir / f"{stem}.png"
    write_json(json_path, report, date=date, command=command, quick=args.quick, machine=host)
    write_chart(chart_path, report)
    print(f"wrote {json_path} and {chart_path} ({elapsed:.0f} s)")

    if not args.quick and not args.no_docs:
        body = report_markdown(
            report,
            machine=host,
            date=date,
            command=command,
            chart=os.path.relpath(chart_path, DOCS.parent),
        )
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(replace_section(text, args.system, body), encoding="utf-8")
        print(f"rewrote the {args.system} section of {DOCS}")

    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return exit_status(report, ci=ci)


if __name__ == "__main__":
    sys.exit(main())
