"""docs/kv-persistence.md: every ```python block runs, each in a fresh module.

The blocks start their own servers (in temporary directories where they save), so they need no
fixture; the guide's command list is checked against the code by tests/kv/test_docs.py.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "kv-persistence.md"
TEXT = DOC.read_text()
PYTHON = [
    (m.group(1), TEXT.count("\n", 0, m.start()) + 1)
    for m in re.finditer(r"^```python\n(.*?)^```", TEXT, re.S | re.M)
]


def test_the_guide_has_examples() -> None:
    assert len(PYTHON) >= 3


@pytest.mark.parametrize(("code", "line"), PYTHON, ids=[f"line{line}" for _, line in PYTHON])
def test_python_example_runs(monkeypatch: pytest.MonkeyPatch, code: str, line: int) -> None:
    module = types.ModuleType(f"docs_kv_persistence_line{line}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, f"{DOC}:{line}", "exec"), module.__dict__)
