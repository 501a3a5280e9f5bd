"""Serving with uvicorn: what ``app.run()`` and ``gee web`` share.

uvicorn configures logging for its own loggers only, so the ``gee.web`` loggers (the logger()
middleware's access lines, tracebacks of 500s) would otherwise go nowhere visible. Here they get
uvicorn's console handler and the same level, so one ``--log-level`` governs both.
"""

from __future__ import annotations

import copy
from typing import Any


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging configuration plus the ``gee.web`` loggers at ``level``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["gee.web"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(app: Any, **options: Any) -> None:
    """``uvicorn.run(app, **options)`` with the gee.web loggers wired to uvicorn's console."""
    import uvicorn

    options.setdefault("log_config", log_config(str(options.get("log_level") or "info")))
    uvicorn.run(app, **options)
