"""HTTPPool: peers over HTTP, speaking groupcache's protocol, so Go nodes can join the cluster.

Protocol (groupcache's ``http.go``)::

    GET {base_path}{QueryEscape(group)}/{QueryEscape(key)}
    200 application/x-protobuf   GetResponse{value}
    400 bad request | 404 no such group: NAME | 500 the getter's error text

Escaping is the subtle corner. The Go client escapes group and key with ``url.QueryEscape``
(space becomes ``+``, ``+`` becomes ``%2B``, ``/`` becomes ``%2F``). The Go server decodes the
path with *path* rules, which leave ``+`` alone, so a Go owner asked for ``a b`` loads ``a+b``:
a groupcache bug that would hand out another key's value. gee keeps the wire format and fixes
both ends of it, without either side needing to know what the other runs:

- the client escapes exactly like ``QueryEscape`` except that a space is sent as ``%20``, which
  both Go's server and ours decode to a space;
- the server splits the raw path once at the first ``/`` after the base path and applies
  ``QueryUnescape`` to each half, the exact inverse of what a Go client sent (``+`` is a space,
  ``%2B`` a plus).

Nothing else is decoded or normalised: ``a//b``, ``./x`` and ``..`` are keys, not redirects, and
the client sends its target verbatim for the same reason. (Serve a Go node's pool as the whole
handler, not through ``http.ServeMux``, which answers 301 to such paths.)

Beyond groupcache, on paths Go nodes answer 404 to, so a mixed cluster stays safe::

    DELETE {base_path}_remove/{group}/{key}   drop the key from this node's caches (204)
    GET    {base_path}_stats                  every served group's counters as JSON
    GET    {base_path}_peers                  the peer URLs of this node's ring, as JSON
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_to_bytes, urlsplit

from gee.cache.consistenthash import DEFAULT_REPLICAS, Hash, HashRing
from gee.cache.errors import PeerError
from gee.cache.group import Group, get_group
from gee.cache.pb import GetResponse
from gee.cache.peers import PeerGetter

if TYPE_CHECKING:
    from gee.cache.httpclient import Client
    from gee.web import Context, Gee
    from gee.web.types import Receive, Scope, Send

__all__ = [
    "DEFAULT_BASE_PATH",
    "HTTPGetter",
    "HTTPPool",
    "encode_get_response",
    "escape",
    "split_path",
    "unescape",
]

logger = logging.getLogger("gee.cache")

DEFAULT_BASE_PATH = "/_groupcache/"
PROTOBUF = "application/x-protobuf"
_PROTOBUF = PROTOBUF.encode()
_TEXT = b"text/plain; charset=utf-8"  # as gee.web's c.string sends
KEEPALIVE_EXPIRY = 2.0  # seconds an idle peer connection is kept
# A request carrying our own token came from this very pool: the peer list spells self_url
# differently from self_url. Go would stall on its own singleflight; we refuse at once.
LOOP_HEADER = "x-gee-cache-origin"

# Where HTTPPool.follow() reads the peer list from: sync or async, returning URLs.
PeerSource = Callable[[], Sequence[str] | Awaitable[Sequence[str]]]

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# Where __call__ keeps the raw path as sent when it shows the router a masked one.
_RAW_PATH = "gee.cache.raw_path"


def escape(text: str) -> str:
    """Escape a group or key for the URL path: Go's ``url.QueryEscape``, but space as ``%20``.

    Letters, digits and ``-_.~`` stay, every other UTF-8 byte becomes ``%XX``. A ``+`` for the
    space would be read back as ``+`` by Go servers; ``%20`` reads back as a space everywhere.
    (A str holding surrogate escapes stands for the raw bytes it was decoded from.)
    """
    return quote(text.encode("utf-8", "surrogateescape"), safe="")


def unescape(text: str) -> str:
    """Go's ``url.QueryUnescape``: ``%XX`` is a byte, ``+`` a space; non-UTF-8 bytes survive."""
    return unquote_to_bytes(text.replace("+", " ")).decode("utf-8", "surrogateescape")


def split_path(raw_path: bytes, base_path: str) -> tuple[str, str] | None:
    """Return (group, key) from a raw request path (the escaped bytes on the request line).

    The path must start with ``base_path``; the rest is split once at its first ``/`` and each
    half is unescaped with :func:`unescape`. None means a bad request: another prefix, a
    malformed ``%`` escape, or no ``/`` after the group.
    """
    if raw_path.find(b"?") >= 0:  # not ``in``: bytes-in-bytes builds a TypeError first
        raw_path = raw_path.partition(b"?")[0]
    path = raw_path.decode("latin-1")
    if not path.startswith(base_path):
        return None
    group, slash, key = path[len(base_path) :].partition("/")
    if not slash:
        return None
    if "%" not in path and "+" not in path:
        # Most keys: nothing to decode, and unescape() would give back the same strings.
        return group, key
    if _BAD_ESCAPE.search(raw_path):
        return None
    return unescape(group), unescape(key)


# GetResponse{value} encoded by hand: field 1, wire type 2 (the tag byte 0x0a), the length as
# a varint, the bytes. The same bytes as GetResponse(value=v).SerializeToString(), without
# building a message per request.
_SHORT_HEADS = [bytes((0x0A, n)) for n in range(0x80)]


def encode_get_response(value: bytes) -> bytes:
    """Return the protobuf ``GetResponse{value}`` (no ``minute_qps``, as groupcache sends)."""
    n = len(value)
    if n < 0x80:
        return _SHORT_HEADS[n] + value
    head = bytearray(b"\x0a")
    while n >= 0x80:
        head.append((n & 0x7F) | 0x80)
        n >>= 7
    head.append(n)
    return bytes(head) + value


class HTTPGetter:
    """One remote peer, reached at ``base_url`` (its URL followed by the pool's base path)."""

    __slots__ = ("base_target", "base_url", "host", "pool", "port")

    def __init__(self, pool: HTTPPool, base_url: str) -> None:
        self.pool = pool
        self.base_url = base_url
        # The address and the request target's fixed part (the base URL's path), once per peer.
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"peer URLs must be http://host[:port]; got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base_target = parts.path.encode("ascii")

    def __repr__(self) -> str:
        return f"HTTPGetter({self.base_url!r})"

    async def get(self, group: str, key: str) -> bytes:
        """Fetch ``key`` of ``group`` from the peer; raise PeerError on any failure."""
        body = await self.pool._request(self, "GET", f"{escape(group)}/{escape(key)}")
        try:
            return GetResponse.FromString(body).value
        except Exception as exc:  # google.protobuf.message.DecodeError, and friends
            raise PeerError(f"{self.base_url}: decoding response body: {exc}") from exc

    async def remove(self, group: str, key: str) -> None:
        """Ask the peer to drop ``key`` of ``group``; raise PeerError on any failure."""
        tail = f"_remove/{escape(group)}/{escape(key)}"
        await self.pool._request(self, "DELETE", tail)


class HTTPPool:
    """The peers of this process, over HTTP: a PeerPicker for Groups and an ASGI app for peers.

    ``self_url`` is this process's base URL (``http://10.0.0.2:8000``), spelled exactly as in
    the list given to :meth:`set_peers`: keys it owns are loaded here, never fetched from
    itself. ``base_path`` is where the peer endpoint lives (groupcache's default). ``replicas``
    and ``hash`` configure the ring (None: CRC-32 IEEE, as groupcache). ``timeout`` bounds
    each request to a peer, in seconds; a peer slower than that counts as a peer error and the
    key is loaded locally. ``max_connections`` bounds the keep-alive pool shared by all peers.
    ``groups`` maps the names this pool serves to their Groups; None means every registered
    Group (:func:`get_group`), as in groupcache. Several pools with their own ``groups`` can
    share one process (one per node in a test).

    The pool is the ASGI app that serves the peer endpoint (a gee.web ``Gee`` app, in
    ``pool.app``, behind a step that lets keys which are not UTF-8 past gee.web's router);
    serve the pool itself with any ASGI server. Call :meth:`aclose` (or use
    ``async with``) to close the client's connections.
    """

    def __init__(
        self,
        self_url: str,
        base_path: str = DEFAULT_BASE_PATH,
        *,
        replicas: int = DEFAULT_REPLICAS,
        hash: Hash | None = None,
        timeout: float = 5.0,
        max_connections: int = 100,
        groups: Mapping[str, Group] | None = None,
    ) -> None:
        if not base_path.startswith("/") or not base_path.endswith("/"):
            raise ValueError(f"base_path must start and end with '/'; got {base_path!r}")
        self.self_url = self_url
        self.base_path = base_path
        self.replicas = replicas
        self.timeout = timeout
        self.max_connections = max_connections
        self.groups = groups
        self._hash = hash
        # The ring and its getters, as one tuple that set_peers() replaces whole and never
        # mutates: a lookup (on any thread) reads one consistent pair, old or new.
        self._members: tuple[HashRing, dict[str, HTTPGetter]] = (HashRing(replicas, hash), {})
        # Created on first use, inside the running loop; closed by aclose().
        self._client: Client | None = None
        self._token = secrets.token_hex(8)
        self._loop_header = (LOOP_HEADER.encode(), self._token.encode())
        self._loop_header_line = b"%s: %s\r\n" % self._loop_header
        self.app: Gee = self._build_app()
        self._base_raw = base_path.encode()

    def __repr__(self) -> str:
        return f"HTTPPool({self.self_url!r}, peers={self.peers!r})"

    # ------------------------------------------------------------------ membership

    @property
    def peers(self) -> list[str]:
        """The peer URLs of the current ring, self included, in the order they were set."""
        return list(self._members[0].peers)

    @property
    def ring(self) -> HashRing:
        """The current ring (replaced, never changed, by :meth:`set_peers`): ``ring.owner(key)``."""
        return self._members[0]

    def set_peers(self, *urls: str) -> None:
        """Replace the peer list (self included) and rebuild the ring; takes effect at once.

        An empty list means no peers: every key is loaded locally.
        """
        ring = HashRing(self.replicas, self._hash)
        ring.add(*urls)
        getters = {url: HTTPGetter(self, url.rstrip("/") + self.base_path) for url in urls}
        if urls and self.self_url not in getters:
            logger.warning(
                "HTTPPool: self_url %r is not in the peer list %r; spell it exactly as there, "
                "or this node will ask itself for the keys it owns",
                self.self_url,
                list(urls),
            )
        self._members = (ring, getters)

    async def follow(self, source: PeerSource, interval: float = 10.0) -> None:
        """Keep the peer list equal to what ``source()`` returns, polling every ``interval`` s.

        ``source`` is any callable, sync or async, returning the peer URLs (self included): a
        static list's ``lambda``, a registry client's method. Run it as a task and cancel the
        task to stop following. When ``source`` fails the current peers are kept and the
        error is logged; the next poll tries again.
        """
        while True:
            try:
                found = source()
                urls = list(await found if inspect.isawaitable(found) else found)
            except Exception as exc:
                logger.warning("HTTPPool: peer source failed, keeping %s: %s", self.peers, exc)
            else:
                if urls != self.peers:
                    logger.info("HTTPPool: peers %s -> %s", self.peers, urls)
                    self.set_peers(*urls)
            await asyncio.sleep(interval)

    def pick_peer(self, key: str) -> PeerGetter | None:
        """Return the remote owner of ``key``; None when this process owns it or has no peers."""
        ring, getters = self._members
        owner = ring.owner(key)
        if owner is None or owner == self.self_url:
            return None
        return getters[owner]

    def remote_peers(self) -> Sequence[PeerGetter]:
        """Every peer but this process."""
        return [g for url, g in self._members[1].items() if url != self.self_url]

    # ------------------------------------------------------------------ client

    def _http(self) -> Client:
        client = self._client
        if client is None:
            from gee.cache.httpclient import Client

            client = self._client = Client(
                timeout=self.timeout,
                max_connections=self.max_connections,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            )
        return client

    async def _request(self, peer: HTTPGetter, method: str, tail: str) -> bytes:
        """Send one request to a peer and return the 200 body; PeerError for anything else."""
        # The target goes verbatim, never normalised: "." and ".." segments are keys here.
        target = peer.base_target + tail.encode("ascii")
        status, body = await self._http().request(
            method, peer.host, peer.port, target, self._loop_header_line
        )
        if status not in (200, 204):
            text = body.decode("utf-8", "replace").strip()[:200]
            raise PeerError(f"{method} {peer.base_url}{tail}: server returned: {status} {text}")
        return body

    async def aclose(self) -> None:
        """Close the client's connections (the server side needs no closing)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> HTTPPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ server

    def group(self, name: str) -> Group | None:
        """The Group this pool serves as ``name``; None if it serves none by that name."""
        return get_group(name) if self.groups is None else self.groups.get(name)

    def _served(self) -> list[Group]:
        if self.groups is not None:
            return list(self.groups.values())
        from gee.cache.group import _groups

        return list(_groups.values())

    def _build_app(self) -> Gee:
        from gee.web import Gee

        app = Gee(redirect_slashes=False)
        base = self.base_path
        # The router's params are decoded its own way; these handlers read the raw target
        # instead (split_path), so only the route shapes matter here. ":group/" serves the
        # empty key, which a catchall does not match.
        app.get(base + ":group/*key", self._serve_get)
        app.get(base + ":group/", self._serve_get)
        app.get(base + ":group", self._serve_get)  # no key: 400, as groupcache answers
        app.get(base, self._serve_get)
        app.delete(base + "_remove/:group/*key", self._serve_remove)
        app.delete(base + "_remove/:group/", self._serve_remove)
        app.get(base + "_stats", self._serve_stats)
        app.get(base + "_peers", self._serve_peers)
        return app

    def _parse(self, c: Context, prefix: str = "") -> tuple[Group, str] | None:
        """Find the Group and key of a request; answer the error and return None if it fails."""
        # Scanned in the raw header list: building c.headers' dict costs more than the lookup.
        # (Pairs are compared by value: ASGI servers may send them as lists, not tuples.)
        loop_name, loop_token = self._loop_header
        for name, value in c.scope["headers"]:
            if name == loop_name and value == loop_token:
                c.string(508, "loop detected: %s asked itself; check self_url\n", self.self_url)
                return None
        scope = c.scope
        raw: bytes = scope.get(_RAW_PATH) or scope.get("raw_path") or scope["path"].encode()
        parts = split_path(raw, self.base_path + prefix)
        if parts is None:
            c.string(400, "bad request\n")
            return None
        name, key = parts
        group = self.group(name)
        if group is None:
            c.string(404, "no such group: %s\n", name)
            return None
        return group, key

    async def _serve_get(self, c: Context) -> None:
        found = self._parse(c)
        if found is None:
            return
        group, key = found
        group.stats.server_requests += 1
        try:
            value = await group.get(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            c.string(500, "%s\n", exc)
            return
        c.data(200, encode_get_response(value), PROTOBUF)

    async def _get_direct(self, scope: Scope, raw: bytes, send: Send) -> bool:
        """Answer ``GET {base}{group}/{key}`` without gee.web's Context: the one request a
        peer endpoint serves all day (groupcache's own handler is as direct). False, having
        sent nothing, for anything this path does not answer as the app would: the app then
        answers it (414/431 limits, the loop check, bad paths, unknown groups, a mount)."""
        app = self.app
        if len(raw) > app.max_path_length or scope.get("root_path"):
            return False
        headers = scope["headers"]
        if len(headers) > app.max_headers:
            return False
        limit = app.max_header_size
        loop_name, loop_token = self._loop_header
        for name, value in headers:
            if len(value) > limit or (name == loop_name and value == loop_token):
                return False
        parts = split_path(raw, self.base_path)
        if parts is None:
            return False
        group = self.group(parts[0])
        if group is None:
            return False
        group.stats.server_requests += 1
        try:
            body = encode_get_response(await group.get(parts[1]))
            ctype = _PROTOBUF
            status = 200
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            body = b"%s\n" % str(exc).encode()
            ctype = _TEXT
            status = 500
        head = [(b"content-type", ctype), (b"content-length", b"%d" % len(body))]
        try:
            await send({"type": "http.response.start", "status": status, "headers": head})
            await send({"type": "http.response.body", "body": body})
        except OSError:
            pass  # the asker left; ASGI servers may say so by raising from send
        return True

    async def _serve_remove(self, c: Context) -> None:
        found = self._parse(c, "_remove/")
        if found is None:
            return
        group, key = found
        group.remove_local(key)
        c.data(204, b"", "text/plain")

    async def _serve_stats(self, c: Context) -> None:
        body = {g.name: g.stats_dict() for g in self._served()}
        c.data(200, json.dumps(body).encode(), "application/json")

    async def _serve_peers(self, c: Context) -> None:
        c.data(200, json.dumps(self.peers).encode(), "application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the peer endpoint: the pool is itself an ASGI app."""
        raw: bytes | None = scope.get("raw_path")
        if (
            raw is not None
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and raw.startswith(self._base_raw)
            and await self._get_direct(scope, raw, send)
        ):
            return
        if raw is not None and raw.find(b"%") >= 0:  # (``in`` would build a TypeError)
            # Keys are bytes: a Go client escapes any byte, so "%FF%FE" is a key like another.
            # gee.web's router decodes the params it matches as UTF-8 and answers 400 to what
            # is not; our handlers decode the raw path themselves (split_path). So the router
            # is shown the path with every "%" masked by a byte that no route segment can hold
            # (segments keep their number and their static parts), which it takes as plain
            # text, and the handlers read the path as sent. Unescaped paths go through as is.
            scope = {**scope, "raw_path": raw.replace(b"%", b"\x00"), _RAW_PATH: raw}
        await self.app(scope, receive, send)
