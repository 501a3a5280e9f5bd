"""The top-level package: version, the common exception base, the typed marker."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import gee
from gee.errors import GeeError


def test_all_is_sorted_and_complete() -> None:
    assert gee.__all__ == sorted(gee.__all__)
    for name in gee.__all__:
        assert hasattr(gee, name), name


def test_py_typed_marker_ships() -> None:
    assert (Path(gee.__file__).parent / "py.typed").exists()


def test_every_system_error_derives_from_gee_error() -> None:
    bases = {
        "web": "WebError",
        "kv": "KVError",
        "cache": "CacheError",
        "rpc": "RPCError",
        "orm": "ORMError",
    }
    found = 0
    for info in pkgutil.iter_modules(gee.__path__):
        if info.name in bases:
            module = importlib.import_module(f"gee.{info.name}")
            base = getattr(module, bases[info.name])
            assert issubclass(base, GeeError), f"{base} does not derive from GeeError"
            found += 1
    assert found >= 1
