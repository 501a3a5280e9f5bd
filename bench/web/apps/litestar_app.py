"""Litestar: ``plaintext`` and ``github``, text/plain handlers returning str.

The OpenAPI schema routes are switched off so that every app has exactly the benchmark's routes.
Every handler answers 200 (Litestar's defaults are 201 for POST and an empty 204 for DELETE).
"""

from __future__ import annotations

from typing import cast

from litestar import Litestar, MediaType, get, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.types import Method

from bench.web.routes import LATE_PATTERN, github_routes, to_litestar


@get("/", media_type=MediaType.TEXT)
async def hello() -> str:
    return "Hello, World!"


async def key(id: FromPath[str]) -> str:
    return id


async def other() -> str:
    return "other"


def _handler(method: str, pattern: str) -> HTTPRouteHandler:
    fn = key if pattern == LATE_PATTERN else other
    http_method = cast(Method, method)
    return route(
        to_litestar(pattern), http_method=[http_method], media_type=MediaType.TEXT, status_code=200
    )(fn)


plaintext = Litestar(route_handlers=[hello], openapi_config=None)

github = Litestar(
    route_handlers=[_handler(method, pattern) for method, pattern in github_routes()],
    openapi_config=None,
)
