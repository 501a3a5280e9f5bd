"""response: dump_json and the JSON a handler's return value, c.json and Response.json send."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from gee.web import Context, Gee, Response
from gee.web.testing import TestClient

FIB_100 = 354224848179261915075  # fib(100): more than 64 bits


class Big(msgspec.Struct):
    n: int
    f: float


@dataclass
class Row:
    n: int
    name: str


WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _returned(value: Any) -> Callable[[Context], Any]:
    async def handler(c: Context) -> Any:
        return value

    return handler


def _written(value: Any) -> Callable[[Context], Any]:
    async def handler(c: Context) -> None:
        c.json(200, value)

    return handler


def _response(value: Any) -> Callable[[Context], Any]:
    async def handler(c: Context) -> Response:
        return Response.json(value)

    return handler


@pytest.mark.parametrize("how", [_returned, _written, _response])
@pytest.mark.parametrize(
    ("value", "body"),
    [
        ({"fib": FIB_100}, b'{"fib":354224848179261915075}'),
        ([2**64, -(2**63) - 1], b"[18446744073709551616,-9223372036854775809]"),
        # Everything else in the payload is written as orjson writes it when the ints fit.
        (
            {"n": 2**70, "s": "é ü", "t": (1, None, True), "nan": float("nan"), "x": 1.5},
            '{"n":1180591620717411303424,"s":"é ü","t":[1,null,true],"nan":null,"x":1.5}'.encode(),
        ),
        (
            {"b": Big(2**65, float("inf")), "w": WHEN, "id": ID},
            b'{"b":{"n":36893488147419103232,"f":null},"w":"2024-05-06T07:08:09+00:00",'
            b'"id":"12345678-1234-5678-1234-567812345678"}',
        ),
        (Row(2**64, "r"), b'{"n":18446744073709551616,"name":"r"}'),
    ],
    ids=["fib100", "edges", "mixed", "struct", "dataclass"],
)
async def test_ints_beyond_64_bits_are_json_too(
    how: Callable[[Any], Callable[[Context], Any]], value: Any, body: bytes
) -> None:
    app = Gee()
    app.get("/", how(value))
    async with TestClient(app) as client:
        r = await client.get("/")
    got = (r.status_code, r.headers["content-type"], r.content)
    want = (200, "application/json", body)
    assert got == want, f"got {got}; want {want}"


async def test_values_json_cannot_hold_are_still_a_500() -> None:
    app = Gee()
    app.get("/", _returned({"n": FIB_100, "o": object()}))
    app.get("/key", _returned({(1, 2): FIB_100}))
    async with TestClient(app) as client:
        for path in ("/", "/key"):
            status = (await client.get(path)).status_code
            assert status == 500, f"{path}: got {status}; want 500"
