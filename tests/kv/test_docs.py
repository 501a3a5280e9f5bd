"""docs/kv.md: its examples run against a real gee.kv, and its lists match the code.

- Every ```python block runs (each in a fresh module, on an empty server). The guide's
  examples talk to port 6380; the test starts a gee.kv on a free port and rewrites ``6380``
  to that port in each block before running it.
- Each ```console block that uses redis-cli is one test, on an empty server: its
  ``$ redis-cli ...`` lines run in order through bash (port rewritten the same way, and
  ``--no-raw`` added so that redis-cli prints as it does on a terminal), and the lines shown
  after each, up to the next ``$``, must be its output. Other ``$`` lines (starting the
  server) are not run. Skipped when redis-cli is not installed.
- Every ```conf block loads with ``Config.load_text``.
- The ``**Commands:**`` lists name every command and subcommand of the live command table,
  and nothing else; the ``**Not implemented:**`` list names none of them; every config
  directive gee.kv accepts is named in the Configuration section.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.kv.commands import load_all
from gee.kv.config import DEFAULTS, Config
from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "kv.md"
TEXT = DOC.read_text()
# The persistence guide lists the commands it documents in the same form; they count as
# documented too.
PERSISTENCE_DOC = DOC.with_name("kv-persistence.md")
PERSISTENCE_TEXT = PERSISTENCE_DOC.read_text() if PERSISTENCE_DOC.exists() else ""
DOC_PORT = "6380"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def _blocks(lang: str) -> list[tuple[str, int]]:
    return [
        (m.group(2), TEXT.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(TEXT)
        if m.group(1) == lang
    ]


def _on_port(text: str, port: int) -> str:
    return re.sub(rf"\b{DOC_PORT}\b", str(port), text)


PYTHON = _blocks("python")
CONF = _blocks("conf")


def _console_steps(block: str) -> list[tuple[int, list[str]]]:
    """Split a console block into (line offset, [``$ command``, output lines...])."""
    steps: list[tuple[int, list[str]]] = []
    for offset, line in enumerate(block.splitlines(), 1):
        if line.startswith("$ "):
            steps.append((offset, [line]))
        elif steps:
            steps[-1][1].append(line)
    return steps


# Console blocks that run redis-cli: ([(command, expected output, line)], block line).
SESSIONS = [
    (
        [
            (lines[0][2:], lines[1:], start + offset)
            for offset, lines in _console_steps(block)
            if "redis-cli" in lines[0]
        ],
        start,
    )
    for block, start in _blocks("console")
    if "$ redis-cli" in block
]


@pytest.fixture(scope="module")
def doc_server() -> Iterator[ThreadedServer]:
    """A gee.kv of its own, so examples that change its config affect no other test."""
    server = ThreadedServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def empty(doc_server: ThreadedServer) -> int:
    """The server's port, after FLUSHALL."""
    client = RawClient(doc_server.port)
    try:
        assert client.call("FLUSHALL") == b"+OK\r\n"
    finally:
        client.close()
    return doc_server.port


def test_the_guide_has_examples() -> None:
    assert len(PYTHON) >= 10
    assert sum(len(steps) for steps, _ in SESSIONS) >= 8
    assert CONF


@pytest.mark.parametrize(("code", "line"), PYTHON, ids=[f"line{line}" for _, line in PYTHON])
def test_python_example_runs(
    empty: int, monkeypatch: pytest.MonkeyPatch, code: str, line: int
) -> None:
    module = types.ModuleType(f"docs_kv_line{line}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(_on_port(code, empty), f"{DOC}:{line}", "exec"), module.__dict__)


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli missing")
@pytest.mark.parametrize(("steps", "line"), SESSIONS, ids=[f"line{line}" for _, line in SESSIONS])
def test_redis_cli_session_prints_what_the_guide_shows(
    empty: int, steps: list[tuple[str, list[str], int]], line: int
) -> None:
    for command, output, at in steps:
        shell = _on_port(command, empty).replace("redis-cli", "redis-cli --no-raw")
        done = subprocess.run(
            ["bash", "-c", shell], capture_output=True, timeout=20, check=False, text=True
        )
        got = [text.rstrip() for text in done.stdout.splitlines()]
        want = [text.rstrip() for text in output]
        assert got == want, f"{DOC}:{at}: {command}\n{done.stderr}"


@pytest.mark.parametrize(("conf", "line"), CONF, ids=[f"line{line}" for _, line in CONF])
def test_config_example_loads(conf: str, line: int) -> None:
    Config().load_text(conf, f"{DOC}:{line}")


def _names(marker: str, text: str = TEXT) -> list[str]:
    """Commands named after ``marker`` up to the next blank line: ``GET`` or ``CLIENT ID|KILL``
    (a command and its subcommands), lowercased as the command table spells them."""
    names: list[str] = []
    for para in re.findall(rf"^{re.escape(marker)}(.*?)(?:\n\n|\Z)", text, re.S | re.M):
        for item in re.findall(r"`([^`]+)`", para):
            parent, _, subs = item.lower().partition(" ")
            names += [f"{parent}|{sub}" for sub in subs.split("|")] if subs else [parent]
    return names


def _implemented() -> set[str]:
    names = set()
    for name, command in load_all().items():
        names.add(name.decode())
        names.update(f"{name.decode()}|{sub.decode()}" for sub in command.subcommands)
    return names


def test_every_implemented_command_is_documented_and_no_other() -> None:
    documented = _names("**Commands:**") + _names("**Commands:**", PERSISTENCE_TEXT)
    repeated = sorted({n for n in documented if documented.count(n) > 1})
    assert not repeated, f"listed twice in {DOC.name}: {repeated}"
    implemented = _implemented()
    # A container command (CLIENT, CONFIG...) is documented through its subcommands.
    containers = {name.split("|")[0] for name in implemented if "|" in name}
    documented_set = set(documented) | {n.split("|")[0] for n in documented if "|" in n}
    missing = sorted(implemented - documented_set)
    extra = sorted(documented_set - implemented)
    assert not missing, f"implemented but not in {DOC.name}'s **Commands:** lists: {missing}"
    assert not extra, f"in {DOC.name}'s **Commands:** lists but not implemented: {extra}"
    assert containers <= documented_set


def test_commands_listed_as_missing_are_missing() -> None:
    listed = _names("**Not implemented:**")
    assert len(listed) >= 20
    superseded = set(_names("**Commands:**", PERSISTENCE_TEXT))
    now_implemented = sorted((set(listed) - superseded) & _implemented())
    assert not now_implemented, (
        f"{DOC.name} says these are not implemented, but they are: {now_implemented}; "
        "move them to their family's **Commands:** list and update the differences"
    )


def test_every_config_directive_is_documented() -> None:
    section = TEXT.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z][a-z-]*)`", section))
    missing = sorted(set(DEFAULTS) - named)
    assert not missing, f"directives gee.kv accepts but {DOC.name} does not name: {missing}"
