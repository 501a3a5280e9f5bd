"""TestClient: call a gee.web app in-process, through httpx's ASGI transport, in your tests.

::

    async with TestClient(app) as client:   # runs the startup and shutdown hooks
        r = await client.get("/hello/gee")
        assert r.status_code == 200

It is an ``httpx.AsyncClient`` (so every httpx feature works) whose ``async with`` also drives
the app's ASGI lifespan, which httpx's transport alone does not. For plain ``def`` tests,
``SyncTestClient`` offers the same with blocking calls (``with SyncTestClient(app) as client:
client.get("/")``), as Flask's and Starlette's test clients do.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import httpx

from gee.web.types import ASGIApp, Message

__all__ = ["SyncTestClient", "TestClient"]


class TestClient(httpx.AsyncClient):
    """An httpx.AsyncClient bound to ``app`` at ``base_url``; ``lifespan=False`` skips hooks."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        lifespan: bool = True,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        **kwargs: Any,
    ) -> None:
        transport = httpx.ASGITransport(app=app, client=client)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.app = app
        self._lifespan = lifespan
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TestClient:
        await super().__aenter__()
        if self._lifespan:
            self._task = asyncio.ensure_future(
                self.app(
                    {"type": "lifespan", "asgi": {"version": "3.0"}}, self._to_app.get, self._send
                )
            )
            try:
                await self._lifespan_step("startup")
            except BaseException:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
                self._task = None
                await super().__aexit__(None, None, None)
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            if self._task is not None:
                await self._lifespan_step("shutdown")
                await self._task
        finally:
            await super().__aexit__(exc_type, exc, tb)

    async def _send(self, message: Message) -> None:
        await self._from_app.put(message)

    async def _lifespan_step(self, step: str) -> None:
        await self._to_app.put({"type": f"lifespan.{step}"})
        assert self._task is not None
        getting = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait((getting, self._task), return_when=asyncio.FIRST_COMPLETED)
        if not getting.done():
            getting.cancel()
            await asyncio.gather(getting, return_exceptions=True)
            self._task.result()  # raises what the app raised
            raise RuntimeError(f"the app ended its lifespan without answering {step}")
        reply = getting.result()
        if reply["type"] == f"lifespan.{step}.failed":
            raise RuntimeError(f"{step} failed: {reply.get('message', '')}")


class SyncTestClient:
    """TestClient for plain ``def`` tests: each call runs the app to completion on a private
    event loop, which lives as long as the ``with`` block, so startup state persists between
    requests. Do not use it inside a running event loop (use TestClient there)."""

    __test__ = False

    def __init__(self, app: ASGIApp, base_url: str = "http://testserver", **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = TestClient(app, base_url, **kwargs)

    def __enter__(self) -> SyncTestClient:
        try:
            self._loop.run_until_complete(self._client.__aenter__())
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            self._loop.run_until_complete(self._client.__aexit__(exc_type, exc, tb))
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        # Plain def handlers ran in this loop's thread pool: join its threads too.
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request and return the complete response."""
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)
