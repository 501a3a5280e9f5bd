"""The router of gee.web: a trie per HTTP method, whose lookup cost depends on the path's depth.

Patterns are ``/``-separated segments of three kinds::

    /users/:id/files/*path
     static  param  catchall

- a **static** segment matches itself, compared with the raw (still percent-encoded) request path;
  patterns may only use URL-safe characters, so a static segment matches an unescaped segment only;
- a **:param** matches one non-empty segment; its value is percent-decoded (``%2F`` becomes ``/``
  inside the value, it never splits the segment);
- a ***catchall**, only as the last segment, matches the rest of the path, at least one character:
  ``/assets/*filepath`` matches ``/assets/css/a.css`` with ``filepath="css/a.css"``, but neither
  ``/assets/`` nor ``/assets`` (register those separately if they mean something).

Empty segments are significant: ``/a//b`` does not match ``/a/:x/b``, and a trailing slash makes a
different path (``/a/`` does not match ``/a``; the app may redirect).

Priority. Per segment, static beats param beats catchall, whatever the registration order; when a
branch fails deeper down, the walk backtracks and tries the next kind at that segment. Among all
the routes that match a path, the winner is the one whose sequence of segment kinds is
lexicographically best. With ``/hello/b/c`` and ``/hello/:id`` registered: ``/hello/b/c`` goes to
the static route, ``/hello/b`` to ``:id`` (with ``id="b"``) and ``/hello/21/c`` to nothing.

Conflicts fail at registration with a message naming both routes: a duplicate (same method and
pattern once param names are ignored), two different param (or catchall) names at one position of
one method's trie, a duplicate route name.

Cost. A fully static path is one dict lookup; otherwise the walk does one dict lookup per segment,
plus the backtracking, which only happens where a node has both static and wildcard children. The
number of routes never enters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from gee.web.errors import BadPathError, RouteConflictError, RouteError

__all__ = ["EMPTY_PARAMS", "Route", "Router"]

T = TypeVar("T")

EMPTY_PARAMS: dict[str, str] = {}
"""The params of a match without params, shared to avoid an allocation: never mutate it."""

# RFC 3986 pchar without pct-encoded; "%" is refused so a static segment has one spelling.
_STATIC_SEGMENT = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]*")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")  # an HTTP method (RFC 9110 token)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PARAM_SAFE = "!$&'()*+,;=:@"  # quote() keeps letters, digits and "_.-~" anyway

ParamsBuilder = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """A registered route: ``value`` (the app's handler chain) answers ``method`` on ``pattern``.

    ``name`` is the name ``url_for`` knows it by; None means it has none.
    """

    method: str
    pattern: str
    value: T
    name: str | None = None


class _Leaf(Generic[T]):
    """What a match finds: the route, and how to pull its params out of the split path."""

    __slots__ = ("build", "route", "value")

    def __init__(self, route: Route[T], build: ParamsBuilder | None) -> None:
        self.route = route
        self.value = route.value
        self.build = build  # None: the route has no params


class _Node(Generic[T]):
    """One segment position of a method's trie.

    ``static`` maps a segment to its child; ``param`` is the single :param child (one name per
    position, so that a lookup never has to choose); ``catchall`` is the leaf of a *catchall route
    ending here; ``leaf`` the route whose pattern ends at this node. ``wild`` says whether a
    param or catchall exists, i.e. whether a failed static branch needs backtracking here.
    """

    __slots__ = ("catchall", "leaf", "param", "param_name", "param_route", "static", "wild")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.param: _Node[T] | None = None
        self.param_name = ""
        self.param_route: Route[T] | None = None  # the first route through `param`, for messages
        self.catchall: _Leaf[T] | None = None
        self.leaf: _Leaf[T] | None = None
        self.wild = False


def _describe(route: Route[Any]) -> str:
    return f"{route.method} {route.pattern}"


def _parse(pattern: str) -> list[str]:
    """Split and validate a pattern; raise RouteError saying what is wrong and how to fix it."""
    if not pattern.startswith("/"):
        raise RouteError(f"route pattern {pattern!r} must start with '/'")
    segments = pattern[1:].split("/")
    last = len(segments) - 1
    names: set[str] = set()
    for i, segment in enumerate(segments):
        if segment[:1] in (":", "*"):
            name = segment[1:]
            if not name.isidentifier():
                raise RouteError(
                    f"route pattern {pattern!r}: {segment!r} needs a name that is a Python"
                    f" identifier, like ':id' or '*filepath'"
                )
            if name in names:
                raise RouteError(f"route pattern {pattern!r} uses the name {name!r} twice")
            names.add(name)
            if segment[0] == "*" and i != last:
                raise RouteError(
                    f"route pattern {pattern!r}: the catchall {segment!r} must be the last segment"
                )
        elif segment == "" and i != last:
            raise RouteError(f"route pattern {pattern!r} has an empty segment ('//')")
        elif not _STATIC_SEGMENT.fullmatch(segment):
            raise RouteError(
                f"route pattern {pattern!r}: segment {segment!r} may only use URL-safe characters"
                f" (letters, digits and -._~!$&'()*+,;=:@); match anything else with a :param"
            )
    return segments


def _params_builder(segments: list[str]) -> ParamsBuilder | None:
    """Compile a function that builds the params dict from the request's split path.

    Request segment ``i + 1`` (the split path starts with "") lines up with pattern segment ``i``,
    so each param's index is known at registration; a generated dict display is the cheapest way
    to build the dict on every request.
    """
    items = []
    for i, segment in enumerate(segments):
        if segment[:1] == ":":
            items.append(f"{segment[1:]!r}: s[{i + 1}]")
        elif segment[:1] == "*":
            items.append(f"{segment[1:]!r}: '/'.join(s[{i + 1}:])")
    if not items:
        return None
    build: ParamsBuilder = eval(f"lambda s: {{{', '.join(items)}}}")
    return build


def _decode(value: str) -> str:
    """Percent-decode a param value; a malformed escape or non-UTF-8 bytes are a BadPathError."""
    if _BAD_ESCAPE.search(value):
        raise BadPathError(f"malformed percent-escape in path segment {value!r}")
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise BadPathError(f"path segment {value!r} does not decode as UTF-8") from None


def _walk(node: _Node[T], segs: list[str], i: int, n: int) -> _Leaf[T] | None:
    """Find the best leaf for ``segs[i:]`` below ``node``: static, then param, then catchall.

    The loop follows the single possible branch without recursing; it recurses only at nodes
    with a wildcard child, where a failed static branch must fall back to the param, and a failed
    param branch to the catchall.
    """
    while i < n:
        seg = segs[i]
        child = node.static.get(seg)
        if not node.wild:
            if child is None:
                return None
            node = child
            i += 1
            continue
        if child is not None:
            found = _walk(child, segs, i + 1, n)
            if found is not None:
                return found
        param = node.param
        if seg and param is not None:
            if node.catchall is None:
                node = param
                i += 1
                continue
            found = _walk(param, segs, i + 1, n)
            if found is not None:
                return found
        # the catchall wants at least one character: not just the "" after a trailing slash
        if i < n - 1 or seg:
            return node.catchall
        return None
    return node.leaf


class Router(Generic[T]):
    """Maps (method, path) to the value of the best matching route, and builds named routes' URLs.

    Not thread-safe for ``add``; register every route before serving, then ``match`` is read-only.
    """

    __slots__ = ("_by_name", "_roots", "_routes", "_static")

    def __init__(self) -> None:
        self._roots: dict[str, _Node[T]] = {}
        self._static: dict[str, dict[str, _Leaf[T]]] = {}  # method -> param-free path -> leaf
        self._routes: list[Route[T]] = []
        self._by_name: dict[str, tuple[Route[T], list[str]]] = {}

    @property
    def routes(self) -> list[Route[T]]:
        """Every route, in registration order (a copy)."""
        return list(self._routes)

    def add(self, method: str, pattern: str, value: T, *, name: str | None = None) -> Route[T]:
        """Register ``value`` for ``method`` on ``pattern``; None ``name`` leaves it unnamed.

        Raises RouteError for a malformed pattern or method and RouteConflictError when the route
        clashes with one already registered; either way the router is left unchanged.
        """
        if not _TOKEN.fullmatch(method):
            raise RouteError(f"route method {method!r} is not an HTTP method token (like 'GET')")
        segments = _parse(pattern)
        route = Route(method, pattern, value, name)
        if name is not None and name in self._by_name:
            other = self._by_name[name][0]
            raise RouteConflictError(
                f"route name {name!r} of {_describe(route)} is already used by {_describe(other)}"
            )
        # Conflicts can only occur along nodes that already exist, so raising before the first
        # node is created leaves the trie untouched.
        root = self._roots.get(method)
        if root is None:
            root = self._roots[method] = _Node()
        node = root
        for segment in segments:
            kind = segment[:1]
            if kind == ":":
                if node.param is None:
                    node.param = _Node()
                    node.param_name = segment
                    node.param_route = route
                    node.wild = True
                elif node.param_name != segment:
                    raise self._conflict(route, node.param_route, "param", node.param_name)
                node = node.param
            elif kind == "*":
                if node.catchall is not None:
                    existing = node.catchall.route
                    raise self._conflict(route, existing, "catchall", existing.pattern)
                node.catchall = _Leaf(route, _params_builder(segments))
                node.wild = True
                break
            else:
                child = node.static.get(segment)
                if child is None:
                    child = node.static[segment] = _Node()
                node = child
        else:
            if node.leaf is not None:
                existing = node.leaf.route
                raise RouteConflictError(
                    f"route {_describe(route)} duplicates {_describe(existing)}"
                )
            node.leaf = _Leaf(route, _params_builder(segments))
            if node.leaf.build is None:
                self._static.setdefault(method, {})[pattern] = node.leaf
        self._routes.append(route)
        if name is not None:
            self._by_name[name] = (route, segments)
        return route

    @staticmethod
    def _conflict(
        route: Route[T], existing: Route[T] | None, kind: str, existing_segment: str
    ) -> RouteConflictError:
        assert existing is not None
        if kind == "catchall":
            return RouteConflictError(
                f"route {_describe(route)} conflicts with {_describe(existing)}:"
                f" only one catchall per position and method"
            )
        return RouteConflictError(
            f"route {_describe(route)} conflicts with {_describe(existing)}: the param at one"
            f" position must have one name ({existing_segment!r} already); rename it"
        )

    def _lookup(self, method: str, path: str) -> tuple[_Leaf[T], list[str] | None] | None:
        static = self._static.get(method)
        if static is not None:
            leaf = static.get(path)
            if leaf is not None:
                return leaf, None
        root = self._roots.get(method)
        if root is None or path[:1] != "/":
            return None
        segs = path.split("/")
        found = _walk(root, segs, 1, len(segs))
        if found is None:
            return None
        return found, segs

    def match(self, method: str, path: str) -> tuple[T, dict[str, str]] | None:
        """Return the value and the percent-decoded params of the route for ``method`` and the raw
        ``path`` (no query string), or None when nothing matches.

        A route without params gets the shared EMPTY_PARAMS. A malformed percent-escape (or a
        non-UTF-8 one) in a param raises BadPathError.
        """
        found = self._lookup(method, path)
        if found is None:
            return None
        leaf, segs = found
        if leaf.build is None or segs is None:
            return leaf.value, EMPTY_PARAMS
        params = leaf.build(segs)
        if "%" in path:
            params = {key: _decode(value) for key, value in params.items()}
        return leaf.value, params

    def allowed(self, path: str) -> list[str]:
        """The sorted methods under which ``path`` matches a route (for a 405's Allow header)."""
        return sorted(method for method in self._roots if self._lookup(method, path) is not None)

    def url_for(self, name: str, **params: object) -> str:
        """Build the path of the route named ``name``, percent-encoding the params' ``str()``.

        A catchall value keeps its "/". Raises RouteError for an unknown name, a missing, extra or
        empty param (an empty one could never match back).
        """
        entry = self._by_name.get(name)
        if entry is None:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise RouteError(f"url_for: no route is named {name!r} (named routes: {known})")
        route, segments = entry
        wanted = {segment[1:] for segment in segments if segment[:1] in (":", "*")}
        if wanted != params.keys():
            missing = ", ".join(sorted(wanted - params.keys())) or "none"
            extra = ", ".join(sorted(params.keys() - wanted)) or "none"
            raise RouteError(
                f"url_for({name!r}) for {_describe(route)}: missing params: {missing};"
                f" unexpected params: {extra}"
            )
        parts = []
        for segment in segments:
            kind = segment[:1]
            if kind in (":", "*"):
                value = str(params[segment[1:]])
                if not value:
                    raise RouteError(
                        f"url_for({name!r}): param {segment[1:]!r} of {_describe(route)} is empty"
                    )
                segment = quote(value, safe=_PARAM_SAFE + "/" if kind == "*" else _PARAM_SAFE)
            parts.append(segment)
        return "/" + "/".join(parts)
