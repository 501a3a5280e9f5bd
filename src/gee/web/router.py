"""The router of gee.web: a trie per HTTP method compiled to Python; lookups cost the path's depth.

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
branch fails deeper down, the lookup backtracks and tries the next kind at that segment. Among all
the routes that match a path, the winner is the one whose sequence of segment kinds is
lexicographically best. With ``/hello/b/c`` and ``/hello/:id`` registered: ``/hello/b/c`` goes to
the static route, ``/hello/b`` to ``:id`` (with ``id="b"``) and ``/hello/21/c`` to nothing.

Conflicts fail at registration with a message naming both routes: a duplicate (same method and
pattern once param names are ignored), two different param (or catchall) names at one position of
one method's trie, a duplicate route name.

Cost. A path without params is one dict lookup. Otherwise the path is split once and handed to a
function generated from the method's trie, in the spirit of Falcon's CompiledRouter (see
``_Compiler``): the number of segments picks a block of nested ``if`` statements where every
segment is a local variable, a static segment is found by a binary search of string comparisons
among its siblings, and backtracking is plain fall-through from the static branch to the param
branch to the catchall. The work grows with the path's depth (times log2 of the widest fan-out),
never with the number of routes: over the 203 GitHub API routes a lookup runs about 6,100 machine
instructions, Falcon's about 8,400. The function is generated on the first lookup after a change,
so registering N routes costs one compilation. Patterns have at most 64 segments.
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
_MAX_SEGMENTS = 64  # keeps the code generator's recursion far from Python's limit
_MAX_NESTING = 40  # deeper subtrees go to functions of their own (the tokenizer stops at 100)
_NEVER = float("inf")  # no catchall below: matches from no length on

_Found = tuple[Any, dict[str, str]]
_Finder = Callable[[str], _Found | None]


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """A registered route: ``value`` (the app's handler chain) answers ``method`` on ``pattern``.

    ``name`` is the name ``url_for`` knows it by; None means it has none.
    """

    method: str
    pattern: str
    value: T
    name: str | None = None


class _Node(Generic[T]):
    """One segment position of a method's trie.

    ``static`` maps a segment to its child; ``param`` is the single :param child (one name per
    position, so that a lookup never has to choose between names); ``catchall`` is the *catchall
    route ending here and ``leaf`` the route whose pattern ends at this node.
    """

    __slots__ = ("catchall", "leaf", "param", "param_name", "param_route", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.param: _Node[T] | None = None
        self.param_name = ""  # the param's segment, ":id"
        self.param_route: Route[T] | None = None  # the first route through `param`, for messages
        self.catchall: Route[T] | None = None
        self.leaf: Route[T] | None = None


def _describe(route: Route[Any]) -> str:
    return f"{route.method} {route.pattern}"


def _parse(pattern: str) -> list[str]:
    """Split and validate a pattern; raise RouteError saying what is wrong and how to fix it."""
    if not pattern.startswith("/"):
        raise RouteError(f"route pattern {pattern!r} must start with '/'")
    segments = pattern[1:].split("/")
    if len(segments) > _MAX_SEGMENTS:
        raise RouteError(f"route pattern {pattern!r} has more than {_MAX_SEGMENTS} segments")
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


def _decode(value: str) -> str:
    """Percent-decode a param value; a malformed escape or non-UTF-8 bytes are a BadPathError."""
    if _BAD_ESCAPE.search(value):
        raise BadPathError(f"malformed percent-escape in path segment {value!r}")
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise BadPathError(f"path segment {value!r} does not decode as UTF-8") from None


class _Compiler:
    """Generates the finder of one method: ``find(path) -> (value, raw params) | None``.

    The path is split once, and its length picks a block of code that knows every segment as a
    local variable (``_, s1, s2, s3 = segs``) and holds only the routes that can match a path of
    that many segments. In a block, the code for a trie node whose children read ``s<i>`` is::

        if s<i> < 'm': ... elif s<i> == 'a': <child 'a'>   # a binary search of its statics
        if s<i>: <the param child>      # reached only when no static branch returned
        return <catchall>               # ("if s<i>:" when s<i> is the last segment)

    and a node at the end of the path is ``return <leaf>``. A branch that finds nothing falls
    through to the next kind: that is the backtracking. Params are the locals ``s<i>``, collected
    into a dict display only by the ``return`` of a leaf. Paths longer than every pattern share one
    block, where only catchalls can match.
    """

    def __init__(self, static: dict[str, _Found]) -> None:
        self.static = static
        self.namespace: dict[str, Any] = {"S": static}
        self.functions: list[list[str]] = []
        self.reach: dict[int, tuple[frozenset[int], float]] = {}  # id(node) -> see _reach
        self.deepest = 0  # the most segments a leaf, or a catchall's start, needs

    def compile(self, root: _Node[Any], method: str) -> _Finder:
        lines = [
            "def find(path):",
            " hit = S.get(path)",
            " if hit is not None: return hit",
            " segs = path.split('/')",
            " if segs[0]: return None",
            " n = len(segs)",
        ]
        self.functions.append(lines)
        _, catchall = self._reach(root, 1)
        # From `longest` segments on, no leaf can match and every catchall can: one block.
        longest = self.deepest + 1
        blocks = [length for length in range(2, longest) if self.alive(root, length)]
        if catchall < _NEVER:
            blocks.append(longest)
        if blocks:
            self.lengths(root, blocks, longest, lines, 1)
        lines.append(" return None")
        source = "\n".join("\n".join(function) for function in self.functions)
        exec(compile(source, f"<gee.web.router {method}>", "exec"), self.namespace)
        find: _Finder = self.namespace["find"]
        return find

    def _reach(self, node: _Node[Any], i: int) -> tuple[frozenset[int], float]:
        """The path lengths (segment counts, "" first) at which a leaf under ``node`` ends, and
        the least length from which a catchall under it can match (_NEVER if none)."""
        # A leaf without params is found by the static dict before the blocks run: leave it out.
        leaf = node.leaf
        lengths = {i} if leaf is not None and leaf.pattern not in self.static else set()
        catchall: float = i + 1 if node.catchall is not None else _NEVER
        children = [*node.static.values(), *([node.param] if node.param else [])]
        for child in children:
            child_lengths, child_catchall = self._reach(child, i + 1)
            lengths |= child_lengths
            catchall = min(catchall, child_catchall)
        self.reach[id(node)] = (frozenset(lengths), catchall)
        self.deepest = max(self.deepest, *lengths, i + 1 if node.catchall is not None else 0)
        return self.reach[id(node)]

    def alive(self, node: _Node[Any], length: int) -> bool:
        """Whether some route under ``node`` can match a path of ``length`` segments."""
        lengths, catchall = self.reach[id(node)]
        return length in lengths or length >= catchall

    def lengths(
        self, root: _Node[Any], blocks: list[int], longest: int, out: list[str], depth: int
    ) -> None:
        """Emit a binary search over the path lengths that have a block."""
        pad = " " * depth
        if len(blocks) > 1:
            middle = len(blocks) // 2
            out.append(f"{pad}if n < {blocks[middle]}:")
            self.lengths(root, blocks[:middle], longest, out, depth + 1)
            out.append(f"{pad}else:")
            self.lengths(root, blocks[middle:], longest, out, depth + 1)
            return
        length = blocks[0]
        names = ", ".join(["_", *(f"s{i}" for i in range(1, length))])
        if length == longest:
            out.append(f"{pad}if n >= {length}:")
            out.append(f"{pad} {names} = segs[:{length}]")
        else:
            out.append(f"{pad}if n == {length}:")
            out.append(f"{pad} {names} = segs")
        self.node(root, 1, length, [], out, depth + 1)

    def node(
        self,
        node: _Node[Any],
        i: int,
        length: int,
        params: list[tuple[str, str]],
        out: list[str],
        depth: int,
    ) -> None:
        """Emit the code of ``node``, whose children read ``s<i>``, in the block for paths of
        ``length`` segments; ``params`` pairs each param above it with its value's expression."""
        pad = " " * depth
        if i == length:
            assert node.leaf is not None
            out.append(f"{pad}return {self.result(node.leaf, params)}")
            return
        if depth > _MAX_NESTING:
            name = f"f{len(self.functions)}"
            args = ", ".join(["segs", *(f"s{j}" for j in range(1, length))])
            lines = [f"def {name}({args}):"]
            self.functions.append(lines)
            self.node(node, i, length, params, lines, 1)
            lines.append(" return None")
            out.append(f"{pad}found = {name}({args})")
            out.append(f"{pad}if found is not None: return found")
            return
        keys = sorted(key for key, child in node.static.items() if self.alive(child, length))
        if keys:
            self.statics(node, keys, i, length, params, out, depth)
        if node.param is not None and self.alive(node.param, length):
            out.append(f"{pad}if s{i}:")
            here = [*params, (node.param_name[1:], f"s{i}")]
            self.node(node.param, i + 1, length, here, out, depth + 1)
        if node.catchall is not None and length >= i + 1:
            name = node.catchall.pattern.rsplit("*", 1)[1]
            rest = f"'/'.join(segs[{i}:])" if length > i + 1 else f"s{i}"
            found = self.result(node.catchall, [*params, (name, rest)])
            # s<i> is the last segment: the catchall wants at least one character
            out.append(f"{pad}{'' if length > i + 1 else f'if s{i}: '}return {found}")

    def statics(
        self,
        node: _Node[Any],
        keys: list[str],
        i: int,
        length: int,
        params: list[tuple[str, str]],
        out: list[str],
        depth: int,
    ) -> None:
        """Emit a binary search over the sorted static ``keys``: log2 comparisons, not len."""
        pad = " " * depth
        if len(keys) <= 3:
            for k, key in enumerate(keys):
                out.append(f"{pad}{'elif' if k else 'if'} s{i} == {key!r}:")
                self.node(node.static[key], i + 1, length, params, out, depth + 1)
            return
        middle = len(keys) // 2
        out.append(f"{pad}if s{i} < {keys[middle]!r}:")
        self.statics(node, keys[:middle], i, length, params, out, depth + 1)
        out.append(f"{pad}else:")
        self.statics(node, keys[middle:], i, length, params, out, depth + 1)

    def result(self, route: Route[Any], params: list[tuple[str, str]]) -> str:
        """The expression a leaf returns; a param-free one is a shared constant tuple."""
        name = f"r{len(self.namespace)}"
        if not params:
            self.namespace[name] = (route.value, EMPTY_PARAMS)
            return name
        self.namespace[name] = route.value
        items = ", ".join(f"{key!r}: {value}" for key, value in params)
        return f"({name}, {{{items}}})"


class Router(Generic[T]):
    """Maps (method, path) to the value of the best matching route, and builds named routes' URLs.

    Register every route before serving: ``add`` is not thread-safe. ``match`` only reads, except
    that the first lookup after an ``add`` regenerates the method's finder (two threads doing so
    at once build equal finders, and the assignment is atomic).
    """

    __slots__ = ("_by_name", "_finders", "_roots", "_routes", "_static")

    def __init__(self) -> None:
        self._roots: dict[str, _Node[T]] = {}
        self._static: dict[str, dict[str, _Found]] = {}  # method -> param-free path -> result
        self._finders: dict[str, _Finder] = {}  # method -> generated finder; absent: stale
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
        node = self._roots.get(method) or _Node()
        root = node
        for segment in segments:
            kind = segment[:1]
            if kind == ":":
                if node.param is None:
                    node.param = _Node()
                    node.param_name = segment
                    node.param_route = route
                elif node.param_name != segment:
                    existing = node.param_route
                    assert existing is not None
                    raise RouteConflictError(
                        f"route {_describe(route)} conflicts with {_describe(existing)}: a param"
                        f" position has one name per method ({node.param_name!r} here); rename it"
                    )
                node = node.param
            elif kind == "*":
                if node.catchall is not None:
                    raise RouteConflictError(
                        f"route {_describe(route)} conflicts with {_describe(node.catchall)}:"
                        f" one catchall per position and method"
                    )
                node.catchall = route
                break
            else:
                child = node.static.get(segment)
                if child is None:
                    child = node.static[segment] = _Node()
                node = child
        else:
            if node.leaf is not None:
                raise RouteConflictError(
                    f"route {_describe(route)} duplicates {_describe(node.leaf)}"
                )
            node.leaf = route
            if not any(segment[:1] == ":" for segment in segments):
                self._static.setdefault(method, {})[pattern] = (value, EMPTY_PARAMS)
        self._roots[method] = root
        self._finders.pop(method, None)
        self._routes.append(route)
        if name is not None:
            self._by_name[name] = (route, segments)
        return route

    def _finder(self, method: str) -> _Finder | None:
        """The method's finder, generated if stale; None if the method has no routes."""
        find = self._finders.get(method)
        if find is None and method in self._roots:
            compiler = _Compiler(self._static.setdefault(method, {}))
            find = self._finders[method] = compiler.compile(self._roots[method], method)
        return find

    def match(self, method: str, path: str) -> tuple[T, dict[str, str]] | None:
        """Return the value and the percent-decoded params of the route for ``method`` and the raw
        ``path`` (no query string), or None when nothing matches.

        A route without params gets the shared EMPTY_PARAMS. A malformed percent-escape (or a
        non-UTF-8 one) in a param raises BadPathError.
        """
        find: _Finder | None
        try:
            find = self._finders[method]  # cheaper than .get() when present, the usual case
        except KeyError:  # stale, or a method without routes
            find = self._finder(method)
            if find is None:
                return None
        found = find(path)
        if found is None or "%" not in path:
            return found
        return found[0], {key: _decode(value) for key, value in found[1].items()}

    def allowed(self, path: str) -> list[str]:
        """The sorted methods under which ``path`` matches a route (for a 405's Allow header)."""
        return [
            method
            for method in sorted(self._roots)
            if (find := self._finder(method)) is not None and find(path) is not None
        ]

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
