"""The app the end-to-end tests serve with a real uvicorn (started through ``gee web``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from gee.web import Context, Gee, WebSocket
from gee.web.middleware import body_limit, recovery

app = Gee()
state = {"started": False, "streams": 0, "stream_closed": 0, "sleeping": 0, "blocking": 0}


@app.on_startup
async def started() -> None:
    state["started"] = True


@app.get("/")
async def index(c: Context) -> str:
    return "Hello, World!"


@app.get("/hello/:name")
async def hello(c: Context) -> dict[str, str]:
    return {"name": c.param("name"), "q": c.query("q") or ""}


@app.get("/state")
async def get_state(c: Context) -> dict[str, object]:
    return {**state, "tasks": len(asyncio.all_tasks())}


@app.get("/boom")
async def boom(c: Context) -> None:
    raise RuntimeError("boom")


@app.get("/sleep")
async def sleep(c: Context) -> str:
    state["sleeping"] += 1  # lets a test wait until the request is surely in flight
    try:
        await asyncio.sleep(float(c.query("s") or "0.2"))
    finally:
        state["sleeping"] -= 1
    return "slept"


@app.get("/block")
def block(c: Context) -> str:
    state["blocking"] += 1
    try:
        time.sleep(float(c.query("s") or "0.5"))  # a plain def: runs in the thread pool
    finally:
        state["blocking"] -= 1
    return "blocked"


@app.get("/stream")
async def stream(c: Context) -> None:
    async def forever() -> AsyncIterator[bytes]:
        state["streams"] += 1
        try:
            while True:
                yield b"x" * 1024
                await asyncio.sleep(0.01)
        finally:
            state["stream_closed"] += 1

    c.stream(200, forever())


@app.post("/json")
async def echo_json(c: Context) -> object:
    return await c.json()


@app.post("/form")
async def form(c: Context) -> dict[str, object]:
    data = await c.form()
    return {"fields": dict(data.fields), "files": {k: f.size for k, f in data.files.items()}}


limited = app.group("/limited", recovery(), body_limit(1000))


@limited.post("/upload")
async def upload(c: Context) -> dict[str, int]:
    return {"size": len(await c.body())}


@app.websocket("/ws/:room")
async def ws_echo(sock: WebSocket) -> None:
    await sock.accept()
    async for text in sock:
        await sock.send_text(f"{sock.param('room')}: {text}")
