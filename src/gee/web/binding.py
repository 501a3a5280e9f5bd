"""Binding: validate decoded JSON into a msgspec Struct or a dataclass, naming every bad field.

msgspec stops at the first error; a client fixing a form wants all of them. So each field is
converted alone first (collecting errors), and only a clean object is converted as a whole.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

import msgspec

from gee.web.errors import BindError

M = TypeVar("M")


def convert(data: Any, model: type[M]) -> M:
    """``data`` (decoded JSON) as a ``model``; BindError lists each missing or invalid field."""
    info = msgspec.inspect.type_info(model)
    if not isinstance(info, msgspec.inspect.StructType | msgspec.inspect.DataclassType):
        raise TypeError(f"c.bind needs a msgspec Struct or a dataclass, not {model!r}")
    if not isinstance(data, dict):
        raise BindError([{"field": "$", "error": f"expected a JSON object, got {_kind(data)}"}])
    hints = typing.get_type_hints(model, include_extras=True)
    errors: list[dict[str, str]] = []
    for field in info.fields:
        key = field.encode_name
        if key not in data:
            if field.required:
                errors.append({"field": key, "error": "required field is missing"})
            continue
        try:
            msgspec.convert(data[key], hints[field.name])
        except msgspec.ValidationError as exc:
            errors.append({"field": key, "error": str(exc).split(" - at ")[0]})
    if errors:
        raise BindError(errors)
    try:
        return msgspec.convert(data, model)
    except msgspec.ValidationError as exc:  # a check across fields (__post_init__, ...)
        raise BindError([{"field": "$", "error": str(exc)}]) from None


def _kind(data: Any) -> str:
    if data is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(data), "a number")
