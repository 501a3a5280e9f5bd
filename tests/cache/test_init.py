"""The public API of gee.cache: a sorted, complete ``__all__``."""

from __future__ import annotations

import gee.cache
from gee.errors import GeeError


def test_all_is_sorted_and_complete() -> None:
    assert gee.cache.__all__ == sorted(gee.cache.__all__), "__all__ is not sorted"
    missing = [name for name in gee.cache.__all__ if not hasattr(gee.cache, name)]
    assert missing == [], f"got missing names {missing}; want none"


def test_errors_share_one_base() -> None:
    for name in ("GetterError", "GroupExistsError", "NoSuchGroupError", "PeerError"):
        error = getattr(gee.cache, name)
        assert issubclass(error, gee.cache.CacheError), f"{name} is not a CacheError"
    assert issubclass(gee.cache.CacheError, GeeError)


def test_every_name_has_a_home() -> None:
    assert sorted(gee.cache._HOMES) == gee.cache.__all__
