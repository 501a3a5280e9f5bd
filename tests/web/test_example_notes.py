"""examples/notes: the JSON API and its page, in-process and started by its one command."""

from __future__ import annotations

from pathlib import Path

import httpx
from examples.notes.app import create_app

from gee.web.testing import TestClient
from tests.servers import stop_process
from tests.web.conftest import launch_web


async def test_notes_api_round_trip() -> None:
    async with TestClient(create_app()) as client:
        assert (await client.get("/api/notes")).json() == []
        r = await client.post("/api/notes", json={"title": "milk", "tags": ["shop"]})
        assert r.status_code == 201
        assert r.headers["location"] == "/api/notes/1"
        note = r.json()
        assert (note["id"], note["title"], note["body"], note["tags"]) == (1, "milk", "", ["shop"])
        r = await client.put("/api/notes/1", json={"title": "oat milk"})
        assert r.json()["title"] == "oat milk"
        assert (await client.get("/api/notes/1")).json()["title"] == "oat milk"
        assert (await client.delete("/api/notes/1")).status_code == 204
        assert (await client.get("/api/notes/1")).status_code == 404
        assert (await client.get("/api/notes/x")).status_code == 404


async def test_notes_api_rejects_bad_bodies() -> None:
    async with TestClient(create_app()) as client:
        r = await client.post("/api/notes", json={"body": 3})
        assert r.status_code == 400
        assert [e["field"] for e in r.json()["errors"]] == ["title", "body"]


async def test_notes_page_escapes_and_filters_by_tag() -> None:
    async with TestClient(create_app()) as client:
        await client.post("/api/notes", json={"title": "<b>bold</b>", "tags": ["a"]})
        await client.post("/api/notes", json={"title": "plain", "tags": ["b"]})
        page = (await client.get("/")).text
        assert "&lt;b&gt;bold&lt;/b&gt;" in page
        assert "plain" in page
        only_b = (await client.get("/?tag=b")).text
        assert "plain" in only_b
        assert "bold" not in only_b
        css = await client.get("/static/style.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"


def test_notes_runs_with_one_command(tmp_path: Path) -> None:
    server = launch_web(tmp_path, "examples.notes.app:app")
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.post(f"{base}/api/notes", json={"title": "t"}).status_code == 201
        assert httpx.get(f"{base}/").status_code == 200
    finally:
        assert server.proc is not None
        stop_process(server.proc)
