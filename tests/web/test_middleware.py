"""Built-in middleware: logger, recovery, cors, gzip, static, body_limit."""

from __future__ import annotations

import gzip as gzip_module
import logging
from pathlib import Path

import pytest

from gee.web import Context, Gee
from gee.web.middleware import body_limit, cors, gzip, logger, recovery, static
from gee.web.middleware.compression import accepts_gzip
from gee.web.testing import TestClient


async def test_logger_logs_method_path_status_latency(caplog: pytest.LogCaptureFixture) -> None:
    app = Gee()
    app.use(logger(), recovery())
    app.get("/ok", lambda c: "ok")

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise RuntimeError("x")

    with caplog.at_level(logging.INFO, logger="gee.web.access"):
        async with TestClient(app) as client:
            await client.get("/ok")
            await client.get("/boom")
            await client.get("/missing")
    lines = [r.getMessage() for r in caplog.records if r.name == "gee.web.access"]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "GET /ok 200",
        "GET /boom 500",  # recovery (inside the logger) turned the exception into a 500
        "GET /missing 404",
    ]
    assert all(line.endswith("ms") for line in lines)


async def test_logger_is_silent_when_its_level_is_off(caplog: pytest.LogCaptureFixture) -> None:
    app = Gee()
    app.use(logger(level=logging.DEBUG))
    app.get("/", lambda c: "ok")
    with caplog.at_level(logging.INFO, logger="gee.web.access"):
        async with TestClient(app) as client:
            assert (await client.get("/")).text == "ok"
    assert [r for r in caplog.records if r.name == "gee.web.access"] == []


async def test_recovery_logs_the_traceback_and_serves_on(caplog: pytest.LogCaptureFixture) -> None:
    app = Gee()
    app.use(recovery())

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise KeyError("lost")

    app.get("/ok", lambda c: "ok")
    async with TestClient(app) as client:
        r = await client.get("/boom")
        assert (r.status_code, r.text) == (500, "Internal Server Error")
        assert (await client.get("/ok")).text == "ok"
    assert any("KeyError" in (r.exc_text or "") for r in caplog.records)


async def test_recovery_debug_page_escapes_the_traceback() -> None:
    app = Gee()
    app.use(recovery(debug=True))

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise ValueError("<script>")

    async with TestClient(app) as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "ValueError: &lt;script&gt;" in r.text


async def test_recovery_in_a_group_catches_middleware_errors_too() -> None:
    app = Gee()

    async def broken(c: Context) -> None:
        raise RuntimeError("middleware")

    api = app.group("/api", recovery(), broken)
    api.get("/x", lambda c: "x")
    async with TestClient(app) as client:
        assert (await client.get("/api/x")).status_code == 500


# ------------------------------------------------------------------ cors


async def test_cors_preflight_and_simple_requests() -> None:
    app = Gee()
    app.use(cors(["https://a.example"], allow_credentials=True, expose_headers=["x-total"]))
    app.post("/items", lambda c: "made")
    async with TestClient(app) as client:
        pre = await client.options(
            "/items",
            headers={
                "origin": "https://a.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "https://a.example"
        assert "POST" in pre.headers["access-control-allow-methods"]
        assert pre.headers["access-control-allow-headers"] == "content-type"
        assert pre.headers["access-control-allow-credentials"] == "true"

        r = await client.post("/items", headers={"origin": "https://a.example"})
        assert r.text == "made"
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        assert r.headers["access-control-expose-headers"] == "x-total"
        assert r.headers["vary"] == "Origin"

        other = await client.post("/items", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

        plain = await client.post("/items")
        assert "access-control-allow-origin" not in plain.headers


async def test_cors_any_origin_answers_star() -> None:
    app = Gee()
    app.use(cors())
    app.get("/", lambda c: "ok")
    async with TestClient(app) as client:
        r = await client.get("/", headers={"origin": "https://x.example"})
    assert r.headers["access-control-allow-origin"] == "*"


# ------------------------------------------------------------------ gzip


@pytest.mark.parametrize(
    ("accept", "size", "ctype", "compressed"),
    [
        ("gzip, deflate", 2000, "text/plain", True),
        ("gzip", 100, "text/plain", False),  # below min_size
        ("deflate", 2000, "text/plain", False),
        ("gzip;q=0", 2000, "text/plain", False),
        ("gzip", 2000, "image/png", False),  # already compressed formats
        ("*", 2000, "application/json", True),
    ],
)
async def test_gzip(accept: str, size: int, ctype: str, compressed: bool) -> None:
    app = Gee()
    app.use(gzip(min_size=500))
    body = b"a" * size
    app.get("/", lambda c: c.data(200, body, ctype))
    async with TestClient(app) as client:
        r = await client.get("/", headers={"accept-encoding": accept})
    assert (r.headers.get("content-encoding") == "gzip") is compressed
    assert r.content == body  # httpx decodes gzip
    if compressed:
        assert int(r.headers["content-length"]) < size
        assert r.headers["vary"] == "Accept-Encoding"


def test_accepts_gzip_parsing() -> None:
    assert accepts_gzip("br, gzip;q=0.5")
    assert not accepts_gzip("br")
    assert not accepts_gzip("gzip; q=0")
    assert gzip_module.decompress(gzip_module.compress(b"x")) == b"x"


# ------------------------------------------------------------------ static


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "css" / "app.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/assets/css/app.css", 200, "body{}"),
        ("/assets/", 200, "<h1>home</h1>"),
        ("/assets", 200, "<h1>home</h1>"),
        ("/assets/../secret.txt", 404, None),
        ("/assets/%2e%2e/secret.txt", 404, None),
        ("/assets/css/%2e%2e/%2e%2e/secret.txt", 404, None),
        ("/assets/link", 404, None),  # a symlink out of the directory
        ("/assets/nope.css", 404, None),
        ("/assetsxxx/css/app.css", 404, None),  # the prefix matches whole segments
    ],
)
async def test_static_middleware(site: Path, path: str, status: int, body: str | None) -> None:
    app = Gee()
    app.use(static("/assets", site))
    async with TestClient(app) as client:
        r = await client.get(path)
    assert r.status_code == status, f"{path}: got {r.status_code}; want {status}"
    if body is not None:
        assert r.text == body


async def test_static_etag_304_and_group_static(site: Path) -> None:
    app = Gee()
    app.static("/files", site)
    async with TestClient(app) as client:
        r = await client.get("/files/css/app.css")
        assert (r.status_code, r.headers["content-type"]) == (200, "text/css; charset=utf-8")
        again = await client.get("/files/css/app.css", headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304
        assert (await client.get("/files/%2e%2e/secret.txt")).status_code == 404
        assert (await client.get("/files/link")).status_code == 404
        assert (await client.get("/files/")).text == "<h1>home</h1>"
        assert (await client.get("/files")).status_code == 301


def test_static_needs_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        static("/x", tmp_path / "absent")


# ------------------------------------------------------------------ body_limit


async def test_body_limit_per_group() -> None:
    app = Gee()
    small = app.group("/small", body_limit(5))

    async def echo(c: Context) -> bytes:
        return await c.body()

    small.post("/", echo)
    app.post("/big", echo)

    async def chunks():  # type: ignore[no-untyped-def]  (no Content-Length: chunked)
        yield b"abc"
        yield b"def"

    async with TestClient(app) as client:
        assert (await client.post("/small/", content=b"12345")).content == b"12345"
        assert (await client.post("/small/", content=b"123456")).status_code == 413
        assert (await client.post("/small/", content=chunks())).status_code == 413
        assert (await client.post("/big", content=b"x" * 10_000)).status_code == 200


def test_body_limit_refuses_a_negative_cap() -> None:
    with pytest.raises(ValueError, match="body_limit"):
        body_limit(-1)
