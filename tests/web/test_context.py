"""Context: reading the request, writing the response, the per-request store, client_ip."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gee.web import Context, Gee
from gee.web.testing import TestClient


async def call(app: Gee, method: str, path: str, **kwargs: Any) -> Any:
    async with TestClient(app) as client:
        return await client.request(method, path, **kwargs)


# ------------------------------------------------------------------ reading


async def test_params_query_headers_cookies() -> None:
    app = Gee()

    @app.get("/u/:id/*rest")
    async def handler(c: Context) -> dict[str, object]:
        return {
            "method": c.method,
            "path": c.path,
            "id": c.param("id"),
            "rest": c.param("rest"),
            "missing": c.param("nope", "dflt"),
            "q": c.query("q"),
            "q_default": c.query("absent", "d"),
            "tags": c.query_all("tag"),
            "blank": c.query("blank"),
            "ua": c.header("User-Agent"),
            "multi": c.header("x-multi"),
            "cookie": c.cookie("session"),
            "cookie_default": c.cookie("other", "none"),
        }

    r = await call(
        app,
        "GET",
        "/u/a%2Fb/x/y?q=1&tag=a&tag=b&blank=",
        headers=[
            ("user-agent", "t"),
            ("x-multi", "1"),
            ("x-multi", "2"),
            ("cookie", 'session="s%20v"; theme=dark'),
        ],
    )
    assert r.json() == {
        "method": "GET",
        "path": "/u/a/b/x/y",
        "id": "a/b",
        "rest": "x/y",
        "missing": "dflt",
        "q": "1",
        "q_default": "d",
        "tags": ["a", "b"],
        "blank": "",
        "ua": "t",
        "multi": "1, 2",
        "cookie": "s v",
        "cookie_default": "none",
    }


async def test_missing_param_without_default_is_a_key_error() -> None:
    app = Gee()

    @app.get("/")
    async def handler(c: Context) -> str:
        try:
            c.param("id")
        except KeyError as exc:
            return str(exc)
        return "no error"

    assert "no parameter 'id'" in (await call(app, "GET", "/")).text


async def test_body_and_json_reading() -> None:
    app = Gee()

    @app.post("/body")
    async def body(c: Context) -> bytes:
        first = await c.body()
        assert await c.body() == first  # cached
        return first

    @app.post("/json")
    async def read_json(c: Context) -> object:
        data = await c.json()
        return {"got": data}

    assert (await call(app, "POST", "/body", content=b"raw")).content == b"raw"
    assert (await call(app, "POST", "/json", json=[1, "a"])).json() == {"got": [1, "a"]}
    r = await call(app, "POST", "/json", content=b"")
    assert (r.status_code, r.text) == (400, "invalid JSON: the request body is empty")


class User(msgspec.Struct):
    name: str
    age: int
    email: str | None = None


@dataclass
class Login:
    user: str
    password: str


@pytest.mark.parametrize("model", [User, Login])
async def test_bind_valid_bodies(model: type) -> None:
    app = Gee()

    @app.post("/")
    async def handler(c: Context) -> object:
        value = await c.bind(model)
        assert isinstance(value, model)
        return msgspec.to_builtins(value)

    body = {"name": "ann", "age": 3} if model is User else {"user": "u", "password": "p"}
    r = await call(app, "POST", "/", json=body)
    assert r.status_code == 200
    assert {k: v for k, v in r.json().items() if v is not None} == body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": 1, "age": "x"},
            [("name", "Expected `str`, got `int`"), ("age", "Expected `int`, got `str`")],
        ),
        ({}, [("name", "required field is missing"), ("age", "required field is missing")]),
        ([1], [("$", "expected a JSON object, got an array")]),
    ],
)
async def test_bind_lists_every_bad_field(body: object, errors: list[tuple[str, str]]) -> None:
    app = Gee()

    @app.post("/")
    async def handler(c: Context) -> object:
        return msgspec.to_builtins(await c.bind(User))

    r = await call(app, "POST", "/", json=body)
    assert r.status_code == 400
    got = [(e["field"], e["error"]) for e in r.json()["errors"]]
    assert got == errors, f"got {got}; want {errors}"


async def test_urlencoded_form() -> None:
    app = Gee()

    @app.post("/")
    async def handler(c: Context) -> dict[str, object]:
        form = await c.form()
        return {"a": form["a"], "all": form.getall("b"), "none": form.get("zz"), "keys": list(form)}

    r = await call(app, "POST", "/", data={"a": "1 2", "b": ["x", "y"]})
    assert r.json() == {"a": "1 2", "all": ["x", "y"], "none": None, "keys": ["a", "b"]}


async def test_multipart_form_with_files_spools_big_ones_to_disk() -> None:
    app = Gee(spool_size=1000)
    seen: dict[str, object] = {}

    @app.post("/")
    async def handler(c: Context) -> dict[str, object]:
        form = await c.form()
        small, big = form.files["small"], form.files["big"]
        seen["small_rolled"] = small.file._rolled  # type: ignore[attr-defined]
        seen["big_rolled"] = big.file._rolled  # type: ignore[attr-defined]
        seen["big_file"] = big.file
        return {
            "field": form["field"],
            "small": [small.filename, small.content_type, small.read().decode()],
            "big": [big.filename, big.size, len(big.read())],
        }

    files = {"small": ("s.txt", b"tiny", "text/plain"), "big": ("b.bin", os.urandom(5000))}
    r = await call(app, "POST", "/", data={"field": "v"}, files=files)
    assert r.json() == {
        "field": "v",
        "small": ["s.txt", "text/plain", "tiny"],
        "big": ["b.bin", 5000, 5000],
    }
    assert seen["small_rolled"] is False
    assert seen["big_rolled"] is True
    assert seen["big_file"].closed  # type: ignore[attr-defined]  (closed after the response)


async def test_form_with_other_content_type_is_415() -> None:
    app = Gee()

    @app.post("/")
    async def handler(c: Context) -> None:
        await c.form()

    assert (await call(app, "POST", "/", json={})).status_code == 415


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "want"),
    [
        ((), "127.0.0.1", "1.2.3.4", "127.0.0.1"),  # nobody trusted: the header is ignored
        (("127.0.0.1",), "127.0.0.1", "1.2.3.4", "1.2.3.4"),
        (("127.0.0.1",), "127.0.0.1", None, "127.0.0.1"),
        (("10.0.0.0/8",), "127.0.0.1", "1.2.3.4", "127.0.0.1"),  # peer not trusted
        (("127.0.0.1", "10.0.0.0/8"), "127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4"),
        (("127.0.0.1",), "127.0.0.1", "garbage", "garbage"),
    ],
)
async def test_client_ip(
    trusted: tuple[str, ...], peer: str, forwarded: str | None, want: str
) -> None:
    app = Gee(trusted_proxies=trusted)
    app.get("/", lambda c: c.client_ip)
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    async with TestClient(app, client=(peer, 1234)) as client:
        assert (await client.get("/", headers=headers)).text == want


# ------------------------------------------------------------------ writing


async def test_writers() -> None:
    app = Gee()
    app.get("/string", lambda c: c.string(202, "%s=%d", "a", 1))
    app.get("/json", lambda c: c.json(201, {"k": [1]}))
    app.get("/data", lambda c: c.data(200, b"\x89PNG", "image/png"))
    app.get("/redirect", lambda c: c.redirect(302, "/elsewhere"))

    @app.get("/headers")
    async def headers(c: Context) -> None:
        c.status(204)
        c.set_header("X-One", "1")
        c.set_header("x-one", "2")  # replaces
        c.add_header("x-many", "a")
        c.add_header("x-many", "b")
        c.set_cookie("sid", "a b", max_age=60)
        c.delete_cookie("old")

    async with TestClient(app) as client:
        r = await client.get("/string")
        assert (r.status_code, r.text) == (202, "a=1")
        r = await client.get("/json")
        assert (r.status_code, r.json()) == (201, {"k": [1]})
        r = await client.get("/data")
        assert (r.headers["content-type"], r.content) == ("image/png", b"\x89PNG")
        r = await client.get("/redirect")
        assert (r.status_code, r.headers["location"]) == (302, "/elsewhere")
        r = await client.get("/headers")
    assert r.status_code == 204
    assert r.headers["x-one"] == "2"
    assert r.headers.get_list("x-many") == ["a", "b"]
    assert r.headers.get_list("set-cookie") == [
        "sid=a%20b; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
        "old=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
    ]
    assert "content-length" not in r.headers


def test_redirect_with_a_non_redirect_code_fails() -> None:
    c = Context(Gee(), {"type": "http", "headers": []}, None, {}, ())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="redirect"):
        c.redirect(200, "/x")
    with pytest.raises(TypeError, match=r"await c\.json"):
        c.json(200)  # type: ignore[call-overload]


async def test_stream() -> None:
    app = Gee()

    @app.get("/")
    async def handler(c: Context) -> None:
        async def parts():  # type: ignore[no-untyped-def]
            for word in ("a", "b", "c"):
                yield word

        c.stream(200, parts(), "text/plain")

    r = await call(app, "GET", "/")
    assert (r.status_code, r.text) == (200, "abc")


async def test_store_set_get_across_middleware() -> None:
    app = Gee()

    async def who(c: Context) -> None:
        c.set("user", "ann")
        await c.next()

    app.use(who)
    app.get("/", lambda c: f"{c.get('user')}/{c.get('missing', 'd')}/{c.is_aborted}")
    assert (await call(app, "GET", "/")).text == "ann/d/False"


# ------------------------------------------------------------------ files


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "small.txt").write_bytes(b"0123456789")
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * 1024)  # 256 KiB: streamed
    return tmp_path


@pytest.mark.parametrize(
    ("name", "range_", "status", "body", "content_range"),
    [
        ("small.txt", None, 200, b"0123456789", None),
        ("small.txt", "bytes=2-4", 206, b"234", "bytes 2-4/10"),
        ("small.txt", "bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("small.txt", "bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("small.txt", "bytes=5-100", 206, b"56789", "bytes 5-9/10"),
        ("small.txt", "bytes=10-", 416, b"", "bytes */10"),
        ("small.txt", "bytes=0-1,3-4", 200, b"0123456789", None),  # multi-range: whole file
        ("small.txt", "lines=1-2", 200, b"0123456789", None),
        ("big.bin", "bytes=1000-1003", 206, bytes([232, 233, 234, 235]), "bytes 1000-1003/262144"),
        ("big.bin", None, 200, bytes(range(256)) * 1024, None),
    ],
)
async def test_file_ranges(
    files: Path, name: str, range_: str | None, status: int, body: bytes, content_range: str | None
) -> None:
    app = Gee()
    app.get("/f", lambda c: c.file(files / name))
    headers = {"range": range_} if range_ else {}
    r = await call(app, "GET", "/f", headers=headers)
    assert r.status_code == status
    assert r.content == body
    assert r.headers.get("content-range") == content_range
    if status != 416:
        assert r.headers["content-length"] == str(len(body))


async def test_file_conditional_get(files: Path) -> None:
    app = Gee()
    app.get("/f", lambda c: c.file(files / "small.txt"))
    app.get("/dl", lambda c: c.file(files / "small.txt", filename="r é.txt"))
    async with TestClient(app) as client:
        first = await client.get("/f")
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert first.headers["content-type"] == "text/plain; charset=utf-8"
        r = await client.get("/f", headers={"if-none-match": etag})
        assert (r.status_code, r.content) == (304, b"")
        r = await client.get("/f", headers={"if-modified-since": modified})
        assert r.status_code == 304
        r = await client.get("/f", headers={"if-none-match": '"other"'})
        assert r.status_code == 200
        r = await client.get("/f", headers={"range": "bytes=0-0", "if-range": '"stale"'})
        assert (r.status_code, r.content) == (200, b"0123456789")
        r = await client.get("/dl")
        assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''r%20%C3%A9.txt"
        assert (await client.get("/missing-file")).status_code == 404


async def test_missing_file_is_404(files: Path) -> None:
    app = Gee()
    app.get("/f", lambda c: c.file(files / "absent"))
    app.get("/dir", lambda c: c.file(files))
    assert (await call(app, "GET", "/f")).status_code == 404
    assert (await call(app, "GET", "/dir")).status_code == 404


async def test_params_are_read_only() -> None:
    # A route without params shares one empty dict with every other: it must not be writable.
    app = Gee()

    @app.get("/")
    async def handler(c: Context) -> str:
        try:
            c.params["x"] = "y"  # type: ignore[index]
        except TypeError:
            return "read-only"
        return "writable"

    assert (await call(app, "GET", "/")).text == "read-only"


async def test_iter_body_streams_chunks_and_body_after_it_is_an_error() -> None:
    app = Gee()

    @app.post("/")
    async def handler(c: Context) -> dict[str, object]:
        sizes = [len(chunk) async for chunk in c.iter_body()]
        try:
            await c.body()
        except RuntimeError as exc:
            return {"sizes": sizes, "again": str(exc)}
        return {"sizes": sizes, "again": "allowed"}

    async def chunks():  # type: ignore[no-untyped-def]
        yield b"abc"
        yield b"defg"

    r = await call(app, "POST", "/", content=chunks())
    assert r.json()["again"].startswith("the request body was already streamed")
    assert sum(r.json()["sizes"]) == 7


async def test_oversized_upload_is_413_and_its_spooled_files_are_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    import gee.web.forms

    app = Gee(spool_size=10, body_limit=3000)
    opened: list[tempfile.SpooledTemporaryFile[bytes]] = []
    real = tempfile.SpooledTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> tempfile.SpooledTemporaryFile[bytes]:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(gee.web.forms.tempfile, "SpooledTemporaryFile", spy)

    @app.post("/")
    async def handler(c: Context) -> None:
        await c.form()

    def part(name: str, size: int) -> bytes:
        head = (
            f'--b\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.bin"\r\n\r\n'
        )
        return head.encode() + b"x" * size + b"\r\n"

    body = part("a", 1000) + part("b", 5000) + b"--b--\r\n"

    async def chunks():  # type: ignore[no-untyped-def]  (chunked: the cap is met mid-stream)
        for i in range(0, len(body), 500):
            yield body[i : i + 500]

    headers = {"content-type": "multipart/form-data; boundary=b"}
    r = await call(app, "POST", "/", content=chunks(), headers=headers)
    assert r.status_code == 413
    assert len(opened) == 2
    assert all(f.closed for f in opened)
