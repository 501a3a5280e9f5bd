"""Type aliases shared by gee.web: the ASGI shapes and the handler shape.

A *handler* and a *middleware* have the same shape: a callable that takes the
:class:`~gee.web.context.Context`. ``async def`` ones are awaited on the event loop; plain
``def`` ones run in a worker thread so that they cannot block it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from gee.web.context import Context
    from gee.web.websocket import WebSocket

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

# What users register: ``async def h(c) -> ...`` or ``def h(c) -> ...``. The return value of a
# route handler may be None, str, bytes, dict, list or a Response; a middleware's is ignored.
Handler: TypeAlias = Callable[["Context"], Any]
# A handler adapted once, at registration, into one uniform awaitable step of a chain.
Step: TypeAlias = Callable[["Context"], Awaitable[None]]
WebSocketHandler: TypeAlias = Callable[["WebSocket"], Awaitable[None]]
Hook: TypeAlias = Callable[[], Any]
