"""The root of every exception gee raises.

Each system has one base of its own under this one::

    GeeError
     ├── WebError   (gee.web)
     ├── KVError    (gee.kv)
     ├── CacheError (gee.cache)
     ├── RPCError   (gee.rpc)
     └── ORMError   (gee.orm)

Catching ``GeeError`` catches everything gee raises on purpose; bugs stay ordinary exceptions.
"""


class GeeError(Exception):
    """Base of every exception gee raises on purpose."""
