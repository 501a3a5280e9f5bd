"""gee: a web framework, a distributed cache, an ORM, RPC and a Redis-compatible server.

Each system lives in its own subpackage (``gee.web``, ``gee.kv``, ...) and is imported from there;
this top-level package only carries the version and the common exception base.
"""

from gee.errors import GeeError

__version__ = "0.1.0"

__all__ = ["GeeError", "__version__"]
