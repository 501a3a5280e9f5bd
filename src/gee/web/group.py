"""RouterGroup: a path prefix with its own middleware, and Endpoint, what a route stores.

A route is in a group because it was registered through it, never because its path starts with
the group's prefix: so ``/api``'s middleware cannot leak onto ``/apixxx`` (a Gee bug). A group
always knows its app and its prefix is "" at the root, never None (the other one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar, overload

from gee.web import chain
from gee.web.errors import RouteError
from gee.web.types import Handler, Step, WebSocketHandler

if TYPE_CHECKING:
    from gee.web.app import Gee

__all__ = ["METHODS", "Endpoint", "RouterGroup"]

# A handler's own type, which both forms of registration hand back unchanged.
H = TypeVar("H", bound=Handler)
W = TypeVar("W", bound=WebSocketHandler)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Endpoint:
    """What the router stores per route: the handler, its group and its built chain."""

    __slots__ = ("chain", "direct", "group", "handler", "method", "name", "pattern")

    def __init__(
        self, method: str, pattern: str, handler: Handler, group: RouterGroup, name: str | None
    ) -> None:
        self.method = method
        self.pattern = pattern
        self.handler = handler
        self.group = group
        self.name = name
        self.chain: tuple[Step, ...] = ()
        # The handler itself when the chain is just one async handler: the fast path.
        self.direct: Handler | None = None

    def build(self) -> None:
        middleware = self.group.middleware_chain()
        self.chain = chain.build(middleware, self.handler)
        self.direct = self.handler if not middleware and chain.is_async(self.handler) else None


def _join(prefix: str, pattern: str, what: str) -> str:
    if not isinstance(pattern, str):
        raise RouteError(f"{what} must be a string, not {type(pattern).__name__}")
    if pattern == "":
        return prefix or "/"
    if not pattern.startswith("/"):
        raise RouteError(f"{what} {pattern!r} must start with '/'")
    return prefix + pattern


class RouterGroup:
    """Routes under one ``prefix`` that share middleware; groups nest.

    ``prefix`` is "" for the app itself, never None: a group always knows its app, so there is
    no "nil group" to dereference (the other Gee bug).
    """

    def __init__(self, app: Gee, prefix: str, parent: RouterGroup | None) -> None:
        self.app = app
        self.prefix = prefix
        self.parent = parent
        self.middleware: list[Handler] = []

    def group(self, prefix: str, *middleware: Handler) -> RouterGroup:
        """A nested group at ``self.prefix + prefix`` (``"/v1"``), optionally with middleware."""
        joined = _join(self.prefix, prefix, "group prefix").rstrip("/")
        child = RouterGroup(self.app, joined, self)
        child.use(*middleware)
        return child

    def use(self, *middleware: Handler) -> None:
        """Add middleware to every route of this group and its subgroups, past and future."""
        for m in middleware:
            if not callable(m):
                raise TypeError(f"middleware must be callable, got {m!r}; did you forget ()?")
        self.middleware.extend(middleware)
        if middleware:
            self.app._dirty = True

    def middleware_chain(self) -> list[Handler]:
        """Middleware of every enclosing group, outermost first, then this group's own."""
        groups: list[RouterGroup] = []
        group: RouterGroup | None = self
        while group is not None:
            groups.append(group)
            group = group.parent
        return [m for g in reversed(groups) for m in g.middleware]

    # Each registration method has two forms: ``app.get("/a", h)`` returns ``h``, and
    # ``@app.get("/a")`` returns a decorator that returns the function it decorates. The
    # overloads say so, so that a decorated handler keeps its own type under mypy --strict.

    @overload
    def route(
        self,
        methods: str | Iterable[str],
        pattern: str,
        handler: None = None,
        *,
        name: str | None = None,
    ) -> Callable[[H], H]: ...
    @overload
    def route(
        self, methods: str | Iterable[str], pattern: str, handler: H, *, name: str | None = None
    ) -> H: ...
    def route(
        self,
        methods: str | Iterable[str],
        pattern: str,
        handler: Handler | None = None,
        *,
        name: str | None = None,
    ) -> Handler | Callable[[H], H]:
        """Register ``handler`` for ``methods`` at ``pattern``; without a handler, a decorator."""
        if handler is None:

            def decorate(fn: H) -> H:
                self.route(methods, pattern, fn, name=name)
                return fn

            return decorate
        if not callable(handler):
            raise TypeError(f"handler for {pattern!r} must be callable, got {handler!r}")
        full = _join(self.prefix, pattern, "route pattern")
        for i, method in enumerate([methods] if isinstance(methods, str) else list(methods)):
            self.app._add(method.upper(), full, handler, self, name if i == 0 else None)
        return handler

    @overload
    def get(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def get(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def get(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a GET route (HEAD requests are served by it too); or decorate one."""
        return self.route("GET", pattern, handler, name=name)

    @overload
    def post(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def post(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def post(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a POST route; or decorate one."""
        return self.route("POST", pattern, handler, name=name)

    @overload
    def put(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def put(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def put(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a PUT route; or decorate one."""
        return self.route("PUT", pattern, handler, name=name)

    @overload
    def patch(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def patch(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def patch(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a PATCH route; or decorate one."""
        return self.route("PATCH", pattern, handler, name=name)

    @overload
    def delete(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def delete(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def delete(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a DELETE route; or decorate one."""
        return self.route("DELETE", pattern, handler, name=name)

    @overload
    def head(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def head(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def head(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a HEAD route; or decorate one."""
        return self.route("HEAD", pattern, handler, name=name)

    @overload
    def options(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def options(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def options(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register an OPTIONS route; or decorate one."""
        return self.route("OPTIONS", pattern, handler, name=name)

    @overload
    def any(
        self, pattern: str, handler: None = None, *, name: str | None = None
    ) -> Callable[[H], H]: ...
    @overload
    def any(self, pattern: str, handler: H, *, name: str | None = None) -> H: ...
    def any(
        self, pattern: str, handler: Handler | None = None, *, name: str | None = None
    ) -> Handler | Callable[[H], H]:
        """Register a route for every method; or decorate one."""
        return self.route(METHODS, pattern, handler, name=name)

    @overload
    def websocket(self, pattern: str, handler: None = None) -> Callable[[W], W]: ...
    @overload
    def websocket(self, pattern: str, handler: W) -> W: ...
    def websocket(
        self, pattern: str, handler: WebSocketHandler | None = None
    ) -> WebSocketHandler | Callable[[W], W]:
        """Register a websocket route: ``async def ws(sock: WebSocket)``; or decorate one."""
        if handler is None:

            def decorate(fn: W) -> W:
                self.websocket(pattern, fn)
                return fn

            return decorate
        if not chain.is_async(handler):
            raise TypeError(f"websocket handler for {pattern!r} must be an async def")
        self.app._ws_router.add("GET", _join(self.prefix, pattern, "route pattern"), handler)
        return handler

    def static(self, prefix: str, directory: str | os.PathLike[str]) -> None:
        """Serve the files under ``directory`` at ``prefix`` (``GET prefix/*filepath``, and
        ``GET prefix/`` for its index.html)."""
        from gee.web.middleware.static_files import serve_directory

        handler = serve_directory(directory)
        base = prefix.rstrip("/")
        self.get(base + "/*filepath", handler)
        self.get(base + "/", handler)  # the directory itself: its index.html
