"""Hostile input, generated: whatever the headers, path and body, the app answers below 500.

Every endpoint here reads everything a handler can read (headers, cookies, query, the body as
JSON, as a form, bound to a model, a file with Range and conditional headers), behind the
built-in middleware. An answer of 500 or an exception escaping the app is a bug.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gee.web import Context, Gee
from gee.web.middleware import body_limit, cors, gzip, static

HERE = Path(__file__).resolve().parent


class Model(msgspec.Struct):
    name: str
    n: int = 0


def build_app() -> Gee:
    app = Gee(trusted_proxies=["127.0.0.1"])
    app.use(cors(), gzip(min_size=1), body_limit(10_000), static("/s", HERE))

    @app.any("/read/:x/*rest")
    async def read(c: Context) -> dict[str, Any]:
        return {
            "h": c.headers,
            "cookies": c.cookies,
            "q": c.queries,
            "ip": c.client_ip,
            "x": c.param("x"),
            "rest": c.param("rest"),
        }

    @app.post("/json")
    async def read_json(c: Context) -> object:
        return {"j": await c.json()}

    @app.post("/form")
    async def read_form(c: Context) -> object:
        form = await c.form()
        return {"fields": form.fields, "files": [f.filename for f in form.files.values()]}

    @app.post("/bind")
    async def bind(c: Context) -> object:
        return msgspec.to_builtins(await c.bind(Model))

    app.get("/file", lambda c: c.file(HERE / "test_fuzz.py"))
    app.get("/only-get/:x/", lambda c: c.param("x"))  # 405s and slash redirects decode too
    return app


APP = build_app()
NAMES = [
    "content-type",
    "content-length",
    "range",
    "if-range",
    "if-none-match",
    "if-modified-since",
    "accept-encoding",
    "cookie",
    "x-forwarded-for",
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "host",
]
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
headers = st.lists(st.tuples(st.sampled_from(NAMES), latin1), max_size=6)
paths = st.one_of(
    st.sampled_from(["/read/a/b", "/json", "/form", "/bind", "/file", "/s/test_fuzz.py", "/"]),
    st.builds(lambda a, b: f"/read/{a}/{b}", st.text(max_size=8), st.text(max_size=8)),
    st.builds(
        lambda a, s: f"/only-get/{a}{s}",
        st.sampled_from(["%zz", "%4", "a%20b", "x"]),
        st.sampled_from(["", "/"]),
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30).map(
        lambda s: "/" + s
    ),
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b'{"name": "x"}', b'{"n": "x"}', b"a=1&b=%zz", b"--b\r\n\r\n--b--"]),
)
methods = st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PUT"])


async def call(method: str, path: str, raw_headers: list[tuple[str, str]], body: bytes) -> int:
    sent: list[dict[str, Any]] = []
    chunks = [body[:7], body[7:]]

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        await asyncio.sleep(3600)  # a watcher waiting for a disconnect that never comes
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_path, _, query = path.encode("utf-8", "surrogateescape").partition(b"?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "headers": [(k.encode(), v.encode("latin-1")) for k, v in raw_headers],
        "client": ("127.0.0.1", 5000),
    }
    await asyncio.wait_for(APP(scope, receive, send), 10)
    assert sent, "nothing was sent"
    assert sent[-1].get("more_body", False) is False
    return int(sent[0]["status"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(methods, paths, headers, bodies)
def test_no_input_gets_a_500(
    method: str, path: str, raw_headers: list[tuple[str, str]], body: bytes
) -> None:
    status = asyncio.run(call(method, path, raw_headers, body))
    assert status < 500, f"{method} {path} {raw_headers} {body!r}: got {status}"
