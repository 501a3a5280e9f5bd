"""Routes registered either way keep their handlers' types under mypy --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = """
from gee.web import Context, Gee, WebSocket

app = Gee()
api = app.group("/api")


@app.get("/a")
async def a(c: Context) -> str:
    return c.param("x")


@api.post("/b", name="b")
def b(c: Context) -> dict[str, int]:
    return {"n": 1}


@app.put("/c")
@app.patch("/c")
@app.delete("/c")
@app.head("/c")
@app.options("/c")
@app.any("/d")
@api.route(["GET", "PUT"], "/e")
@api.get("/f")
@api.put("/f")
@api.patch("/f")
@api.delete("/f")
@api.head("/f")
@api.options("/f")
@api.any("/g")
async def many(c: Context) -> None:
    pass


@app.websocket("/ws")
async def ws(sock: WebSocket) -> None:
    await sock.send_text("hi")


async def plain(c: Context) -> bytes:
    return b""


async def socket(sock: WebSocket) -> None:
    pass


@app.template_filter
def shout(s: str) -> str:
    return s.upper()


@app.template_filter("hush")
def whisper(s: str) -> str:
    return s.lower()


def use() -> None:
    reveal_type(a)
    reveal_type(b)
    reveal_type(many)
    reveal_type(ws)
    reveal_type(app.get("/p", plain))
    reveal_type(api.route("POST", "/p", plain, name="p"))
    reveal_type(api.websocket("/s", socket))
    reveal_type(shout)
    reveal_type(whisper)


@app.get("/bad")
async def bad(n: int) -> str:
    return ""


app.post("/bad", 3)


@api.websocket("/bad")
async def bad_socket(c: Context) -> None:
    pass


app.template_filter(3)
"""

HTTP = 'Revealed type is "def (c: gee.web.context.Context) -> '
SOCKET = 'Revealed type is "def (sock: gee.web.websocket.WebSocket) -> '
WANT = [
    HTTP + 'typing.Coroutine[Any, Any, str]"',
    HTTP + 'dict[str, int]"',
    HTTP + 'typing.Coroutine[Any, Any, None]"',
    SOCKET + 'typing.Coroutine[Any, Any, None]"',
    HTTP + 'typing.Coroutine[Any, Any, bytes]"',
    HTTP + 'typing.Coroutine[Any, Any, bytes]"',
    SOCKET + 'typing.Coroutine[Any, Any, None]"',
    'Revealed type is "def (s: str) -> str"',  # @app.template_filter
    'Revealed type is "def (s: str) -> str"',  # @app.template_filter("hush")
    '"Callable[[int], Coroutine[Any, Any, str]]"',  # @app.get on a handler not taking a Context
    'No overload variant of "post" of "RouterGroup" matches argument types "str", "int"',
    '"Callable[[Context], Coroutine[Any, Any, None]]"',  # @api.websocket on an HTTP handler
    'No overload variant of "template_filter" of "Gee" matches argument type "int"',
]


@pytest.mark.slow
def test_mypy_keeps_handler_types_through_registration(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    sample = tmp_path / "sample.py"
    sample.write_text(SAMPLE)
    out, err, _ = mypy_api.run(
        [
            "--strict",
            "--no-error-summary",
            "--show-traceback",
            "--cache-dir",
            str(tmp_path / "c"),
            "--no-pretty",
            "--hide-error-context",
            "--show-absolute-path",
            str(sample),
        ]
    )
    lines = [line.split(": ", 1)[1] for line in out.splitlines() if line.count(": ") >= 2]
    # Older mypy writes "builtins.str" where newer writes "str"; the overload listings are noise.
    lines = [line.replace("builtins.", "") for line in lines]
    lines = [line for line in lines if line.startswith(("error:", "note: Revealed type"))]
    for want in WANT:
        assert any(want in line for line in lines), f"missing {want!r}; mypy said:\n{out}{err}"
    assert len(lines) == len(WANT), f"got {len(lines)} messages; want {len(WANT)}:\n{out}"
