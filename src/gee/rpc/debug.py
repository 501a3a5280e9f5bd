"""The debug page at ``/debug/geerpc``: services, method signatures, calls, errors, latency.

Go's net/rpc serves the same idea at ``/debug/rpc``. The page is rendered from the server's
live counters on each request. Every RPC port answers ``GET /debug/geerpc`` itself; ``mount``
also puts the page on a gee.web application, beside the service's other pages. It is small
enough that a template engine would not pay for itself.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gee.rpc.server import Server
    from gee.web import Context, RouterGroup

__all__ = ["DEBUG_PATH", "mount", "render"]

DEBUG_PATH = "/debug/geerpc"


def mount(app: RouterGroup, server: Server, path: str = DEBUG_PATH) -> None:
    """Add a GET route at ``path`` on a gee.web app (or group) serving ``server``'s page."""

    async def debug_page(c: Context) -> None:
        c.data(200, render(server).encode(), "text/html; charset=utf-8")

    app.get(path, debug_page)


def render(server: Server) -> str:
    """Return the debug page for ``server`` as an HTML document."""
    rows: list[str] = []
    for name in sorted(server.services):
        service = server.services[name]
        rows.append(f'<tr><th colspan="5" class="svc">Service {html.escape(name)}</th></tr>')
        for short in sorted(service.methods):
            m = service.methods[short]
            mean = f"{m.seconds / m.calls * 1000:.3f} ms" if m.calls else "-"
            rows.append(
                f"<tr><td>{html.escape(m.signature)}</td><td>{'async' if m.is_async else 'thread'}"
                f"</td><td>{m.calls}</td><td>{m.errors}</td><td>{mean}</td></tr>"
            )
    listening = ", ".join(html.escape(str(a)) for a in server.addresses)
    uptime = time.time() - server.started
    return (
        "<!doctype html>\n<html><head><meta charset=utf-8><title>GeeRPC Services</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:left}"
        ".svc{background:#eee}</style></head><body>\n"
        f"<h1>GeeRPC Services</h1><p>listening on {listening}; up {uptime:.0f} s</p>\n"
        "<table><tr><th>Method</th><th>Runs in</th><th>Calls</th><th>Errors</th>"
        "<th>Mean latency</th></tr>\n" + "\n".join(rows) + "\n</table></body></html>\n"
    )
