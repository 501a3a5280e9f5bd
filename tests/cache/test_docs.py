"""Every ``python`` block of docs/cache.md runs, in order, each in a fresh namespace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.cache import unregister_group
from tests.servers import RunningServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "cache.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    yield
    for name in ("doc-scores", "doc-cluster", "doc-config"):
        unregister_group(name)


def test_the_doc_has_snippets() -> None:
    assert len(BLOCKS) >= 4, f"got {len(BLOCKS)} python blocks in {DOC}; want at least 4"


# A snippet that reads ETCD_URL talks to etcd: it gets the real one, and the etcd marker.
INDEXES = [
    pytest.param(i, marks=[pytest.mark.etcd] if "ETCD_URL" in block else [])
    for i, block in enumerate(BLOCKS)
]


@pytest.mark.parametrize("index", INDEXES)
def test_snippet_runs(
    index: int, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "ETCD_URL" in BLOCKS[index]:
        etcd: RunningServer = request.getfixturevalue("etcd_server")
        monkeypatch.setenv("ETCD_URL", etcd.extra["url"])
    code = compile(BLOCKS[index], f"{DOC.name}[python block {index + 1}]", "exec")
    exec(code, {"__name__": f"docs_cache_{index}"})
