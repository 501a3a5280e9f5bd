"""Body codecs: MessagePack (the default) and JSON, both through msgspec.

A codec turns a call's argument or result into bytes and back. Decoding is typed: the server
decodes a request body straight into the method's argument type, so a wrong field fails with
msgspec's message naming it (``Expected `int`, got `str` - at `$.a```). Encoders are built once
per codec and decoders once per (codec, type), because building them costs far more than
using them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias

import msgspec

from gee.rpc.errors import RPCError

__all__ = ["CODECS", "JSON", "MSGPACK", "Codec", "Decode", "codec_by_id", "codec_named"]

Decode: TypeAlias = Callable[[Any], Any]  # bytes-like -> value


class Codec:
    """One body encoding: its handshake ``id``, its ``name``, ``encode`` and typed decoders."""

    __slots__ = ("_decoders", "_module", "encode", "id", "name")

    def __init__(self, codec_id: int, name: str, module: Any) -> None:
        self.id = codec_id
        self.name = name
        self._module = module
        self.encode: Callable[[Any], bytes] = module.Encoder().encode
        # type -> decode; unlocked on purpose: two threads racing on one type both build a
        # decoder and one wins, which is harmless (dict assignment is atomic)
        self._decoders: dict[Any, Decode] = {}

    def decoder(self, tp: Any = Any) -> Decode:
        """Return a function decoding bytes into ``tp`` (``Any`` gives plain builtins).

        Raises TypeError when msgspec cannot decode into ``tp``.
        """
        try:
            return self._decoders[tp]
        except KeyError:
            decode: Decode = self._module.Decoder(tp).decode
            self._decoders[tp] = decode
            return decode
        except TypeError:  # unhashable type expression: build without caching
            fresh: Decode = self._module.Decoder(tp).decode
            return fresh

    def __repr__(self) -> str:
        return f"<Codec {self.name} id={self.id}>"


MSGPACK: Final = Codec(1, "msgpack", msgspec.msgpack)
JSON: Final = Codec(2, "json", msgspec.json)
CODECS: Final = {MSGPACK.id: MSGPACK, JSON.id: JSON}
_NAMED: Final = {MSGPACK.name: MSGPACK, JSON.name: JSON}


def codec_by_id(codec_id: int) -> Codec | None:
    """Return the codec with handshake id ``codec_id``, or None when gee has none."""
    return CODECS.get(codec_id)


def codec_named(name: str | Codec) -> Codec:
    """Return the codec called ``name`` ("msgpack" or "json"); a Codec is returned as is."""
    if isinstance(name, Codec):
        return name
    try:
        return _NAMED[name]
    except KeyError:
        raise RPCError(f"unknown codec {name!r}; use one of {sorted(_NAMED)}") from None
