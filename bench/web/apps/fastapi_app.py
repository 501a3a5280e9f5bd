"""FastAPI: ``plaintext`` and ``github``, returning PlainTextResponse (no serialization step).

The docs routes (/openapi.json, /docs, /redoc) are switched off so that every app has exactly the
routes of the benchmark; FastAPI would otherwise scan them first on every request.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from bench.web.routes import LATE_PATTERN, github_routes, to_braces


def _app() -> FastAPI:
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


async def hello() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def key(id: str) -> PlainTextResponse:
    return PlainTextResponse(id)


async def other() -> PlainTextResponse:
    return PlainTextResponse("other")


plaintext = _app()
plaintext.add_api_route("/", hello, methods=["GET"])

github = _app()
for _method, _pattern in github_routes():
    github.add_api_route(
        to_braces(_pattern), key if _pattern == LATE_PATTERN else other, methods=[_method]
    )
