"""docs/web.md: every ```python block runs, in order, in a scratch directory.

Blocks fenced as ```lang file=PATH are written to PATH first, so snippets can load the
templates and static files the guide shows. ``test_*`` functions a block defines (coroutines
or plain ones) are run too: the guide's pytest examples. ``__name__`` is not "__main__", so
``app.run()`` under the usual guard does not start a server.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import types
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str, str, int]]:
    text = DOC.read_text()
    return [
        (m.group(1), m.group(2).strip(), m.group(3), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


PYTHON = [(code, line) for lang, _, code, line in blocks() if lang == "python"]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for _, info, code, _ in blocks():
        if info.startswith("file="):
            target = tmp_path / info.removeprefix("file=")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_guide_has_snippets() -> None:
    assert len(PYTHON) >= 10


@pytest.mark.parametrize(("code", "line"), PYTHON, ids=[f"line{line}" for _, line in PYTHON])
def test_snippet_runs(scratch: Path, monkeypatch: pytest.MonkeyPatch, code: str, line: int) -> None:
    # A real module in sys.modules, as a user's file would be (dataclasses look it up).
    module = types.ModuleType(f"docs_web_line{line}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, f"{DOC}:{line}", "exec"), module.__dict__)
    for name, value in list(module.__dict__.items()):
        if name.startswith("test_") and inspect.iscoroutinefunction(value):
            asyncio.run(value())
        elif name.startswith("test_") and inspect.isfunction(value):
            value()
