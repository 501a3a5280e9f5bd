"""WebSocket: the handler's side of one ASGI websocket connection.

A websocket handler is ``async def ws(sock: WebSocket)``: ``await sock.accept()``, then
``receive_text/bytes/json`` and ``send_text/bytes/json``; ``async for msg in sock`` reads text
messages until the client closes. Leaving the handler closes the socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any

import orjson

from gee.web.errors import WebSocketDisconnect
from gee.web.response import dump_json
from gee.web.types import Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketDisconnect"]


class WebSocket:
    """One websocket connection: its route ``params``, ``path``, headers and messages."""

    __slots__ = ("_params", "_receive", "_send", "accepted", "closed", "scope")

    def __init__(self, scope: Scope, receive: Receive, send: Send, params: dict[str, str]):
        self.scope = scope
        self._params = params  # possibly the router's shared empty dict: never mutated
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False

    @property
    def path(self) -> str:
        return self.scope["path"]  # type: ignore[no-any-return]

    @property
    def params(self) -> Mapping[str, str]:
        """The route parameters, percent-decoded (read-only)."""
        return MappingProxyType(self._params)

    def param(self, name: str) -> str:
        """The route parameter ``name``."""
        return self._params[name]

    def header(self, name: str, default: str | None = None) -> str | None:
        key = name.lower().encode("latin-1")
        for k, v in self.scope["headers"]:
            if k == key:
                return v.decode("latin-1")  # type: ignore[no-any-return]
        return default

    async def accept(self, subprotocol: str | None = None) -> None:
        """Complete the handshake (waiting for the client's connect message first)."""
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise WebSocketDisconnect(1006)
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol})
        self.accepted = True

    async def _receive_message(self) -> dict[str, Any]:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebSocketDisconnect(message.get("code", 1000))
        return dict(message)

    async def receive_text(self) -> str:
        message = await self._receive_message()
        text = message.get("text")
        if text is None:
            return bytes(message.get("bytes") or b"").decode()
        return str(text)

    async def receive_bytes(self) -> bytes:
        message = await self._receive_message()
        data = message.get("bytes")
        if data is None:
            return str(message.get("text") or "").encode()
        return bytes(data)

    async def receive_json(self) -> Any:
        return orjson.loads(await self.receive_text())

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def send_json(self, obj: Any) -> None:
        await self._send({"type": "websocket.send", "text": dump_json(obj).decode()})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return
