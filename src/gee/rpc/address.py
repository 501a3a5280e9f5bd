"""Addresses as GeeRPC spells them: ``tcp@host:port``, ``unix@/path``, ``http@host:port``.

``http@`` is TCP plus an HTTP CONNECT before the handshake, so RPC can share a port with a
web page. A bare ``host:port`` means ``tcp@host:port``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gee.rpc.errors import RPCError

__all__ = ["SCHEMES", "Address", "parse_address"]

SCHEMES = ("tcp", "unix", "http")


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address. ``host``/``port`` are set for tcp and http, ``path`` for unix."""

    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix@{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}@{host}:{self.port}"


def parse_address(text: str) -> Address:
    """Parse ``text``; RPCError says what a well-formed address looks like."""
    scheme, sep, rest = text.partition("@")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in SCHEMES:
        raise RPCError(f"rpc: unknown scheme {scheme!r} in {text!r}; want one of {SCHEMES}")
    if scheme == "unix":
        if not rest:
            raise RPCError(f"rpc: {text!r} has no socket path; want unix@/path/to.sock")
        return Address("unix", path=rest)
    host, colon, port = rest.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise RPCError(f"rpc: {text!r} has no valid port; want {scheme}@host:port")
    host = host.removeprefix("[").removesuffix("]")
    return Address(scheme, host or "127.0.0.1", int(port))
