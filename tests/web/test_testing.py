"""gee.web.testing: TestClient (async) and SyncTestClient drive the app and its lifespan."""

from __future__ import annotations

import pytest

from gee.web import Context, Gee
from gee.web.testing import SyncTestClient, TestClient


def make_app(events: list[str]) -> Gee:
    app = Gee()

    @app.on_startup
    def start() -> None:
        events.append("start")

    @app.on_shutdown
    async def stop() -> None:
        events.append("stop")

    @app.get("/sync")
    def sync_handler(c: Context) -> str:  # runs in the loop's thread pool
        return "sync"

    @app.post("/echo")
    async def echo(c: Context) -> object:
        return await c.json()

    return app


def test_sync_client_runs_lifespan_and_requests() -> None:
    events: list[str] = []
    with SyncTestClient(make_app(events)) as client:
        assert events == ["start"]
        assert client.get("/sync").text == "sync"
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
        assert client.delete("/sync").status_code == 405
        assert client.head("/sync").content == b""
    assert events == ["start", "stop"]


async def test_async_client_without_lifespan() -> None:
    events: list[str] = []
    async with TestClient(make_app(events), lifespan=False) as client:
        assert (await client.get("/sync")).text == "sync"
    assert events == []


def test_sync_client_reports_a_failed_startup() -> None:
    app = Gee()

    @app.on_startup
    def broken() -> None:
        raise OSError("no database")

    with pytest.raises(RuntimeError, match="no database"), SyncTestClient(app):
        pass
