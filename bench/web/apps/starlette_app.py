"""Starlette: ``plaintext`` (GET / only) and ``github`` (all 203 routes, one Route per line)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bench.web.routes import LATE_PATTERN, github_routes, to_braces


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def key(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["id"])


async def other(request: Request) -> PlainTextResponse:
    return PlainTextResponse("other")


plaintext = Starlette(routes=[Route("/", hello)])

github = Starlette(
    routes=[
        Route(to_braces(pattern), key if pattern == LATE_PATTERN else other, methods=[method])
        for method, pattern in github_routes()
    ]
)
