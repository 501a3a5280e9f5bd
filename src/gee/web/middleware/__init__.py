"""Built-in middleware: each is a factory returning ``async def mw(c)`` for ``use()``."""

from gee.web.middleware.access_log import logger
from gee.web.middleware.compression import gzip
from gee.web.middleware.cross_origin import cors
from gee.web.middleware.limits import body_limit
from gee.web.middleware.recover import recovery
from gee.web.middleware.static_files import static

__all__ = ["body_limit", "cors", "gzip", "logger", "recovery", "static"]
