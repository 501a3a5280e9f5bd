"""The ``gee`` command: help lists the systems that exist, --version, bad flags exit 2."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

import gee
from gee.cli import SYSTEMS, build_parser, main


def run_gee(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gee", *args], capture_output=True, text=True, timeout=60
    )


def existing_systems() -> list[str]:
    return [name for name in SYSTEMS if importlib.util.find_spec(f"gee.{name}.cli") is not None]


def test_help_lists_every_existing_system() -> None:
    result = run_gee("--help")
    assert result.returncode == 0, result.stderr
    systems = existing_systems()
    assert systems, "no system registers a subcommand yet"
    for name in systems:
        assert f"\n    {name}" in result.stdout, (
            f"gee --help does not list {name!r}:\n{result.stdout}"
        )


def test_help_lists_no_missing_system() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert sorted(choices) == sorted(existing_systems())


def test_version() -> None:
    result = run_gee("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gee {gee.__version__}"


@pytest.mark.parametrize(
    "args", [["--no-such-flag"], ["no-such-system"], *[[s, "--no-such-flag"] for s in SYSTEMS]]
)
def test_bad_flags_exit_2_with_a_message(args: list[str]) -> None:
    if args[0] in SYSTEMS and args[0] not in existing_systems():
        pytest.skip(f"gee {args[0]} does not exist yet")
    result = run_gee(*args)
    assert result.returncode == 2, f"got exit {result.returncode}; want 2"
    assert "error:" in result.stderr, result.stderr


def test_no_subcommand_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: gee" in capsys.readouterr().out


def test_help_does_not_import_the_servers() -> None:
    code = (
        "import sys; from gee.cli import build_parser; build_parser();"
        "heavy = [m for m in ('uvicorn', 'jinja2', 'hiredis', 'gee.kv.server', 'gee.web.app')"
        " if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", f"gee --help imports {result.stdout.strip()}"
