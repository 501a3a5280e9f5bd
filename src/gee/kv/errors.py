"""The exceptions gee.kv raises.

::

    GeeError
     └── KVError            anything gee.kv raises on purpose
          ├── ConfigError   a bad option on the command line or in the config file
          ├── RDBError      an RDB file or DUMP payload that cannot be read (names the problem)
          ├── AOFError      an append-only file that cannot be replayed (names the offset)
          └── CommandError  a command's error reply (its text is what the client sees)

``CommandError`` is control flow inside the server: the dispatcher turns it into a ``-ERR ...``
reply and keeps serving. It never escapes to callers of the public API.
"""

from __future__ import annotations

from gee.errors import GeeError


class KVError(GeeError):
    """Base of every exception gee.kv raises on purpose."""


class ConfigError(KVError):
    """A configuration option is unknown or has a bad value; the message names it."""


class RDBError(KVError):
    """An RDB file or DUMP payload is malformed, truncated, or fails its CRC64 check."""


class AOFError(KVError):
    """The append-only file cannot be replayed; the message names the offset."""


class CommandError(KVError):
    """An error reply: ``str(exc)`` is the reply text without the leading ``-`` (``ERR ...``)."""
