"""The GitHub API route table, and its spelling in each framework's pattern syntax.

github.txt is the GitHub REST API (v3) route list of julienschmidt/go-http-routing-benchmark
(BSD-3-Clause), the usual yardstick for routers: 203 ``METHOD /path`` lines, ``:name`` params.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "LATE_PATTERN",
    "LATE_PREFIX",
    "concrete_path",
    "github_routes",
    "to_braces",
    "to_litestar",
]

ROUTES_FILE = Path(__file__).with_name("github.txt")

LATE_PATTERN = "/user/keys/:id"
"""The late route every app answers in the HTTP benchmark: route 201 of 203."""

LATE_PREFIX = "/user/keys/"

_PARAM = re.compile(r"([:*])([A-Za-z_][A-Za-z0-9_]*)")


def github_routes() -> list[tuple[str, str]]:
    """The 203 (method, pattern) pairs, in the file's order, with ``:name`` params."""
    routes = []
    for line in ROUTES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            method, pattern = line.split()
            routes.append((method, pattern))
    return routes


def to_braces(pattern: str, param: str = "{%s}", catchall: str = "{%s:path}") -> str:
    """Spell ``:name`` as ``param % name`` and ``*name`` as ``catchall % name``.

    The defaults are Starlette's and FastAPI's syntax (also BlackSheep's and Falcon's for params).
    """
    return _PARAM.sub(lambda m: (param if m[1] == ":" else catchall) % m[2], pattern)


# Names Litestar reserves for its own kwargs; a path param so named gets a "_" appended.
LITESTAR_RESERVED = frozenset(
    ("state", "query", "scope", "request", "headers", "data", "cookies", "body", "socket")
)


def to_litestar(pattern: str) -> str:
    """Litestar's syntax: every path param carries its type, ``{name:str}``, ``{name:path}``.

    Litestar refuses reserved names (GitHub's ``:state`` becomes ``{state_:str}``); a param's name
    does not change how a path is routed.
    """

    def spell(m: re.Match[str]) -> str:
        name = m[2] + "_" if m[2] in LITESTAR_RESERVED else m[2]
        kind = "str" if m[1] == ":" else "path"
        return f"{{{name}:{kind}}}"

    return _PARAM.sub(spell, pattern)


def concrete_path(pattern: str, value: str) -> str:
    """The request path for ``pattern`` with every param (and catchall) set to ``value``."""
    return _PARAM.sub(lambda _: value, pattern)
