"""Gee and RouterGroup: registration, dispatch, groups, middleware order, lifespan."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from gee.web import Context, Gee, HTTPError, Response, RouteConflictError, RouteError
from gee.web.testing import TestClient


def make_app() -> Gee:
    return Gee()


# ------------------------------------------------------------------ routes and return values


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
async def test_each_method_decorator_routes_its_method(method: str) -> None:
    app = make_app()

    @getattr(app, method)("/thing")
    async def handler(c: Context) -> str:
        return c.method

    async with TestClient(app) as client:
        r = await client.request(method.upper(), "/thing")
    assert (r.status_code, r.text) == (200, method.upper())


async def test_call_form_registration_and_any() -> None:
    app = make_app()

    async def handler(c: Context) -> str:
        return c.method

    app.get("/a", handler)
    app.any("/b", handler)
    async with TestClient(app) as client:
        assert (await client.get("/a")).text == "GET"
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            assert (await client.request(method, "/b")).text == method


class Point(msgspec.Struct):
    x: int
    y: int


@dataclass
class Pair:
    a: str
    b: str


@pytest.mark.parametrize(
    ("value", "status", "ctype", "body"),
    [
        ("hi", 200, "text/plain; charset=utf-8", b"hi"),
        (b"\x00\x01", 200, "application/octet-stream", b"\x00\x01"),
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, 2], 200, "application/json", b"[1,2]"),
        (Response("made", 201, headers={"x-a": "1"}), 201, "text/plain; charset=utf-8", b"made"),
        (Response.json({"ok": True}, 202), 202, "application/json", b'{"ok":true}'),
        ({"p": Point(1, 2)}, 200, "application/json", b'{"p":{"x":1,"y":2}}'),
        ({"p": Pair("x", "y")}, 200, "application/json", b'{"p":{"a":"x","b":"y"}}'),
        (Point(3, 4), 200, "application/json", b'{"x":3,"y":4}'),
        (Pair("x", "y"), 200, "application/json", b'{"a":"x","b":"y"}'),
        ((1, "a"), 200, "application/json", b'[1,"a"]'),
    ],
)
async def test_return_values_become_responses(
    value: object, status: int, ctype: str, body: bytes
) -> None:
    app = make_app()
    app.get("/", lambda c: value)  # a plain def: runs in the thread pool
    app.get("/async", _async_returning(value))
    async with TestClient(app) as client:
        for path in ("/", "/async"):
            r = await client.get(path)
            got = (r.status_code, r.headers["content-type"], r.content)
            assert got == (status, ctype, body), f"{path}: got {got}; want {(status, ctype, body)}"


def _async_returning(value: object):  # type: ignore[no-untyped-def]
    async def handler(c: Context) -> object:
        return value

    return handler


async def test_none_return_sends_what_the_context_wrote() -> None:
    app = make_app()

    @app.get("/")
    async def handler(c: Context) -> None:
        c.string(201, "made %s of %d", "two", 2)

    @app.get("/nothing")
    async def nothing(c: Context) -> None:
        pass

    async with TestClient(app) as client:
        r = await client.get("/")
        assert (r.status_code, r.text) == (201, "made two of 2")
        r = await client.get("/nothing")
        assert (r.status_code, r.content) == (200, b"")


async def test_unsupported_return_value_is_a_500() -> None:
    app = make_app()
    app.get("/", _async_returning(object()))
    async with TestClient(app) as client:
        assert (await client.get("/")).status_code == 500


async def test_sync_handlers_run_off_the_event_loop_thread() -> None:
    app = make_app()
    loop_thread = threading.get_ident()
    seen: list[int] = []

    @app.get("/")
    def handler(c: Context) -> str:
        seen.append(threading.get_ident())
        return "ok"

    async with TestClient(app) as client:
        assert (await client.get("/")).text == "ok"
    assert seen
    assert seen[0] != loop_thread


async def test_http_error_from_handler_answers_its_status() -> None:
    app = make_app()

    @app.get("/teapot")
    async def teapot(c: Context) -> None:
        raise HTTPError(418, "short and stout", {"x-pot": "yes"})

    async with TestClient(app) as client:
        r = await client.get("/teapot")
    assert (r.status_code, r.text, r.headers["x-pot"]) == (418, "short and stout", "yes")


# ------------------------------------------------------------------ routing answers


async def test_head_falls_back_to_get_and_405_lists_allow() -> None:
    app = make_app()
    app.get("/r", lambda c: "body")
    app.post("/r", lambda c: "posted")
    async with TestClient(app) as client:
        r = await client.head("/r")
        assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "4")
        r = await client.delete("/r")
        assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD, POST")
        assert (await client.get("/missing")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "location"),
    [
        ("GET", "/a/", 301, "/a"),
        ("GET", "/b", 301, "/b/"),
        ("GET", "/a/?x=1", 301, "/a?x=1"),
        ("POST", "/a/", 308, "/a"),
    ],
)
async def test_trailing_slash_redirects(method: str, path: str, status: int, location: str) -> None:
    app = make_app()
    app.any("/a", lambda c: "a")
    app.get("/b/", lambda c: "b")
    async with TestClient(app) as client:
        r = await client.request(method, path)
    assert (r.status_code, r.headers.get("location")) == (status, location)


async def test_trailing_slash_redirect_can_be_turned_off() -> None:
    app = Gee(redirect_slashes=False)
    app.get("/a", lambda c: "a")
    async with TestClient(app) as client:
        assert (await client.get("/a/")).status_code == 404


async def test_url_for_named_routes() -> None:
    app = make_app()
    app.get("/users/:id/files/*path", lambda c: "", name="file")
    assert app.url_for("file", id="a b", path="x/y.txt") == "/users/a%20b/files/x/y.txt"
    assert ("GET", "/users/:id/files/*path", "file") in app.routes


def test_conflicts_fail_at_registration_naming_both() -> None:
    app = make_app()
    app.get("/u/:id", lambda c: "")
    with pytest.raises(RouteConflictError, match=r"/u/:lang.*/u/:id|/u/:id.*/u/:lang"):
        app.get("/u/:lang", lambda c: "")
    app.get("/dup", lambda c: "")
    with pytest.raises(RouteConflictError):
        app.get("/dup", lambda c: "")


@pytest.mark.parametrize("bad", ["nope", None, 3])
def test_bad_patterns_and_prefixes_fail_at_once(bad: object) -> None:
    app = make_app()
    with pytest.raises(RouteError):
        app.get(bad, lambda c: "")  # type: ignore[arg-type]
    with pytest.raises(RouteError):
        app.group(bad)  # type: ignore[arg-type]


def test_non_callable_handler_and_middleware_fail_at_once() -> None:
    app = make_app()
    with pytest.raises(TypeError, match="callable"):
        app.get("/", "not a function")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="forget"):
        app.use(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ groups and middleware


def tracer(name: str, trail: list[str]):  # type: ignore[no-untyped-def]
    async def mw(c: Context) -> None:
        trail.append(f"{name}>")
        await c.next()
        trail.append(f"<{name}")

    return mw


async def test_group_middleware_runs_outermost_first() -> None:
    app = make_app()
    trail: list[str] = []
    app.use(tracer("app", trail))
    v1 = app.group("/v1", tracer("v1", trail))
    admin = v1.group("/admin")
    admin.use(tracer("admin", trail))

    @admin.get("/x")
    async def x(c: Context) -> str:
        trail.append("handler")
        return "x"

    async with TestClient(app) as client:
        assert (await client.get("/v1/admin/x")).text == "x"
    assert trail == ["app>", "v1>", "admin>", "handler", "<admin", "<v1", "<app"]


async def test_middleware_added_after_routes_still_applies() -> None:
    app = make_app()
    trail: list[str] = []
    api = app.group("/api")
    api.get("/x", lambda c: "x")
    async with TestClient(app) as client:
        await client.get("/api/x")
        assert trail == []
        app.use(tracer("late-app", trail))
        api.use(tracer("late-api", trail))
        await client.get("/api/x")
    assert trail == ["late-app>", "late-api>", "<late-api", "<late-app"]


async def test_group_middleware_does_not_leak_to_a_longer_prefix() -> None:
    # Gee chose middleware by string prefix, so /api's ran for /apixxx.
    app = make_app()
    trail: list[str] = []
    api = app.group("/api", tracer("api", trail))
    api.get("/a", lambda c: "a")
    app.get("/apixxx/a", lambda c: "apixxx")
    async with TestClient(app) as client:
        assert (await client.get("/apixxx/a")).text == "apixxx"
        assert trail == []
        await client.get("/api/a")
    assert trail == ["api>", "<api"]


@pytest.mark.parametrize(
    ("prefix", "pattern", "path"),
    [
        ("", "/x", "/x"),
        ("/", "/x", "/x"),
        ("/v1/", "/x", "/v1/x"),
        ("/v1", "", "/v1"),
        ("/v1", "/", "/v1/"),
    ],
)
async def test_group_prefixes_join_predictably(prefix: str, pattern: str, path: str) -> None:
    # Gee's day-4 bug: routes added on the engine went through a group with a nil parent and
    # crashed. Here the app is the root group (prefix ""), and every group knows its app.
    app = make_app()
    app.group(prefix).get(pattern, lambda c: "ok")
    assert app.routes == [("GET", path, None)]


async def test_abort_stops_the_chain_and_outer_middleware_still_finishes() -> None:
    app = make_app()
    trail: list[str] = []

    async def guard(c: Context) -> None:
        if c.header("authorization") is None:
            c.fail(401, "who are you?")
            return
        await c.next()

    app.use(tracer("outer", trail))
    app.use(guard)
    app.get("/secret", lambda c: "secret")
    async with TestClient(app) as client:
        r = await client.get("/secret")
        assert (r.status_code, r.json()) == (401, {"message": "who are you?"})
        assert (await client.get("/secret", headers={"authorization": "x"})).text == "secret"
    assert trail == ["outer>", "<outer", "outer>", "<outer"]


async def test_middleware_that_does_not_call_next_still_lets_the_chain_run() -> None:
    # gin's rule: c.next() is optional; the chain continues after a step that returns.
    app = make_app()

    def stamp(c: Context) -> None:  # a plain def middleware runs in the thread pool
        c.set("stamp", "yes")

    app.use(stamp)
    app.get("/", lambda c: c.get("stamp"))
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "yes"


async def test_app_middleware_runs_for_404_and_405() -> None:
    app = make_app()
    trail: list[str] = []
    app.use(tracer("app", trail))
    api = app.group("/api", tracer("api", trail))
    api.post("/only-post", lambda c: "")
    async with TestClient(app) as client:
        assert (await client.get("/missing")).status_code == 404
        assert trail == ["app>", "<app"]
        trail.clear()
        assert (await client.get("/api/only-post")).status_code == 405
    assert trail == ["app>", "api>", "<api", "<app"]


# ------------------------------------------------------------------ lifespan


async def test_startup_and_shutdown_hooks_run_in_order() -> None:
    app = make_app()
    events: list[str] = []

    @app.on_startup
    async def first() -> None:
        events.append("start 1")

    @app.on_startup
    def second() -> None:
        events.append("start 2")

    @app.on_shutdown
    def stop_first() -> None:
        events.append("stop 1")

    @app.on_shutdown
    async def stop_second() -> None:
        events.append("stop 2")

    async with TestClient(app):
        assert events == ["start 1", "start 2"]
    assert events == ["start 1", "start 2", "stop 2", "stop 1"]


async def test_failing_startup_hook_fails_the_lifespan() -> None:
    app = make_app()

    @app.on_startup
    def broken() -> None:
        raise OSError("no database")

    with pytest.raises(RuntimeError, match="no database"):
        async with TestClient(app):
            pass


# ------------------------------------------------------------------ websockets, in-process


async def run_websocket(app: Gee, path: str, incoming: list[dict[str, object]]) -> list[object]:
    """Drive one websocket connection through the ASGI interface; return what the app sent."""
    sent: list[object] = []
    queue = list(incoming)

    async def receive() -> dict[str, object]:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: object) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": path, "raw_path": path.encode(), "headers": []}
    await app(scope, receive, send)
    return sent


async def test_websocket_json_round_trip_and_close() -> None:
    app = make_app()

    @app.websocket("/ws/:id")
    async def ws(sock):  # type: ignore[no-untyped-def]
        await sock.accept()
        data = await sock.receive_json()
        await sock.send_json({"id": sock.param("id"), "echo": data})

    sent = await run_websocket(
        app, "/ws/7", [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "[1]"}]
    )
    assert sent == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.send", "text": '{"id":"7","echo":[1]}'},
        {"type": "websocket.close", "code": 1000, "reason": ""},
    ]


async def test_websocket_handler_error_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def ws(sock):  # type: ignore[no-untyped-def]
        await sock.accept()
        raise RuntimeError("bad")

    sent = await run_websocket(app, "/ws", [{"type": "websocket.connect"}])
    assert sent[-1] == {"type": "websocket.close", "code": 1011, "reason": ""}
    assert "RuntimeError: bad" in caplog.text


async def test_websocket_unknown_path_is_closed_before_accept() -> None:
    sent = await run_websocket(make_app(), "/nope", [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_websocket_handler_must_be_async() -> None:
    with pytest.raises(TypeError, match="async def"):
        make_app().websocket("/ws", lambda sock: None)


@pytest.mark.parametrize(("raw_path", "want"), [(b"/api/x", "x"), (b"/api", "root"), (b"/x", "x")])
async def test_root_path_prefix_is_not_routed(raw_path: bytes, want: str) -> None:
    # uvicorn --root-path /api puts the prefix into path and raw_path; routes are below it.
    app = make_app()
    app.get("/x", lambda c: "x")
    app.get("/", lambda c: "root")
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": raw_path.decode(),
        "raw_path": raw_path,
        "root_path": "/api",
        "query_string": b"",
        "headers": [],
    }
    await app(scope, None, send)  # type: ignore[arg-type]
    assert sent[1]["body"] == want.encode()


async def test_errors_keep_headers_set_before_them_but_not_body_headers(tmp_path: Path) -> None:
    app = make_app()
    (tmp_path / "f.txt").write_text("data")

    async def request_id(c: Context) -> None:
        c.set_header("x-request-id", "r1")
        await c.next()

    app.use(request_id)

    @app.get("/gone")
    async def gone(c: Context) -> None:
        c.file(tmp_path / "f.txt")
        raise HTTPError(410, "gone")

    async with TestClient(app) as client:
        r = await client.get("/gone")
    assert (r.status_code, r.text, r.headers["x-request-id"]) == (410, "gone", "r1")
    assert "etag" not in r.headers
    assert r.headers["content-length"] == "4"


async def test_plain_callable_returning_a_coroutine_is_awaited() -> None:
    app = make_app()

    async def greet(c: Context, who: str) -> str:
        return f"hi {who}"

    app.get("/", lambda c: greet(c, "there"))
    app.use(lambda c: c.next())  # a lambda middleware calling the async c.next()
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "hi there"
