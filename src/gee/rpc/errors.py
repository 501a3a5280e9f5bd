"""Exceptions of gee.rpc.

::

    GeeError
     └── RPCError                 anything gee.rpc raises on purpose
          ├── ServiceError        register() refused an object or a method (set-up time)
          ├── ProtocolError       the peer broke the wire protocol (bad handshake, bad frame)
          │    └── FrameTooLargeError  a frame over the size limit, refused before allocation
          ├── RemoteError         the server answered the call with an error string
          ├── CallTimeoutError    no reply within the call's timeout (also a TimeoutError)
          └── RPCConnectionError  could not connect, or the connection was lost mid-call
                                  (also a ConnectionError)

Socket errors are translated into ``RPCConnectionError`` where they enter gee.rpc; the original
is its ``__cause__``.
"""

from __future__ import annotations

from gee.errors import GeeError

__all__ = [
    "CallTimeoutError",
    "FrameTooLargeError",
    "ProtocolError",
    "RPCConnectionError",
    "RPCError",
    "RemoteError",
    "ServiceError",
]


class RPCError(GeeError):
    """Base of every exception gee.rpc raises on purpose."""


class ServiceError(RPCError, TypeError):
    """An object or method cannot be served; the message names each misfit and why."""


class ProtocolError(RPCError):
    """The peer sent bytes that are not gee's protocol (or not JSON-RPC, on that codec)."""


class FrameTooLargeError(ProtocolError):
    """A frame is longer than the receiver's limit; it is refused before any allocation."""


class RemoteError(RPCError):
    """The server answered with an error; ``message`` is its text, exactly as sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallTimeoutError(RPCError, TimeoutError):
    """A call got no reply within its timeout; a late reply is dropped."""


class RPCConnectionError(RPCError, ConnectionError):
    """Connecting failed, or the connection closed while calls were pending."""
