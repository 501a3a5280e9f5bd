"""``gee orm migrate``: dry run prints SQL, a real run applies it, destructive changes refused."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gee.orm import Engine
from gee.orm.cli import add_parser

V1 = """
from gee.orm import Field, Model

class Item(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    old: str | None = None
"""

V2 = """
from gee.orm import Field, Model

class Item(Model, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gee")
    add_parser(parser.add_subparsers(dest="system"))
    args = parser.parse_args(["orm", *argv])
    return int(args.func(args))


def test_migrate_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "cli_models_v1.py").write_text(V1)
    (tmp_path / "cli_models_v2.py").write_text(V2)
    url = f"sqlite:///{tmp_path / 'app.db'}"

    assert run("migrate", url, "cli_models_v1", "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.startswith('CREATE TABLE "items"'), out
    with Engine(url) as engine:
        assert not engine.has_table("items")

    assert run("migrate", url, "cli_models_v1:Item") == 0
    capsys.readouterr()
    with Engine(url) as engine:
        engine.raw("INSERT INTO items (name, old) VALUES (?, ?)", "a", "data")

    assert run("migrate", url, "cli_models_v2") == 1
    assert "holds data" in capsys.readouterr().err
    assert run("migrate", url, "cli_models_v2", "--allow-destructive") == 0
    with Engine(url) as engine:
        assert engine.raw("SELECT * FROM items") == [(1, "a")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [("no_such_module_here", "cannot import"), ("gee.orm:Engine", "is not a gee.orm Model")],
)
def test_bad_model_specs(spec: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("migrate", "sqlite://", spec) == 1
    assert message in capsys.readouterr().err
