"""BlackSheep: ``plaintext`` and ``github``, each with its own Router (not the global default)."""

from __future__ import annotations

from blacksheep import Application, Response, Router, text

from bench.web.routes import LATE_PATTERN, github_routes, to_braces


async def hello() -> Response:
    return text("Hello, World!")


async def key(id: str) -> Response:
    return text(id)


async def other() -> Response:
    return text("other")


plaintext = Application(router=Router())
plaintext.router.add_get("/", hello)

github = Application(router=Router())
for _method, _pattern in github_routes():
    github.router.add(_method, to_braces(_pattern), key if _pattern == LATE_PATTERN else other)
