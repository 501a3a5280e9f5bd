"""Registration: what fits, what is refused, and the reason given."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest

from gee.rpc import Server, ServiceError
from gee.rpc.service import build_service
from tests.rpc.services import Args, Arith


def test_arith_methods_and_signatures() -> None:
    service = build_service(Arith())
    assert service.name == "Arith"
    got = {name: m.signature for name, m in service.methods.items()}
    want = {
        "Divide": "Arith.Divide(Args) -> Quotient",
        "Multiply": "Arith.Multiply(Args) -> int",
    }
    assert got == want, f"got {got}; want {want}"
    assert service.methods["Multiply"].is_async
    assert not service.methods["Divide"].is_async


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_name_override_and_types() -> None:
    class Geo:
        def norm1(self, p: Point) -> int:
            return abs(p.x) + abs(p.y)

        def scale(self, xs: list[float]) -> dict[str, float]:
            return {"max": max(xs)}

        def _helper(self, a: int, b: int) -> None:  # private: ignored
            pass

    service = build_service(Geo(), "geo2")
    assert sorted(service.methods) == ["norm1", "scale"]
    assert service.methods["norm1"].name == "geo2.norm1"


class NoHint:
    def m(self, args) -> int:  # type: ignore[no-untyped-def]
        return 1


class NoReturn:
    def m(self, args: int):  # type: ignore[no-untyped-def]
        return 1


class TwoArgs:
    def m(self, a: int, b: int) -> int:
        return a + b


class NoArgs:
    def m(self) -> int:
        return 1


class Star:
    def m(self, *args: int) -> int:
        return 1


class Static:
    @staticmethod
    def m(args: int) -> int:
        return args


class Gen:
    async def m(self, args: int) -> Any:
        yield args


class Opaque:
    pass


class BadType:
    def m(self, args: Args) -> Opaque:
        return Opaque()


class Nothing:
    x = 1


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (NoHint(), "argument 'args' has no type hint"),
        (NoReturn(), "has no return type hint"),
        (TwoArgs(), "takes (a, b); want exactly one"),
        (NoArgs(), "takes (); want exactly one"),
        (Star(), "takes (args); want exactly one"),
        (Static(), "is a staticmethod"),
        (Gen(), "is a generator"),
        (BadType(), "return type Opaque cannot be encoded"),
        (Nothing(), "has no public methods"),
    ],
)
def test_misfits_are_refused_with_the_reason(obj: object, reason: str) -> None:
    with pytest.raises(ServiceError) as info:
        build_service(obj)
    assert reason in str(info.value), f"got {info.value}; want it to mention {reason!r}"


def test_every_misfit_is_listed_at_once() -> None:
    class Two:
        def a(self) -> int:
            return 1

        def b(self, x) -> int:  # type: ignore[no-untyped-def]
            return 1

        def ok(self, x: int) -> int:
            return x

    with pytest.raises(ServiceError, match=r"a: takes \(\).*b: argument 'x'"):
        build_service(Two())


@pytest.mark.parametrize("name", ["", "a.b"])
def test_bad_service_names(name: str) -> None:
    with pytest.raises(ServiceError, match="service name"):
        build_service(Arith(), name)


def test_duplicate_service_is_refused() -> None:
    server = Server()
    server.register(Arith())
    with pytest.raises(ServiceError, match="rpc: service already defined: Arith"):
        server.register(Arith())
    server.register(Arith(), "Arith2")


def test_struct_arguments_decode_by_hint() -> None:
    service = build_service(Arith())
    decode = service.methods["Multiply"].decoders[1]
    assert decode(msgspec.msgpack.encode({"A": 2, "B": 3})) == Args(2, 3)
