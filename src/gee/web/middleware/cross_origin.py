"""cors(): Cross-Origin Resource Sharing headers, and answers to preflight requests.

Use it on the app (``app.use(cors(...))``): the app's middleware also runs for requests that
match no route, so a preflight OPTIONS for a POST-only path is answered here, not with a 405.
"""

from __future__ import annotations

from collections.abc import Iterable

from gee.web.context import Context
from gee.web.types import Step


def cors(
    allow_origins: Iterable[str] = ("*",),
    *,
    allow_methods: Iterable[str] = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
    allow_headers: Iterable[str] = ("*",),
    expose_headers: Iterable[str] = (),
    allow_credentials: bool = False,
    max_age: int = 600,
) -> Step:
    """Allow the listed origins ("*": any). With ``allow_credentials`` the request's own origin
    is echoed instead of "*", as browsers require."""
    origins = frozenset(allow_origins)
    any_origin = "*" in origins
    methods = ", ".join(m.upper() for m in allow_methods)
    headers = tuple(allow_headers)
    any_header = "*" in headers
    exposed = ", ".join(expose_headers)

    async def cross_origin(c: Context) -> None:
        origin = c.header("origin")
        if origin is None or not (any_origin or origin in origins):
            await c.next()
            return
        echo = origin if allow_credentials or not any_origin else "*"
        if c.method == "OPTIONS" and c.header("access-control-request-method"):
            c.set_header("access-control-allow-origin", echo)
            c.set_header("access-control-allow-methods", methods)
            wanted = c.header("access-control-request-headers")
            if any_header and wanted:
                c.set_header("access-control-allow-headers", wanted)
            elif headers and not any_header:
                c.set_header("access-control-allow-headers", ", ".join(headers))
            c.set_header("access-control-max-age", str(max_age))
            if allow_credentials:
                c.set_header("access-control-allow-credentials", "true")
            c.add_header("vary", "Origin")
            c.abort(204)
            return
        await c.next()
        c.set_header("access-control-allow-origin", echo)
        if allow_credentials:
            c.set_header("access-control-allow-credentials", "true")
        if exposed:
            c.set_header("access-control-expose-headers", exposed)
        if echo != "*":
            c.add_header("vary", "Origin")

    return cross_origin
