"""recovery(): an exception anywhere later in the chain becomes a 500, and the server serves on.

The app answers 500 on its own too; recovery() exists so that the middleware *outside* it (a
logger, cors) sees an ordinary 500 response rather than an exception, and for the debug page.
"""

from __future__ import annotations

import html
import logging
import traceback

from gee.web.context import Context
from gee.web.errors import ClientDisconnectedError, HTTPError
from gee.web.types import Step

log = logging.getLogger("gee.web")


def recovery(debug: bool | None = None) -> Step:
    """Turn exceptions into 500s with the traceback logged; ``debug`` (default: the app's
    ``debug``) answers with the traceback as an HTML page instead of a bare message."""

    async def recover(c: Context) -> None:
        try:
            await c.next()
        except ClientDisconnectedError:
            raise
        except Exception:
            log.exception("recovered from an error in %s %s", c.method, c.path)
            show = c.app.debug if debug is None else debug
            if not show:
                c.answer_error(HTTPError(500, "Internal Server Error"))
                return
            trace = html.escape(traceback.format_exc())
            page = (
                "<!doctype html><title>500 Internal Server Error</title>"
                f"<h1>500 Internal Server Error</h1><pre>{trace}</pre>"
            )
            c.answer_error(HTTPError(500))
            c.data(500, page.encode(), "text/html; charset=utf-8")

    return recover
