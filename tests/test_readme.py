"""The README's quick start and examples stay true."""

from __future__ import annotations

import re
from pathlib import Path

from gee.web.testing import TestClient

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


def test_quick_start_is_exactly_two_commands_that_exist() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the quick start has no sh block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands == ["make run", "make test"], f"got {commands}; want make run, make test"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no {target!r} target"
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


async def test_web_example_runs() -> None:
    (source,) = [b for b in python_blocks() if "gee.web" in b]
    namespace: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    async with TestClient(namespace["app"]) as client:  # type: ignore[arg-type]
        r = await client.get("/hello/gee")
        assert r.json() == {"hello": "gee"}, f"got {r.text}"
        r = await client.get("/v1/assets/css/site.css")
        assert r.text == "file css/site.css", f"got {r.text!r}"


def test_every_other_python_example_runs() -> None:
    blocks = [b for b in python_blocks() if "gee.web" not in b]
    assert len(blocks) >= 4, f"got {len(blocks)} examples; want kv, cache, rpc and orm"
    for source in blocks:
        if "redis.Redis(" in source:
            continue  # needs a running gee kv on 6380: covered by tests/kv
        exec(compile(source, "README.md", "exec"), {"__name__": "readme"})
