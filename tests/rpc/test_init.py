"""The public API of gee.rpc: a sorted, complete ``__all__`` and one exception base."""

from __future__ import annotations

import subprocess
import sys

import gee.rpc
from gee.errors import GeeError


def test_all_is_sorted_and_complete() -> None:
    assert gee.rpc.__all__ == sorted(gee.rpc.__all__), "__all__ is not sorted"
    missing = [name for name in gee.rpc.__all__ if not hasattr(gee.rpc, name)]
    assert missing == [], f"got missing names {missing}; want none"


def test_every_name_has_a_home() -> None:
    assert sorted(gee.rpc._HOMES) == gee.rpc.__all__


def test_errors_share_one_base() -> None:
    for name in ("CallTimeoutError", "FrameTooLargeError", "ProtocolError", "RemoteError"):
        assert issubclass(getattr(gee.rpc, name), gee.rpc.RPCError), name
    assert issubclass(gee.rpc.RPCError, GeeError)
    assert issubclass(gee.rpc.CallTimeoutError, TimeoutError)
    assert issubclass(gee.rpc.RPCConnectionError, ConnectionError)


def test_importing_the_package_is_lazy() -> None:
    code = "import sys, gee.rpc; print('msgspec' in sys.modules, 'asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout
