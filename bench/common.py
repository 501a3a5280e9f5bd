"""The shared harness: what a benchmark returns, and how it becomes a table, a JSON file, a chart
and a section of docs/benchmarks.md; plus starting and stopping the programs a benchmark measures.

Everything that turns numbers into text is a pure function (tested in
tests/test_bench_harness.py); the few functions that touch files, processes or the machine say so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

__all__ = [
    "Report",
    "Result",
    "Server",
    "ServerError",
    "Table",
    "exit_status",
    "format_number",
    "format_ratio",
    "free_port",
    "http_get",
    "machine",
    "markdown_table",
    "paired_note",
    "paired_ratio",
    "ratio",
    "replace_section",
    "report_markdown",
    "report_text",
    "section_markers",
    "table_rows",
    "text_table",
    "versus_rows",
    "write_chart",
    "write_json",
]

Status = Literal["ok", "failed", "unavailable"]


@dataclass
class Result:
    """One measured figure: ``subject`` (e.g. "Starlette") on ``case`` (e.g. "plaintext").

    ``value`` is the table's main figure in its unit; None when the subject did not run, in which
    case ``status`` says why ("failed": it broke; "unavailable": its package is not installed) and
    ``detail`` gives the reason. ``extra`` holds secondary figures keyed by column heading
    (e.g. ``{"p99 ms": 3.2}``).
    """

    subject: str
    case: str
    value: float | None = None
    extra: dict[str, float] = field(default_factory=dict)
    status: Status = "ok"
    detail: str = ""


@dataclass
class Table:
    """A set of results that share a unit, so that ratios between them mean something.

    ``baseline`` is the subject every row is compared with (a "vs <baseline>" column; None: no
    such column). ``ours`` is gee's subject, compared with each subject of ``peers`` case by
    case in a second table (None: no such table). ``extra_columns`` orders the ``extra`` figures.
    """

    title: str
    unit: str
    higher_is_better: bool
    results: list[Result] = field(default_factory=list)
    subject_label: str = "subject"
    case_label: str = "case"
    extra_columns: list[str] = field(default_factory=list)
    baseline: str | None = None
    ours: str | None = None
    peers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def value(self, subject: str, case: str) -> float | None:
        """The value of ``subject`` on ``case``; None if it has no successful result there."""
        for result in self.results:
            if result.subject == subject and result.case == case and result.status == "ok":
                return result.value
        return None

    def cases(self) -> list[str]:
        """The cases in the order they first appear."""
        return list(dict.fromkeys(result.case for result in self.results))


@dataclass
class Report:
    """What a system's ``run(quick)`` returns: its tables and notes on how to read them."""

    system: str
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def results(self) -> Iterator[Result]:
        for table in self.tables:
            yield from table.results


# --- numbers and ratios ---------------------------------------------------------------------------


def median_result(rounds: list[Result]) -> Result:
    """The round with the median value (the lower middle of an even count), so that a burst of
    load elsewhere on a small machine costs one round, not the figure; the last round that did
    not succeed, if any."""
    bad = [r for r in rounds if r.status != "ok" or r.value is None]
    if bad:
        return bad[-1]
    ordered = sorted(rounds, key=lambda r: r.value or 0.0)
    return ordered[(len(ordered) - 1) // 2]


def paired_ratio(
    ours: Sequence[Result], theirs: Sequence[Result], higher_is_better: bool
) -> float | None:
    """The median (lower middle) of the pass-by-pass ratios of ``ours`` to ``theirs``: pass i's
    results, taken seconds apart, side by side. Unlike the ratio of each one's median pass, a
    change in the host's speed between passes cancels. Passes where either failed are left out;
    None when none is left (or either side has no passes)."""
    if not ours or not theirs:
        return None
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} passes against {len(theirs)}: not paired")
    ratios = sorted(
        r
        for o, t in zip(ours, theirs, strict=True)
        if o.status == "ok"
        and t.status == "ok"
        and (r := ratio(o.value, t.value, higher_is_better)) is not None
    )
    return ratios[(len(ratios) - 1) // 2] if ratios else None


def paired_note(
    rounds: dict[tuple[str, str], list[Result]], ours: str, theirs: str, higher_is_better: bool
) -> str:
    """A table note: for each case of ``rounds`` (results by (subject, case), one per pass),
    ``paired_ratio`` of ``ours`` to ``theirs``."""
    cases = list(dict.fromkeys(case for _, case in rounds))
    parts = []
    for case in cases:
        mine, other = rounds.get((ours, case)), rounds.get((theirs, case))
        if mine and other:
            parts.append(f"{case} {format_ratio(paired_ratio(mine, other, higher_is_better))}")
    return (
        f"Pass by pass ({ours} and {theirs} ran each case seconds apart in every pass, so a"
        f" change in the host's speed between passes cancels), the median ratio of {ours} to"
        f" {theirs}: " + ", ".join(parts) + "."
    )


def ratio(ours: float | None, theirs: float | None, higher_is_better: bool) -> float | None:
    """How many times better ``ours`` is than ``theirs``: above 1 means ahead.

    For throughput that is ours/theirs, for a time theirs/ours. None when either is missing or
    not positive (no meaningful ratio).
    """
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return None
    return ours / theirs if higher_is_better else theirs / ours


def format_number(value: float | None) -> str:
    """A figure with as many digits as a benchmark can honestly claim: about three."""
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(value: float | None) -> str:
    """A ratio as ``0.93×`` or ``12.5×``; "—" when there is none."""
    if value is None:
        return "—"
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×"


_STATUS_LABEL = {"ok": "—", "failed": "failed", "unavailable": "not installed"}


# --- tables ---------------------------------------------------------------------------------------

Rows = list[list[str]]


def table_rows(table: Table) -> tuple[list[str], Rows]:
    """The main table: one row per result, grouped by case, with the ratio to the baseline."""
    header = [table.subject_label, table.case_label, table.unit, *table.extra_columns]
    if table.baseline is not None:
        header.append(f"vs {table.baseline}")
    rows: Rows = []
    for case in table.cases():
        base = table.value(table.baseline, case) if table.baseline is not None else None
        for result in table.results:
            if result.case != case:
                continue
            ok = result.status == "ok"
            row = [
                result.subject,
                case,
                format_number(result.value) if ok else _STATUS_LABEL[result.status],
                *(
                    format_number(result.extra.get(column)) if ok else "—"
                    for column in table.extra_columns
                ),
            ]
            if table.baseline is not None:
                value = result.value if ok else None
                row.append(format_ratio(ratio(value, base, table.higher_is_better)))
            rows.append(row)
    return header, rows


def versus_rows(table: Table) -> tuple[list[str], Rows] | None:
    """``ours`` against each peer, one column per case (above 1: ours is ahead); None if no ours."""
    if table.ours is None or not table.peers:
        return None
    cases = table.cases()
    header = [f"{table.ours} vs", *cases]
    rows = [
        [
            peer,
            *(
                format_ratio(
                    ratio(
                        table.value(table.ours, case),
                        table.value(peer, case),
                        table.higher_is_better,
                    )
                )
                for case in cases
            ),
        ]
        for peer in table.peers
    ]
    return header, rows


def _numeric(cell: str) -> bool:
    """Whether a cell belongs in a column of figures (a figure, or what stands in for one)."""
    return cell[:1].isdigit() or cell in ("—", "failed", "not installed")


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded for a terminal; numbers right-aligned, words left-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str], is_header: bool = False) -> str:
        parts = [
            cell.rjust(width) if i > 0 and not is_header and _numeric(cell) else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header, True), rule, *(line(row) for row in rows)])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table; columns of figures are right-aligned."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    align = [
        "--:" if i > 0 and column and all(map(_numeric, column)) else "---"
        for i, column in enumerate(columns)
    ]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _problems(table: Table) -> list[str]:
    return [
        f"{r.subject} ({r.case}): {_STATUS_LABEL[r.status]} — {r.detail}"
        for r in table.results
        if r.status != "ok"
    ]


def _versus_caption(table: Table) -> str:
    return f"{table.ours} against each peer (above 1×: {table.ours} is ahead):"


def report_text(report: Report) -> str:
    """The report for a terminal: each table, the ours-vs-peers table and the problems."""
    out = [report.title, "=" * len(report.title)]
    for table in report.tables:
        out += ["", table.title, "", text_table(*table_rows(table))]
        versus = versus_rows(table)
        if versus is not None:
            out += ["", _versus_caption(table), "", text_table(*versus)]
        out += [f"\n{note}" for note in table.notes]
        out += [f"! {problem}" for problem in _problems(table)]
    return "\n".join(out) + "\n"


def report_markdown(
    report: Report, *, machine: dict[str, str], date: str, command: str, chart: str | None
) -> str:
    """The body of the system's section of docs/benchmarks.md (markers not included)."""
    out = [
        f"## {report.title}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; {machine['os']}",
        f"- Python: {machine['python']}",
        f"- Date: {date}",
        f"- Command: `{command}`",
    ]
    for table in report.tables:
        out += ["", f"### {table.title}", "", markdown_table(*table_rows(table))]
        versus = versus_rows(table)
        if versus is not None:
            out += ["", _versus_caption(table), "", markdown_table(*versus)]
        problems = _problems(table)
        if problems:
            out += ["", *(f"- {problem}" for problem in problems)]
        for note in table.notes:
            out += ["", note]
    if chart is not None:
        out += ["", f"![{report.system} benchmark chart]({chart})"]
    for note in report.notes:
        out += ["", note]
    return "\n".join(out)


# --- docs/benchmarks.md ---------------------------------------------------------------------------

DOCS_HEADER = """# Benchmarks

Each section is written by `python -m bench <system>` from one run on the machine it names; gee and
its peers are measured in the same run. Re-run the command on a quiet machine to refresh a section.
"""


def section_markers(system: str) -> tuple[str, str]:
    """The comment lines that fence ``system``'s section of docs/benchmarks.md."""
    return f"<!-- bench:{system}:start -->", f"<!-- bench:{system}:end -->"


def replace_section(text: str, system: str, body: str) -> str:
    """Return ``text`` with ``system``'s section replaced by ``body`` (appended if absent).

    Everything outside the markers is kept byte for byte. An empty ``text`` gets the page's
    header first. A start marker without its end marker is an error, not something to guess at.
    """
    start, end = section_markers(system)
    section = f"{start}\n{body.strip()}\n{end}"
    begin = text.find(start)
    if begin < 0:
        if not text.strip():
            return f"{DOCS_HEADER}\n{section}\n"
        return f"{text.rstrip()}\n\n{section}\n"
    finish = text.find(end, begin)
    if finish < 0:
        raise ValueError(f"{start} has no matching {end}; fix the file by hand")
    return text[:begin] + section + text[finish + len(end) :]


# --- files and the machine (side effects) --------------------------------------------------------


def machine() -> dict[str, str]:
    """The machine a run is on: CPU model, logical cores, Python, OS (reads /proc and /etc)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = f"{platform.system()} {platform.release()}"
    with contextlib.suppress(OSError):
        release = platform.freedesktop_os_release()
        os_name = f"{release.get('PRETTY_NAME', release.get('NAME', ''))}, {os_name}"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": os_name,
    }


def now_utc() -> str:
    """The current time, to the minute, in UTC."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_json(path: Path, report: Report, **meta: Any) -> None:
    """Write the report, its ratios and ``meta`` (machine, date, command...) as JSON."""
    tables = []
    for table in report.tables:
        data = asdict(table)
        cases = table.cases()
        if table.baseline is not None:
            for result in data["results"]:
                base = table.value(table.baseline, result["case"])
                result[f"vs {table.baseline}"] = ratio(
                    result["value"], base, table.higher_is_better
                )
        if table.ours is not None:
            data[f"{table.ours} vs"] = {
                peer: {
                    case: ratio(
                        table.value(table.ours, case),
                        table.value(peer, case),
                        table.higher_is_better,
                    )
                    for case in cases
                }
                for peer in table.peers
            }
        tables.append(data)
    document = {
        "system": report.system,
        "title": report.title,
        **meta,
        "tables": tables,
        "notes": report.notes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_chart(path: Path, report: Report) -> None:
    """Draw one grouped bar chart per table (cases on the x axis, a bar per subject) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = report.tables
    fig, axes = plt.subplots(1, len(tables), figsize=(7 * len(tables), 5), squeeze=False)
    for ax, table in zip(axes[0], tables, strict=True):
        cases = table.cases()
        subjects = list(dict.fromkeys(result.subject for result in table.results))
        width = 0.8 / max(len(subjects), 1)
        values = [v for r in table.results if r.status == "ok" and (v := r.value)]
        if values and max(values) / min(values) > 50:
            ax.set_yscale("log")  # e.g. a 50 µs router beside a 0.5 µs one
        for i, subject in enumerate(subjects):
            heights = [table.value(subject, case) or 0.0 for case in cases]
            xs = [c + (i - (len(subjects) - 1) / 2) * width for c in range(len(cases))]
            bars = ax.bar(xs, heights, width, label=subject)
            labels = [format_number(h) if h else "" for h in heights]
            ax.bar_label(bars, labels=labels, fontsize=7, rotation=90, padding=2)
        ax.set_xticks(range(len(cases)), cases)
        ax.set_ylabel(table.unit + ("" if table.higher_is_better else " (lower is better)"))
        ax.set_title(table.title, fontsize=9)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=4)
        ax.margins(y=0.15)
    fig.suptitle(report.title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def exit_status(report: Report, *, ci: bool) -> int:
    """1 if a subject failed, or (under CI, where the set-up must be complete) was not installed."""
    for result in report.results():
        if result.status == "failed" or (result.status == "unavailable" and ci):
            return 1
    return 0


# --- processes ------------------------------------------------------------------------------------


class ServerError(Exception):
    """A measured program did not start or did not answer as it should."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET ``path`` from 127.0.0.1:``port``; return (status, body). Raises OSError if down."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A program under measurement, in its own process group, stopped by its PID.

    Its stderr and stdout go to a temp file whose tail is quoted when it fails. Use as a context
    manager: ``with Server(argv) as server: server.wait_until(check)``.
    """

    def __init__(
        self, argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> Server:
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers it forks stop with it
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 8) -> str:
        """The last lines the program printed."""
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return "\n".join(text[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``ready`` (OSError counts as not yet) until it is true; raise ServerError if the
        program exits or ``timeout`` seconds pass first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                output = self.log_tail() or "(no output)"
                raise ServerError(f"exited with status {self.process.returncode}: {output}")
            with contextlib.suppress(OSError):
                if ready():
                    return
            if time.monotonic() > deadline:
                raise ServerError(f"not ready after {timeout:.0f} s: {self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 5 s, and reap the process."""
        process, self.process = self.process, None
        if process is not None:
            # The whole group, even if the leader is gone: a server's forked workers may outlive
            # it. The group's id cannot be reused while any member is alive.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
