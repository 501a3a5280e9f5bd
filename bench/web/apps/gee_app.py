"""gee.web: ``plaintext`` and ``github``, written as a gee user would (handlers return a str)."""

from __future__ import annotations

from bench.web.routes import LATE_PATTERN, github_routes
from gee.web import Context, Gee


async def hello(c: Context) -> str:
    return "Hello, World!"


async def key(c: Context) -> str:
    return c.param("id")


async def other(c: Context) -> str:
    return "other"


plaintext = Gee()
plaintext.get("/", hello)

github = Gee()
for _method, _pattern in github_routes():
    getattr(github, _method.lower())(_pattern, key if _pattern == LATE_PATTERN else other)
