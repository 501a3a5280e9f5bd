"""Bad input answers a clear status and never takes the server down (in-process and real)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest

from gee.web import Context, Gee
from gee.web.middleware import body_limit
from gee.web.testing import TestClient
from tests.servers import RunningServer


def raw_request(server: RunningServer, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and return everything the server answers."""
    with socket.create_connection(server.address, timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def still_serving(server: RunningServer) -> None:
    r = httpx.get(f"http://127.0.0.1:{server.port}/")
    assert (r.status_code, r.text) == (200, "Hello, World!"), "the server stopped serving"


# ------------------------------------------------------------------ paths and headers


@pytest.mark.parametrize("path", ["/hello/%zz", "/hello/%4", "/hello/%", "/hello/%ff%fe"])
def test_malformed_percent_escape_is_400(web_server: RunningServer, path: str) -> None:
    reply = raw_request(
        web_server, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode()
    )
    assert status_of(reply) == 400, f"got {reply[:60]!r}; want 400"
    still_serving(web_server)


async def test_malformed_escape_on_a_path_of_another_method_is_400() -> None:
    # The 405 check matches under GET, which decodes params: that must not escape as a 500.
    app = Gee()
    app.get("/hello/:name", lambda c: "x")
    app.get("/dir/:name/", lambda c: "x")
    async with TestClient(app) as client:
        assert (await client.post("/hello/%zz")).status_code == 400
        assert (await client.get("/dir/%zz")).status_code == 400  # the slash-redirect check
        assert (await client.post("/hello/ok")).status_code == 405


def test_over_long_path_is_414(web_server: RunningServer) -> None:
    path = b"/" + b"a" * 10_000
    reply = raw_request(
        web_server, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path
    )
    assert status_of(reply) == 414
    still_serving(web_server)


def test_enormous_path_is_refused_by_the_server(web_server: RunningServer) -> None:
    # httptools gives up on a 100 kB request line before the app sees it: uvicorn answers 400.
    path = b"/" + b"a" * 100_000
    reply = raw_request(
        web_server, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path
    )
    assert status_of(reply) in (400, 414)
    still_serving(web_server)


def test_over_long_header_is_431(web_server: RunningServer) -> None:
    big = b"a" * 200_000
    reply = raw_request(
        web_server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n" % big
    )
    assert status_of(reply) == 431
    still_serving(web_server)


def test_too_many_headers_is_431(web_server: RunningServer) -> None:
    many = b"".join(b"X-%d: y\r\n" % i for i in range(500))
    reply = raw_request(
        web_server, b"GET / HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % many
    )
    assert status_of(reply) == 431
    still_serving(web_server)


# ------------------------------------------------------------------ bodies


def test_body_over_limit_is_413_from_content_length(web_server: RunningServer) -> None:
    r = httpx.post(f"http://127.0.0.1:{web_server.port}/limited/upload", content=b"x" * 5000)
    assert r.status_code == 413
    ok = httpx.post(f"http://127.0.0.1:{web_server.port}/limited/upload", content=b"x" * 999)
    assert ok.json() == {"size": 999}


def test_body_over_limit_is_413_while_streaming(web_server: RunningServer) -> None:
    def chunks():  # no Content-Length: chunked, so the cap is met while reading
        for _ in range(100):
            yield b"x" * 100

    r = httpx.post(f"http://127.0.0.1:{web_server.port}/limited/upload", content=chunks())
    assert r.status_code == 413
    still_serving(web_server)


async def test_body_limit_stops_reading_at_the_cap() -> None:
    # The app must not read the whole body before refusing it.
    app = Gee()
    app.use(body_limit(10))
    reads = 0

    @app.post("/")
    async def upload(c: Context) -> bytes:
        return await c.body()

    async def receive() -> dict[str, object]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 4, "more_body": True}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert reads == 3, f"read {reads} chunks; want 3 (12 bytes > 10)"


def test_invalid_json_is_400_with_the_parse_error(web_server: RunningServer) -> None:
    r = httpx.post(f"http://127.0.0.1:{web_server.port}/json", content=b'{"a": ')
    assert r.status_code == 400
    assert r.text.startswith("invalid JSON: "), f"got {r.text!r}"


def test_multipart_without_boundary_is_400(web_server: RunningServer) -> None:
    r = httpx.post(
        f"http://127.0.0.1:{web_server.port}/form",
        content=b"--x\r\n\r\n",
        headers={"content-type": "multipart/form-data"},
    )
    assert (r.status_code, r.text) == (400, "multipart/form-data without a boundary")


def test_truncated_multipart_is_400(web_server: RunningServer) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'
    r = httpx.post(
        f"http://127.0.0.1:{web_server.port}/form",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400, f"got {r.status_code} {r.text!r}"


# ------------------------------------------------------------------ handlers and clients


def test_handler_that_raises_is_500_and_the_server_serves_on(web_server: RunningServer) -> None:
    for _ in range(3):
        r = httpx.get(f"http://127.0.0.1:{web_server.port}/boom")
        assert (r.status_code, r.text) == (500, "Internal Server Error")
    still_serving(web_server)


def test_client_leaving_mid_stream_stops_the_stream(web_server: RunningServer) -> None:
    base = f"http://127.0.0.1:{web_server.port}"
    before = httpx.get(f"{base}/state").json()
    log = web_server.extra["log"]
    assert isinstance(log, Path)
    log_start = log.stat().st_size
    with socket.create_connection(web_server.address) as s:
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    while True:
        state = httpx.get(f"{base}/state").json()
        if state["stream_closed"] == before["stream_closed"] + 1:
            break
        assert time.monotonic() < deadline, f"the stream was not closed: {state}"
        time.sleep(0.05)
    assert state["streams"] == before["streams"] + 1
    assert state["tasks"] <= before["tasks"], f"tasks leaked: {before} -> {state}"
    noise = log.read_bytes()[log_start:].decode()
    assert "Traceback" not in noise, noise


def test_slow_client_does_not_block_others(web_server: RunningServer) -> None:
    with socket.create_connection(web_server.address, timeout=5) as slow:
        request = (
            b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
        )
        slow.sendall(request[:20])  # half a request line, then a pause
        time.sleep(0.3)
        still_serving(web_server)
        slow.sendall(request[20:] + b'{"a":')  # headers, then half the body
        time.sleep(0.3)
        still_serving(web_server)
        slow.sendall(b" 1}")
        reply = b""
        while chunk := slow.recv(4096):
            reply += chunk
    assert status_of(reply) == 200, reply
    assert reply.endswith(b'{"a":1}'), reply


# ------------------------------------------------------------------ in-process: no server


async def test_without_recovery_an_exception_is_still_a_500() -> None:
    app = Gee()

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise ValueError("nope")

    @app.get("/ok")
    def ok(c: Context) -> str:
        return "ok"

    async with TestClient(app) as client:
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/ok")).text == "ok"


async def test_debug_app_answers_the_traceback() -> None:
    app = Gee(debug=True)

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise ValueError("nope")

    async with TestClient(app) as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert "ValueError: nope" in r.text


async def test_client_disconnect_while_body_is_read_ends_quietly() -> None:
    app = Gee()
    called = False

    @app.post("/")
    async def upload(c: Context) -> bytes:
        nonlocal called
        called = True
        return await c.body()

    messages = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [],
    }
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert called
    assert sent == []


async def test_odd_content_length_is_not_a_500() -> None:
    # "²" is a digit to str.isdigit() but not to int(); latin-1 headers can carry it.
    app = Gee(body_limit=10)
    app.use(body_limit(10))

    @app.post("/")
    async def upload(c: Context) -> bytes:
        return await c.body()

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"ab", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"content-length", "²".encode("latin-1"))],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
