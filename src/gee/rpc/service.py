"""Services: an object's public methods, checked once at registration and called by name.

A method fits when it reads ``def m(self, args: T) -> R`` or ``async def m(self, args: T) -> R``:
one argument, both hints present, and msgspec able to decode ``T`` and ``R`` (a Struct, a
dataclass, a TypedDict, builtins and their containers). The hints are the contract: the server
decodes a request body straight into ``T``, so a client sending the wrong shape gets an error
naming the field, and the method never sees it. Go's net/rpc skips a misfit method with a log
line and the caller finds out at call time; here ``register`` refuses the object and names every
misfit and why, because a typo should fail at start-up, not in production.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from gee.rpc.codec import CODECS, JSON, Decode
from gee.rpc.errors import ServiceError

__all__ = ["Method", "Service", "build_service"]


class Method:
    """One callable RPC method: its full name, types, decoders and running totals.

    ``calls``, ``errors`` and ``seconds`` are updated by the server on the event loop thread
    only; the debug page reads them there too.
    """

    __slots__ = (
        "_jsonrpc_params",
        "arg_type",
        "calls",
        "decoders",
        "errors",
        "func",
        "is_async",
        "name",
        "result_type",
        "seconds",
        "signature",
    )

    def __init__(self, name: str, func: Callable[[Any], Any], arg_type: Any, result_type: Any):
        self.name = name
        self.func = func
        self.arg_type = arg_type
        self.result_type = result_type
        self.is_async = inspect.iscoroutinefunction(func)
        self.signature = f"{name}({_type_name(arg_type)}) -> {_type_name(result_type)}"
        # codec id -> decode(body) into arg_type; built up front so the first call is not slower
        self.decoders: dict[int, Decode] = {cid: c.decoder(arg_type) for cid, c in CODECS.items()}
        self._jsonrpc_params: Decode | None = None
        self.calls = 0
        self.errors = 0
        self.seconds = 0.0

    def jsonrpc_params(self) -> Decode:
        """Return a decoder for JSON-RPC's one-element ``params`` array holding the argument."""
        if self._jsonrpc_params is None:
            self._jsonrpc_params = JSON.decoder(tuple[self.arg_type])  # type: ignore[name-defined]
        return self._jsonrpc_params

    def __repr__(self) -> str:
        return f"<Method {self.signature}>"


class Service:
    """A registered object under its service name, with its methods by their short names."""

    __slots__ = ("methods", "name", "obj")

    def __init__(self, name: str, obj: object, methods: dict[str, Method]) -> None:
        self.name = name
        self.obj = obj
        self.methods = methods

    def __repr__(self) -> str:
        return f"<Service {self.name} {sorted(self.methods)}>"


def build_service(obj: object, name: str | None = None) -> Service:
    """Return the Service for ``obj``; ServiceError lists every method that does not fit.

    ``name`` None means the class name. Names starting with ``_`` are private and skipped.
    """
    service_name = type(obj).__name__ if name is None else name
    if not service_name or "." in service_name or not service_name.isprintable():
        raise ServiceError(f"rpc: service name {service_name!r} must be non-empty without '.'")
    methods: dict[str, Method] = {}
    misfits: list[str] = []
    for attr in sorted(dir(type(obj))):
        if attr.startswith("_"):
            continue
        static = inspect.getattr_static(type(obj), attr)
        if isinstance(static, staticmethod | classmethod):
            kind = type(static).__name__
            misfits.append(f"{attr}: is a {kind}; want a method taking (self, args)")
            continue
        if not inspect.isfunction(static):
            continue  # properties, class attributes, nested classes: not methods
        reason, method = _method(service_name, attr, getattr(obj, attr))
        if method is None:
            misfits.append(f"{attr}: {reason}")
        else:
            methods[attr] = method
    if misfits:
        detail = "; ".join(misfits)
        raise ServiceError(
            f"rpc: cannot register {service_name}: {detail} "
            "(rename helpers with a leading '_' to keep them private)"
        )
    if not methods:
        raise ServiceError(
            f"rpc: {service_name} has no public methods of the form "
            "`def m(self, args: T) -> R` or `async def m(self, args: T) -> R`"
        )
    return Service(service_name, obj, methods)


def _method(service: str, attr: str, bound: Callable[..., Any]) -> tuple[str, Method | None]:
    """Return ``("", Method)`` when ``bound`` fits, else ``(reason, None)``."""
    if inspect.isasyncgenfunction(bound) or inspect.isgeneratorfunction(bound):
        return "is a generator; want a plain or async def returning one value", None
    try:
        params = list(inspect.signature(bound).parameters.values())
    except (TypeError, ValueError) as exc:
        return f"has no readable signature ({exc})", None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) != 1 or params[0].kind not in positional:
        return f"takes ({', '.join(p.name for p in params)}); want exactly one: args", None
    try:
        hints = typing.get_type_hints(bound)
    except Exception as exc:  # any failure to resolve hints is the reason
        return f"its type hints do not resolve ({exc})", None
    arg = params[0].name
    if arg not in hints:
        return f"argument {arg!r} has no type hint", None
    if "return" not in hints:
        return "has no return type hint (write -> None when it returns nothing)", None
    arg_type, result_type = hints[arg], hints["return"]
    for what, tp in (("argument", arg_type), ("return", result_type)):
        try:
            # a decoder accepts any class (leaving it to a dec_hook); a schema needs real types
            JSON.decoder(tp)
            msgspec.json.schema(tp)
        except TypeError as exc:
            why = str(exc).splitlines()[-1]
            return f"{what} type {_type_name(tp)} cannot be encoded ({why})", None
    return "", Method(f"{service}.{attr}", bound, arg_type, result_type)


def _type_name(tp: Any) -> str:
    """A short, readable spelling of a type hint for messages and the debug page."""
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__ if tp.__module__ != "builtins" else tp.__name__
    return repr(tp).replace("typing.", "")
