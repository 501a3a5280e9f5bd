"""Exceptions of gee.cache.

::

    GeeError
     └── CacheError             anything gee.cache raises on purpose
          ├── GroupExistsError  a second Group with a name already registered (set-up time)
          ├── NoSuchGroupError  get_group() or a peer request named an unknown group
          ├── GetterError       the getter failed; the original exception is ``__cause__``
          └── PeerError         a peer could not answer (connection, timeout, status, body);
                                the group counts it in ``peer_errors`` and loads locally
"""

from __future__ import annotations

from gee.errors import GeeError

__all__ = ["CacheError", "GetterError", "GroupExistsError", "NoSuchGroupError", "PeerError"]


class CacheError(GeeError):
    """Base of every exception gee.cache raises on purpose."""


class GroupExistsError(CacheError):
    """A Group was created with a name that is already registered in this process."""


class NoSuchGroupError(CacheError, LookupError):
    """No Group of that name is registered in this process."""


class GetterError(CacheError):
    """The group's getter raised while loading a key; ``__cause__`` holds what it raised.

    ``str()`` of it is the getter's own message, which a peer answers as a 500 body, as Go does.
    """


class PeerError(CacheError):
    """A peer could not answer a get: connection refused or reset, timeout, non-200, bad body."""
