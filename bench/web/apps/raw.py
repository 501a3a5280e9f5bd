"""The limit: ASGI apps with no framework at all.

``plaintext`` answers every request with "Hello, World!". ``github`` does no routing: it answers
every path with the text after "/user/keys/", cut out by slicing. So the gap between a framework
and these apps is everything the framework does per request (routing, a request and response
object, middleware) on the same server; no framework can be faster and still route.
"""

from __future__ import annotations

from typing import Any

from bench.web.routes import LATE_PREFIX

Message = dict[str, Any]

HELLO = b"Hello, World!"
HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Any, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def plaintext(scope: Message, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _respond(send, HELLO)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)


async def github(scope: Message, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _respond(send, scope["path"][len(LATE_PREFIX) :].encode())
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
