"""Codecs: typed round trips, decoder reuse, and names."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gee.rpc.codec import JSON, MSGPACK, Codec, codec_by_id, codec_named
from gee.rpc.errors import RPCError
from tests.rpc.services import Args

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize("codec", [MSGPACK, JSON], ids=["msgpack", "json"])
@given(value=json_values)
def test_round_trip_of_plain_values(codec: Codec, value: Any) -> None:
    assert codec.decoder()(codec.encode(value)) == value


@pytest.mark.parametrize("codec", [MSGPACK, JSON], ids=["msgpack", "json"])
def test_typed_decoding_and_reuse(codec: Codec) -> None:
    decode = codec.decoder(Args)
    assert decode is codec.decoder(Args), "a decoder is built once per type"
    assert decode(codec.encode(Args(1, 2))) == Args(1, 2)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.B"):
        decode(codec.encode({"A": 1, "B": "two"}))


def test_names_and_ids() -> None:
    assert codec_named("msgpack") is MSGPACK
    assert codec_named(JSON) is JSON
    assert codec_by_id(2) is JSON
    assert codec_by_id(9) is None
    with pytest.raises(RPCError, match="unknown codec 'xml'"):
        codec_named("xml")
