"""Gee, the application: the root group, the ASGI entry point, lifespan and websockets.

Each route stores its *whole* handler chain in the router: the middleware of every enclosing
group (outermost first, the app's own first of all) followed by the handler, adapted once into
awaitable steps. A request therefore costs one lookup and no per-request assembly. A route
whose chain is a lone ``async def`` handler is called directly, without ``c.next()``.

Middleware belongs to groups (see ``group``), never to path prefixes. When
``use`` adds middleware after routes exist, every chain is rebuilt once, before the next request;
so the order of ``use`` and route registration does not matter.

A request that matches no route still runs the app's middleware (a logger logs the 404, cors
answers a preflight); a 405 runs the middleware of the route that exists under other methods.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import traceback
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload
from urllib.parse import quote

from gee.web import chain
from gee.web.context import FORM_KEY, Context
from gee.web.errors import BadPathError, ClientDisconnectedError, HTTPError
from gee.web.group import Endpoint, RouterGroup
from gee.web.response import TEXT
from gee.web.router import Router
from gee.web.sending import send_response
from gee.web.templating import Templates
from gee.web.types import Handler, Hook, Receive, Scope, Send, Step, WebSocketHandler
from gee.web.websocket import WebSocket, WebSocketDisconnect

__all__ = ["Gee", "RouterGroup"]

log = logging.getLogger("gee.web")

H = TypeVar("H", bound=Callable[..., Any])

_NO_PARAMS: dict[str, str] = {}


class Gee(RouterGroup):
    """The application: an ASGI callable and the root group of its routes.

    ``debug`` shows tracebacks on 500s. ``redirect_slashes`` answers ``/a/`` with a redirect to
    ``/a`` (and the reverse) when only the other form exists: 301 for GET/HEAD, 308 otherwise.
    ``trusted_proxies`` are addresses or networks whose X-Forwarded-For is believed by
    ``c.client_ip``; empty (the default) believes none. ``body_limit`` caps every request body
    in bytes (None: no cap; ``middleware.body_limit`` sets one per group). ``spool_size`` is how
    much of an uploaded file stays in memory before it moves to disk. Paths longer than
    ``max_path_length`` bytes are answered 414; more than ``max_headers`` header fields, or one
    longer than ``max_header_size`` bytes, 431.
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        redirect_slashes: bool = True,
        trusted_proxies: Iterable[str] = (),
        body_limit: int | None = None,
        spool_size: int = 1024 * 1024,
        max_path_length: int = 8192,
        max_headers: int = 100,
        max_header_size: int = 16 * 1024,
    ) -> None:
        super().__init__(self, "", None)
        self.debug = debug
        self.redirect_slashes = redirect_slashes
        self.trusted_proxies = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self.body_limit = body_limit
        self.spool_size = spool_size
        self.max_path_length = max_path_length
        self.max_headers = max_headers
        self.max_header_size = max_header_size
        self.templates = Templates()
        self._router: Router[Endpoint] = Router()
        self._ws_router: Router[WebSocketHandler] = Router()
        self._endpoints: list[Endpoint] = []
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        self._not_found: tuple[Step, ...] = ()
        # Set when middleware is added: the chains are rebuilt before the next request.
        self._dirty = True

    # ------------------------------------------------------------------ set-up

    def _add(
        self, method: str, pattern: str, handler: Handler, group: RouterGroup, name: str | None
    ) -> None:
        endpoint = Endpoint(method, pattern, handler, group, name)
        endpoint.build()
        self._router.add(method, pattern, endpoint, name=name)
        self._endpoints.append(endpoint)

    def _rebuild(self) -> None:
        for endpoint in self._endpoints:
            endpoint.build()
        self._not_found = self._fallback_chain(self, _not_found)
        self._dirty = False

    def _fallback_chain(self, group: RouterGroup, terminal: Step) -> tuple[Step, ...]:
        return (*(chain.middleware_step(m) for m in group.middleware_chain()), terminal)

    @property
    def routes(self) -> list[tuple[str, str, str | None]]:
        """Every route as (method, pattern, name), in registration order."""
        return [(e.method, e.pattern, e.name) for e in self._endpoints]

    def url_for(self, name: str, **params: object) -> str:
        """The path of the route registered with ``name=``, its parameters filled in."""
        return self._router.url_for(name, **params)

    def load_templates(self, directory: str | os.PathLike[str]) -> None:
        """Load Jinja2 templates from ``directory`` for ``c.html`` (autoescape on)."""
        self.templates.load(directory)

    @overload
    def template_filter(self, name: H) -> H: ...

    @overload
    def template_filter(self, name: str | None = None) -> Callable[[H], H]: ...

    def template_filter(self, name: str | H | None = None) -> H | Callable[[H], H]:
        """Decorator: make a function a template filter (gin's FuncMap), under ``name`` (default:
        the function's name). ``@app.template_filter`` and ``@app.template_filter()`` both work.
        """
        if name is not None and not isinstance(name, str):
            if not callable(name):
                raise TypeError(f"a template filter is a function or a name, not {name!r}")
            self.templates.add_filter(name.__name__, name)
            return name

        def register(fn: H) -> H:
            if not callable(fn):
                raise TypeError(f"a template filter is a function, not {fn!r}")
            self.templates.add_filter(name or fn.__name__, fn)
            return fn

        return register

    def on_startup(self, hook: H) -> H:
        """Run ``hook`` (sync or async) when the server starts, before any request."""
        self._startup.append(hook)
        return hook

    def on_shutdown(self, hook: H) -> H:
        """Run ``hook`` when the server stops; shutdown hooks run in reverse order."""
        self._shutdown.append(hook)
        return hook

    async def startup(self) -> None:
        """Build the chains and run the startup hooks (the ASGI lifespan calls this)."""
        self._rebuild()
        for hook in self._startup:
            await _call_hook(hook)

    async def shutdown(self) -> None:
        """Run the shutdown hooks, last registered first."""
        for hook in reversed(self._shutdown):
            await _call_hook(hook)

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        """Serve the app with uvicorn (uvloop and httptools when installed) until stopped;
        ``options`` are uvicorn's (``log_level="warning"``, ``workers=2``, ...)."""
        from gee.web.serving import serve

        serve(self, host=host, port=port, **options)

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            elif scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        if self._dirty:
            self._rebuild()
        raw: bytes | None = scope.get("raw_path")
        if raw is None:
            path = quote(scope["path"], safe="/:@!$&'()*+,;=-._~")
        else:
            if raw.find(b"?") >= 0:  # not ``in``: bytes-in-bytes builds a TypeError first
                raw = raw.partition(b"?")[0]
            path = raw.decode("latin-1")
        root = scope.get("root_path")
        if root and path.startswith(root):  # mounted under a prefix: route what follows it
            path = path[len(root) :] or "/"
        method = scope["method"]
        if len(path) > self.max_path_length:
            await self._fail(scope, receive, send, HTTPError(414, "URI Too Long"))
            return
        # httptools accepts headers of any size and number; answer 431 for absurd ones here.
        request_headers = scope["headers"]
        if len(request_headers) > self.max_headers:
            await self._fail(scope, receive, send, HTTPError(431, "Too Many Header Fields"))
            return
        limit = self.max_header_size
        for _, value in request_headers:
            if len(value) > limit:
                await self._fail(scope, receive, send, HTTPError(431, "Header Field Too Large"))
                return
        try:
            found = self._router.match(method, path)
            if found is None and method == "HEAD":
                found = self._router.match("GET", path)
        except BadPathError as exc:
            await self._fail(scope, receive, send, HTTPError(400, str(exc)))
            return
        if found is None:
            try:  # 405 and redirect checks match under other methods, which decode params too
                fallback = self._no_route(scope, receive, method, path)
            except BadPathError as exc:
                await self._fail(scope, receive, send, HTTPError(400, str(exc)))
                return
            await self._run(fallback, send)
            return
        endpoint, params = found
        c = Context(self, scope, receive, params, endpoint.chain)
        direct = endpoint.direct
        try:
            if direct is not None:
                result = await direct(c)
                if result is not None:
                    if type(result) is str:  # the commonest return value, without a call
                        c._body = result.encode()
                        c._content_type = TEXT
                    else:
                        c.render(result)
            else:
                await c.next()
        except HTTPError as exc:
            c.answer_error(exc)
        except ClientDisconnectedError:
            return
        except Exception:
            self._crashed(c)
        # The common case, sent inline: a buffered body, no form to close, a status with a body.
        status = c._status
        if c._stream is not None or c._store is not None or status == 204 or status == 304:
            await self._respond(c, send)
            return
        body = c._body
        ctype = c._content_type
        if ctype is None:
            headers = [(b"content-length", b"%d" % len(body))]
        else:
            headers = [(b"content-type", ctype), (b"content-length", b"%d" % len(body))]
        if c._headers is not None:
            headers += c._headers
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        except OSError:
            pass  # the client left; ASGI servers may say so by raising from send

    async def _fail(self, scope: Scope, receive: Receive, send: Send, error: HTTPError) -> None:
        """Answer ``error`` through the app's middleware (a bad or over-long path)."""
        steps = (*self._not_found[:-1], _raiser(error))
        await self._run(Context(self, scope, receive, _NO_PARAMS, steps), send)

    async def _run(self, c: Context, send: Send) -> None:
        """The slow path: a fallback chain (404, 405, redirect, bad path)."""
        try:
            await c.next()
        except ClientDisconnectedError:
            return
        except Exception:
            self._crashed(c)
        await self._respond(c, send)

    async def _respond(self, c: Context, send: Send) -> None:
        try:
            await send_response(c, send)
        except OSError:
            pass  # the client left; ASGI servers may say so by raising from send
        except Exception:
            log.exception("error while sending the response to %s %s", c.method, c.path)
        finally:
            store = c._store
            if store is not None and FORM_KEY in store:
                store[FORM_KEY].close()

    def _crashed(self, c: Context) -> None:
        """A handler raised and no recovery middleware caught it: log it, answer 500."""
        log.exception("unhandled error in %s %s", c.method, c.path)
        detail = traceback.format_exc() if self.debug else "Internal Server Error"
        c.answer_error(HTTPError(500, detail))

    def _no_route(self, scope: Scope, receive: Receive, method: str, path: str) -> Context:
        """A Context whose chain answers 405, a trailing-slash redirect, or 404."""
        router = self._router
        allowed = router.allowed(path)
        if allowed:
            found = router.match(allowed[0], path)
            group: RouterGroup = found[0].group if found else self
            if "GET" in allowed and "HEAD" not in allowed:
                allowed = sorted([*allowed, "HEAD"])
            error = HTTPError(405, "Method Not Allowed", {"allow": ", ".join(allowed)})
            steps = self._fallback_chain(group, _raiser(error))
            return Context(self, scope, receive, _NO_PARAMS, steps)
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if router.match("GET" if method == "HEAD" else method, other) is not None:
                code = 301 if method in ("GET", "HEAD") else 308
                query = scope.get("query_string", b"")
                location = other + ("?" + query.decode("latin-1") if query else "")
                steps = self._fallback_chain(self, _redirector(code, location))
                return Context(self, scope, receive, _NO_PARAMS, steps)
        return Context(self, scope, receive, _NO_PARAMS, self._not_found)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes | None = scope.get("raw_path")
        path = raw.partition(b"?")[0].decode("latin-1") if raw else quote(scope["path"])
        try:
            found = self._ws_router.match("GET", path)
        except BadPathError:
            found = None
        if found is None:
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403
            return
        handler, params = found
        sock = WebSocket(scope, receive, send, params)
        try:
            await handler(sock)
        except WebSocketDisconnect:
            return
        except Exception:
            log.exception("unhandled error in websocket %s", path)
            await sock.close(1011)
            return
        await sock.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup hook failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    log.exception("shutdown hook failed")
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _call_hook(hook: Hook) -> None:
    result = hook()
    if chain.is_async(hook) or hasattr(result, "__await__"):
        await result


async def _not_found(c: Context) -> None:
    raise HTTPError(404, "Not Found")


def _raiser(error: HTTPError) -> Step:
    async def raise_it(c: Context) -> None:
        raise error

    return raise_it


def _redirector(code: int, location: str) -> Step:
    async def redirect(c: Context) -> None:
        c.redirect(code, location)

    return redirect
