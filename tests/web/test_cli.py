"""``gee web``: flags become uvicorn options; bad flags exit 2."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

from gee.cli import main


def test_flags_become_uvicorn_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    code = main(
        [
            "web",
            "examples.notes.app:app",
            "--port",
            "9999",
            "--host",
            "0.0.0.0",
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    )
    assert code == 0
    [(app, options)] = calls
    assert app == "examples.notes.app:app"
    assert options["port"] == 9999
    assert options["host"] == "0.0.0.0"
    assert options["workers"] == 2
    assert options["log_level"] == "warning"
    assert options["access_log"] is False
    assert options["reload"] is False
    # gee.web's own loggers (logger() middleware, 500 tracebacks) follow --log-level too
    assert options["log_config"]["loggers"]["gee.web"]["level"] == "WARNING"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    assert main(["web", "x:app"]) == 0
    assert (calls[0]["host"], calls[0]["port"], "workers" in calls[0]) == ("127.0.0.1", 8000, False)


@pytest.mark.parametrize(
    "argv",
    [
        ["web"],
        ["web", "x:app", "--port", "nope"],
        ["web", "x:app", "--log-level", "loud"],
        ["web", "x:app", "--bogus"],
    ],
)
def test_bad_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
