"""The ``python`` blocks of docs/orm.md run in order, in one module namespace, in a temp dir.

The guide is one walk-through, so later blocks use what earlier ones defined. A ``print(...)``
line's trailing comment is the output it shows, and is checked (up to a parenthesised remark;
comments with ``...`` abbreviate and are not checked).
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "orm.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_doc_has_snippets() -> None:
    assert len(BLOCKS) >= 8, f"got {len(BLOCKS)} python blocks in {DOC}; want at least 8"


def expected_lines(block: str) -> list[str]:
    """The ``# comment`` after each ``print(...)`` line that has one (the output it shows)."""
    wants = []
    for line in block.splitlines():
        match = re.match(r"\s*print\(.*\)\s+# (.+)$", line)
        if match:
            wants.append(match.group(1))
    return wants


def test_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("orm_guide")
    sys.modules["orm_guide"] = module
    try:
        for index, block in enumerate(BLOCKS):
            out = io.StringIO()
            code = compile(block, f"{DOC.name}[python block {index + 1}]", "exec")
            with contextlib.redirect_stdout(out):
                exec(code, module.__dict__)
            printed = out.getvalue()
            for want in expected_lines(block):
                if "..." in want:
                    continue
                want = re.sub(r" \([a-z ]+\)$", "", want)
                assert want in printed, f"block {index + 1}: want {want!r} in:\n{printed}"
    finally:
        engine = module.__dict__.get("engine")
        if engine is not None:
            engine.close()
        del sys.modules["orm_guide"]
