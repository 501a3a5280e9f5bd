"""gee.web's public API: ``__all__`` is pinned, sorted, and every name in it resolves."""

from __future__ import annotations

import importlib

import pytest

import gee.web
import gee.web.middleware

WEB = [
    "BadPathError",
    "BindError",
    "ClientDisconnectedError",
    "Context",
    "FormData",
    "Gee",
    "HTTPError",
    "Response",
    "RouteConflictError",
    "RouteError",
    "RouterGroup",
    "UploadFile",
    "WebError",
    "WebSocket",
    "WebSocketDisconnect",
]
MIDDLEWARE = ["body_limit", "cors", "gzip", "logger", "recovery", "static"]


@pytest.mark.parametrize(("module", "want"), [(gee.web, WEB), (gee.web.middleware, MIDDLEWARE)])
def test_all_is_pinned_and_sorted(module: object, want: list[str]) -> None:
    got = list(module.__all__)  # type: ignore[attr-defined]
    assert got == want, f"got {got}; want {want}"
    assert got == sorted(got)


@pytest.mark.parametrize("name", WEB)
def test_every_name_resolves(name: str) -> None:
    assert getattr(gee.web, name).__name__ == name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        gee.web.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_errors_share_the_gee_base() -> None:
    from gee.errors import GeeError

    for name in WEB:
        value = getattr(gee.web, name)
        if name.endswith("Error") or name.endswith("Disconnect"):
            assert issubclass(value, GeeError), name


def test_cli_module_imports_no_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gee.web.cli; "
        "print(sorted(m for m in sys.modules if m in ('uvicorn', 'jinja2', 'gee.web.app')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_testing_module_exports_the_test_clients() -> None:
    testing = importlib.import_module("gee.web.testing")
    assert testing.__all__ == ["SyncTestClient", "TestClient"]
