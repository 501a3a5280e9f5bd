"""Context: one request and its response, handed to every handler and middleware.

A Context is created once per request with only what every request needs (the scope, the route
parameters, the handler chain); headers, query, cookies and the body are parsed on first use.
The response is *buffered* in the Context (status, body, headers) and sent by the app (see
``sending``) after the chain returns, so that a middleware can read or change it after
``await c.next()`` (logger sees the status, gzip compresses the body). Streams (``c.stream``,
large ``c.file``) are sent then too.

``c.json`` is both a reader and a writer, as in the issue: ``await c.json()`` (no arguments)
reads the request body as JSON; ``c.json(200, obj)`` (a status and an object) writes a JSON
response. The two spellings never overlap, and mypy knows which returns an awaitable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import parse_qs, unquote

import msgspec
import orjson

from gee.web.errors import ClientDisconnectedError, HTTPError
from gee.web.response import HTML, JSON, TEXT, Response, dump_json
from gee.web.sending import encode_chunks

if TYPE_CHECKING:
    from gee.web.app import Gee
    from gee.web.forms import FormData
    from gee.web.types import Receive, Scope, Step

M = TypeVar("M")
D = TypeVar("D")

# ``_index`` at or beyond this means the chain was aborted: ``next()`` runs nothing more.
ABORTED = 1 << 30
# Private ``_store`` key under which a parsed form waits to be closed after the response.
FORM_KEY = "gee.form"
_MISSING: Any = object()
_CONSUMED = b"<consumed>"


class Context:
    """The request and the response under construction, plus the chain's position.

    Read: ``method``, ``path``, ``param()``, ``query()``, ``header()``, ``cookie()``,
    ``await body()``, ``await json()``, ``await form()``, ``await bind(Model)``, ``client_ip``.
    Write: ``string``, ``json(code, obj)``, ``html``, ``data``, ``redirect``, ``file``,
    ``stream``, ``set_cookie``, ``status``, ``set_header``. Flow: ``await next()``, ``abort``,
    ``fail``. Per-request store: ``set``/``get``.
    """

    __slots__ = (
        "_body",
        "_body_bytes",
        "_body_limit",
        "_chain",
        "_content_type",
        "_headers",
        "_index",
        "_params",
        "_query",
        "_receive",
        "_req_headers",
        "_status",
        "_store",
        "_stream",
        "app",
        "scope",
    )

    # Set on first use only, so that a request that never reads them does not pay for them.
    _req_headers: dict[str, str]
    _query: dict[str, list[str]]
    _body_bytes: bytes
    _body_limit: int | None

    def __init__(
        self,
        app: Gee,
        scope: Scope,
        receive: Receive,
        params: dict[str, str],
        chain: tuple[Step, ...],
    ) -> None:
        self.app = app
        self.scope = scope
        self._receive = receive
        # Possibly the router's shared empty dict: never mutated, handed out read-only.
        self._params = params
        self._chain = chain
        self._index = -1
        self._status = 200
        self._body = b""
        self._content_type: bytes | None = None
        self._headers: list[tuple[bytes, bytes]] | None = None
        self._stream: AsyncIterable[bytes] | None = None
        self._store: dict[str, Any] | None = None

    # ------------------------------------------------------------------ request

    @property
    def method(self) -> str:
        """The request method, upper case."""
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        """The percent-decoded request path, without the query string."""
        return self.scope["path"]  # type: ignore[no-any-return]

    @property
    def params(self) -> Mapping[str, str]:
        """Every route parameter, percent-decoded (read-only)."""
        return MappingProxyType(self._params)

    @overload
    def param(self, name: str) -> str: ...
    @overload
    def param(self, name: str, default: D) -> str | D: ...
    def param(self, name: str, default: Any = _MISSING) -> Any:
        """The route parameter ``name`` (``:name`` or ``*name`` in the pattern), decoded.

        Without ``default`` a name the route does not have raises KeyError: that is a typo.
        """
        try:
            return self._params[name]
        except KeyError:
            if default is not _MISSING:
                return default
            raise KeyError(
                f"the route has no parameter {name!r}; it has {list(self._params)}"
            ) from None

    @property
    def queries(self) -> dict[str, list[str]]:
        """Every query parameter and all its values, parsed on first use."""
        try:
            return self._query
        except AttributeError:
            raw = self.scope.get("query_string", b"")
            q = parse_qs(raw.decode("latin-1"), keep_blank_values=True) if raw else {}
            self._query = q
            return q

    def query(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``, or ``default`` when absent."""
        values = self.queries.get(name)
        return values[0] if values else default

    def query_all(self, name: str) -> list[str]:
        """Every value of query parameter ``name`` (``?tag=a&tag=b``); empty when absent."""
        return list(self.queries.get(name, ()))

    @property
    def headers(self) -> dict[str, str]:
        """Request headers by lower-case name; repeated headers are joined with ", "."""
        try:
            return self._req_headers
        except AttributeError:
            h: dict[str, str] = {}
            for raw_name, raw_value in self.scope["headers"]:
                name = raw_name.decode("latin-1").lower()
                value = raw_value.decode("latin-1")
                if name in h:
                    h[name] += ("; " if name == "cookie" else ", ") + value
                else:
                    h[name] = value
            self._req_headers = h
            return h

    def header(self, name: str, default: str | None = None) -> str | None:
        """The request header ``name`` (any case), or ``default`` when absent."""
        return self.headers.get(name.lower(), default)

    @property
    def cookies(self) -> dict[str, str]:
        """Request cookies by name (parsed from the Cookie header on each call)."""
        out: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                out.setdefault(name, unquote(value))
        return out

    def cookie(self, name: str, default: str | None = None) -> str | None:
        """The request cookie ``name``, or ``default`` when absent."""
        return self.cookies.get(name, default)

    @property
    def client_ip(self) -> str | None:
        """The client's address; X-Forwarded-For counts only when the peer is a trusted proxy.

        The header is read right to left, skipping trusted proxies: the first untrusted address
        is the client. Without trusted proxies (the default) the header is ignored, since any
        client can forge it. None when the server does not know the peer.
        """
        client = self.scope.get("client")
        peer: str | None = client[0] if client else None
        trusted = self.app.trusted_proxies
        if peer is None or not trusted or not _is_trusted(peer, trusted):
            return peer
        forwarded = self.headers.get("x-forwarded-for")
        if not forwarded:
            return peer
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not _is_trusted(hop, trusted):
                return hop
        return hops[0] if hops else peer

    @property
    def body_limit(self) -> int | None:
        """The most body bytes this request may send (None: no limit); 413 beyond it."""
        try:
            return self._body_limit
        except AttributeError:
            return self.app.body_limit

    @body_limit.setter
    def body_limit(self, value: int | None) -> None:
        self._body_limit = value

    async def iter_body(self) -> AsyncIterator[bytes]:
        """Yield the request body chunk by chunk, enforcing the body limit as it arrives.

        Raises HTTPError(413) as soon as the limit is passed (or at once when Content-Length
        says so), without reading the rest; ClientDisconnectedError if the client leaves.
        """
        cached: bytes | None = getattr(self, "_body_bytes", None)
        if cached is not None:
            if cached is _CONSUMED:
                raise RuntimeError("the request body was already streamed; read it only once")
            if cached:
                yield cached
            return
        limit = self.body_limit
        if limit is not None:
            declared = self.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise HTTPError(413, f"request body over the {limit}-byte limit")
        self._body_bytes = _CONSUMED
        received = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnectedError("client disconnected while sending its body")
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                raise HTTPError(413, f"request body over the {limit}-byte limit")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def body(self) -> bytes:
        """The whole request body (read once, then cached)."""
        cached: bytes | None = getattr(self, "_body_bytes", None)
        if cached is None:
            cached = b"".join([chunk async for chunk in self.iter_body()])
            self._body_bytes = cached
        elif cached is _CONSUMED:
            raise RuntimeError("the request body was already streamed; read it only once")
        return cached

    async def _read_json(self) -> Any:
        data = await self.body()
        if not data:
            raise HTTPError(400, "invalid JSON: the request body is empty")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPError(400, f"invalid JSON: {exc}") from None

    async def form(self) -> FormData:
        """The urlencoded or multipart form; uploaded files above a size are spooled to disk."""
        store = self.store
        form: FormData | None = store.get(FORM_KEY)
        if form is None:
            from gee.web.forms import parse_form

            form = await parse_form(self)
            store[FORM_KEY] = form
        return form

    async def bind(self, model: type[M]) -> M:
        """Validate the JSON body into ``model`` (a msgspec Struct or a dataclass).

        Raises BindError (answered 400) listing every bad or missing field.
        """
        from gee.web.binding import convert

        return convert(await self._read_json(), model)

    # ------------------------------------------------------------------ response

    @property
    def status_code(self) -> int:
        """The response status set so far (200 until something sets another)."""
        return self._status

    @property
    def response_body(self) -> bytes | None:
        """The buffered response body, or None when the response is a stream."""
        return None if self._stream is not None else self._body

    def response_header(self, name: str) -> str | None:
        """A response header set so far (Content-Type included), or None."""
        key = name.lower().encode("latin-1")
        if key == b"content-type" and self._content_type is not None:
            return self._content_type.decode("latin-1")
        for k, v in self._headers or ():
            if k == key:
                return v.decode("latin-1")
        return None

    def status(self, code: int) -> None:
        """Set the response status."""
        self._status = code

    def set_header(self, name: str, value: str) -> None:
        """Set a response header, replacing one of the same name (see ``add_header``)."""
        key = name.lower().encode("latin-1")
        if key == b"content-type":
            self._content_type = value.encode("latin-1")
            return
        headers = self._headers
        if headers is None:
            self._headers = [(key, value.encode("latin-1"))]
            return
        headers[:] = [h for h in headers if h[0] != key]
        headers.append((key, value.encode("latin-1")))

    def add_header(self, name: str, value: str) -> None:
        """Add a response header, keeping others of the same name."""
        item = (name.lower().encode("latin-1"), value.encode("latin-1"))
        if self._headers is None:
            self._headers = [item]
        else:
            self._headers.append(item)

    def string(self, code: int, fmt: str, *args: object) -> None:
        """Write a text/plain response; ``fmt % args`` when args are given (Go's Sprintf)."""
        self._status = code
        self._body = (fmt % args if args else fmt).encode()
        self._content_type = TEXT
        self._stream = None

    @overload
    def json(self) -> Awaitable[Any]: ...
    @overload
    def json(self, code: int, obj: Any) -> None: ...
    def json(self, code: int | None = None, obj: Any = _MISSING) -> Awaitable[Any] | None:
        """``await c.json()`` reads the body as JSON (400 when invalid);
        ``c.json(code, obj)`` writes ``obj`` as a JSON response."""
        if code is None:
            return self._read_json()
        if obj is _MISSING:
            raise TypeError("c.json(code, obj) writes a response; to read one use await c.json()")
        self._status = code
        self._body = dump_json(obj)
        self._content_type = JSON
        self._stream = None
        return None

    def html(self, code: int, template: str, **data: Any) -> None:
        """Render the Jinja2 template ``template`` (see ``app.load_templates``) with ``data``."""
        self._status = code
        self._body = self.app.templates.render(template, data).encode()
        self._content_type = HTML
        self._stream = None

    def data(self, code: int, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write raw bytes with the given content type."""
        self._status = code
        self._body = bytes(data)
        self._content_type = content_type.encode("latin-1")
        self._stream = None

    def redirect(self, code: int, location: str) -> None:
        """Redirect to ``location`` with a 3xx ``code`` (or 201 Created)."""
        if not (300 <= code <= 308 or code == 201):
            raise ValueError(f"cannot redirect with status {code}; use 301, 302, 303, 307 or 308")
        self._status = code
        self._body = b""
        self._content_type = None
        self._stream = None
        self.set_header("location", location)

    def file(
        self, path: str | Any, *, filename: str | None = None, content_type: str | None = None
    ) -> None:
        """Send a file, honouring Range (206/416) and conditional GET (ETag, 304).

        ``filename`` adds a Content-Disposition attachment header (a download).
        Raises HTTPError(404) when the file does not exist.
        """
        from gee.web.files import prepare_file

        prepare_file(self, path, filename=filename, content_type=content_type)

    def stream(
        self, code: int, chunks: AsyncIterable[bytes | str], content_type: str = "text/plain"
    ) -> None:
        """Send ``chunks`` as they come (chunked encoding); stops if the client leaves."""
        self._status = code
        self._content_type = content_type.encode("latin-1")
        self._body = b""
        self._stream = encode_chunks(chunks)

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: str | None = "Lax",
    ) -> None:
        """Add a Set-Cookie header. HttpOnly and SameSite=Lax unless told otherwise."""
        from urllib.parse import quote

        parts = [f"{name}={quote(value, safe='')}", f"Path={path}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if domain:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite:
            parts.append(f"SameSite={samesite}")
        self.add_header("set-cookie", "; ".join(parts))

    def delete_cookie(self, name: str, *, path: str = "/", domain: str | None = None) -> None:
        """Tell the client to forget cookie ``name``."""
        self.set_cookie(name, "", max_age=0, path=path, domain=domain)

    def render(self, value: Any) -> None:
        """Turn a handler's return value into the response (None leaves it unchanged):
        str is text/plain, bytes application/octet-stream, and dict, list, a msgspec Struct
        or a dataclass JSON; a Response is taken as it is."""
        if value is None:
            return
        kind = type(value)
        if kind is str:
            self._body = value.encode()
            self._content_type = TEXT
        elif kind is dict or kind is list:
            self._body = dump_json(value)
            self._content_type = JSON
        elif isinstance(value, Response):
            self._status = value.status
            self._body = value.body
            self._content_type = value.content_type
            if value.headers:
                for item in value.headers:
                    self.add_header(item[0].decode("latin-1"), item[1].decode("latin-1"))
        elif isinstance(value, bytes | bytearray | memoryview):
            self._body = bytes(value)
            self._content_type = b"application/octet-stream"
        elif isinstance(value, str):
            self._body = value.encode()
            self._content_type = TEXT
        elif isinstance(value, dict | list | tuple | msgspec.Struct) or (
            dataclasses.is_dataclass(value) and not isinstance(value, type)
        ):
            self._body = dump_json(value)
            self._content_type = JSON
        else:
            raise TypeError(
                f"a handler returned {kind.__name__}; return None, str, bytes, dict, list, "
                "a msgspec Struct, a dataclass or a Response"
            )
        self._stream = None

    def answer_error(self, exc: HTTPError) -> None:
        """Replace the response with ``exc``'s status and message (and abort the chain).

        Headers already set stay, as in gin (a request id set before ``c.next()`` should be on
        the error too), except those that describe the body being thrown away.
        """
        from gee.web.errors import BindError

        self._index = ABORTED
        self._status = exc.status
        self._stream = None
        if self._headers:
            self._headers = [h for h in self._headers if h[0] not in _BODY_HEADERS]
        if isinstance(exc, BindError):
            self._body = dump_json({"message": exc.detail, "errors": exc.errors})
            self._content_type = JSON
        else:
            detail = exc.detail or _phrase(exc.status)
            self._body = detail.encode()
            self._content_type = TEXT
        for name, value in exc.headers.items():
            self.add_header(name, value)

    # ------------------------------------------------------------------ flow

    async def next(self) -> None:
        """Run the rest of the chain (gin's ``c.Next()``), then return to the caller.

        An HTTPError raised by a later step becomes its response right there, so that earlier
        middleware (a logger, say) sees the status rather than an exception.
        """
        chain = self._chain
        self._index += 1
        while self._index < len(chain):
            try:
                await chain[self._index](self)
            except HTTPError as exc:
                self.answer_error(exc)
                return
            self._index += 1

    def abort(self, code: int | None = None) -> None:
        """Stop the chain after the current step; with ``code``, answer it with an empty body."""
        self._index = ABORTED
        if code is not None:
            self._status = code
            self._body = b""
            self._stream = None

    def fail(self, code: int, message: str) -> None:
        """Abort and answer ``{"message": message}`` as JSON with ``code`` (Gee's ``c.Fail``)."""
        self._index = ABORTED
        self.json(code, {"message": message})

    @property
    def is_aborted(self) -> bool:
        """Whether ``abort`` (or ``fail``, or an HTTPError) stopped the chain."""
        return self._index >= ABORTED

    @property
    def store(self) -> dict[str, Any]:
        """The per-request key/value store behind ``set``/``get``."""
        s = self._store
        if s is None:
            s = self._store = {}
        return s

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` for later steps of this request."""
        self.store[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        """A value an earlier step kept with ``set``, or ``default``."""
        s = self._store
        return default if s is None else s.get(key, default)


# Response headers that describe a body; an error response replaces the body, so drops them.
_BODY_HEADERS = frozenset(
    (
        b"content-length",
        b"content-range",
        b"content-encoding",
        b"content-disposition",
        b"etag",
        b"last-modified",
        b"accept-ranges",
    )
)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def _is_trusted(
    address: str, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)
