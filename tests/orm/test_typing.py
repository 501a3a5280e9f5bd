"""Models and queries type-check under mypy --strict without a plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = """
from gee.orm import Engine, Field, Model, Session, col, func


class User(Model, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    age: int = 0


def use(s: Session) -> None:
    u = User(name="ann", age=3)
    reveal_type(u.age)
    reveal_type(s.query(User).where(User.age > 18).order_by(col(User.age).desc()).all())
    reveal_type(s.query(User).where("age > ? AND name = ?", 18, "ann").first())
    reveal_type(s.get(User, 1))
    reveal_type(col(User.age))
    reveal_type(s.query(User).select(User.name, func.count()).all())
    User(name=3)
    User(nam="x")
    col(User.age).descending()
"""

WANT = [
    'Revealed type is "int"',
    'Revealed type is "list[sample.User]"',
    'Revealed type is "sample.User | None"',
    'Revealed type is "sample.User | None"',
    'Revealed type is "gee.orm.clause.Column[int]"',
    'Revealed type is "list[tuple[Any, ...]]"',
    'Argument "name" to "User" has incompatible type "int"; expected "str"',
    'Unexpected keyword argument "nam" for "User"',
    '"Column[int]" has no attribute "descending"',
]


@pytest.mark.slow
def test_mypy_understands_models(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    sample = tmp_path / "sample.py"
    sample.write_text(SAMPLE)
    out, err, _ = mypy_api.run(
        [
            "--strict",
            "--no-error-summary",
            "--show-traceback",
            "--cache-dir",
            str(tmp_path / "c"),
            "--no-pretty",
            "--hide-error-context",
            "--show-absolute-path",
            str(sample),
        ]
    )
    lines = [line.split(": ", 2)[2] for line in out.splitlines() if line.count(": ") >= 2]
    for want in WANT:
        assert any(want in line for line in lines), f"missing {want!r}; mypy said:\n{out}{err}"
    assert len(lines) == len(WANT), f"got {len(lines)} messages; want {len(WANT)}:\n{out}"
