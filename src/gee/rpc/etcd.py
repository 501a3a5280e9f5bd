"""etcd as the registry: servers hold a leased key each, clients watch the prefix.

Spoken through etcd's HTTP/JSON gateway (``/v3/...``) so no gRPC stack is needed. Layout: one
key per server, ``<prefix><address>`` with the address as value, attached to a lease the server
keeps alive. A crashed server's key goes when its lease expires (``ttl``, at least 2 s); a
graceful shutdown revokes the lease, which deletes the key at once. A discovery reads the prefix
once, then watches it from the next revision, so membership changes reach clients as soon as
etcd commits them. The gateway speaks base64 keys and values, int64s as strings, omits zero
values (a PUT event has no ``type``), and wraps streamed messages in ``{"result": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any, Final

from gee.rpc import httpclient
from gee.rpc.discovery import Watcher
from gee.rpc.errors import RPCError

if TYPE_CHECKING:
    from gee.rpc.server import Server

__all__ = ["DEFAULT_PREFIX", "EtcdAnnouncement", "EtcdDiscovery", "announce_etcd"]

log = logging.getLogger("gee.rpc.etcd")

DEFAULT_PREFIX: Final = "/geerpc/servers/"


def _b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _prefix_end(prefix: str) -> str:
    """etcd's range_end for "every key starting with prefix": the prefix with its last byte + 1."""
    raw = bytearray(prefix.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return _b64(b"\x00")
    raw[-1] += 1
    return _b64(bytes(raw))


async def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await httpclient.request("POST", url + path, json.dumps(body).encode())
    answer: dict[str, Any] = json.loads(response.body or b"{}")
    if response.status != 200:
        raise RPCError(f"rpc: etcd {path} answered {response.status}: {answer}")
    return answer


class EtcdAnnouncement:
    """A leased key in etcd, kept there until ``stop()`` revokes the lease (the key goes at once).

    ``lease`` is the current lease's ID; it changes when the lease is lost and a new one is
    taken. ``task`` is the keep-alive; cancelling it without ``stop()`` is a crash: the key
    goes when the lease expires.
    """

    def __init__(self, url: str, key: str, value: str, ttl: int) -> None:
        self.url = url
        self.key = key
        self.value = value
        self.ttl = max(ttl, 2)  # etcd's minimum
        self.lease = ""  # set by _put_on_new_lease before anyone sees the announcement
        self.task: asyncio.Task[None] | None = None

    async def _put_on_new_lease(self) -> None:
        grant = await _post(self.url, "/v3/lease/grant", {"TTL": self.ttl})
        lease = str(grant["ID"])
        body = {"key": _b64(self.key), "value": _b64(self.value), "lease": lease}
        await _post(self.url, "/v3/kv/put", body)
        # Only now: if the put failed, the old (lost) lease stays current, so the next renewal
        # fails again and retries; the orphan lease expires on its own within ttl.
        self.lease = lease

    async def _renew(self) -> bool:
        """Renew the lease once; False when etcd no longer knows it (the key went with it)."""
        # the gateway's keepalive is a stream; one request, its first answer, close
        body = json.dumps({"ID": self.lease}).encode()
        stream = httpclient.stream_lines("POST", self.url + "/v3/lease/keepalive", body)
        async with contextlib.aclosing(stream) as lines:
            async for line in lines:
                return int(json.loads(line).get("result", {}).get("TTL", 0)) > 0
        raise RPCError("rpc: etcd keepalive stream ended without an answer")

    async def _keep_alive(self) -> None:
        # A lease can be lost while this process runs: etcd unreachable for longer than ttl,
        # etcd restored from a backup, or the lease revoked by someone else. Its key went with
        # it, so the server would be gone from discovery for good; take a new lease, put again.
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                if not await self._renew():
                    log.warning("etcd: lease %s of %s lost; taking a new one", self.lease, self.key)
                    await self._put_on_new_lease()
            except (RPCError, ValueError, KeyError) as exc:
                log.warning("etcd keepalive of %s failed: %s", self.key, exc)

    async def stop(self) -> None:
        """Stop the keep-alive and revoke the lease; a second call does nothing."""
        task, self.task = self.task, None
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await _post(self.url, "/v3/lease/revoke", {"ID": self.lease})
        except RPCError as exc:
            log.warning("etcd: revoking lease %s failed: %s", self.lease, exc)


async def announce_etcd(
    server: Server | None,
    url: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    address: str | None = None,
    ttl: int = 5,
) -> EtcdAnnouncement:
    """Put an address under ``prefix`` in the etcd at ``url`` (``http://host:port``), leased.

    ``address`` None means ``server``'s first listening address. ``server`` None (``address``
    required then) means no server to follow: call ``stop()`` on the result to leave. The key
    lives on a lease of ``ttl`` seconds (etcd's minimum is 2) renewed every ttl/3; if the lease
    is ever lost, a new one is taken and the key put again. With a ``server``, the lease is
    revoked on ``server.shutdown()``. The first put happens before this returns (errors raise).
    """
    if address is None:
        if server is None:
            raise TypeError("announce_etcd: pass the Server to announce, or address=")
        if not server.addresses:
            raise RPCError("rpc: start() the server before announcing it")
        address = str(server.addresses[0])
    announcement = EtcdAnnouncement(url.rstrip("/"), prefix + address, address, ttl)
    await announcement._put_on_new_lease()
    announcement.task = asyncio.get_running_loop().create_task(announcement._keep_alive())
    if server is not None:
        server.on_shutdown.append(announcement.stop)
    return announcement


class EtcdDiscovery:
    """Servers listed under ``prefix`` in the etcd at ``url``, kept fresh by a watch."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, retry: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.prefix = prefix
        self.retry = retry
        self._members: dict[str, str] = {}  # key -> address; event loop only
        self._servers: list[str] = []
        self._watcher = Watcher(self._load, self._watch)

    async def servers(self) -> list[str]:
        await self._watcher.ready()
        return self._servers

    async def _load(self) -> int:
        answer = await _post(
            self.url,
            "/v3/kv/range",
            {"key": _b64(self.prefix), "range_end": _prefix_end(self.prefix)},
        )
        self._members = {
            base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
            for kv in answer.get("kvs", [])
        }
        self._publish()
        return int(answer["header"]["revision"])

    def _publish(self) -> None:
        self._servers = sorted(self._members.values())

    async def _watch(self, revision: int) -> None:
        while True:
            request = {
                "create_request": {
                    "key": _b64(self.prefix),
                    "range_end": _prefix_end(self.prefix),
                    "start_revision": str(revision + 1),
                }
            }
            try:
                body = json.dumps(request).encode()
                stream = httpclient.stream_lines("POST", self.url + "/v3/watch", body)
                async with contextlib.aclosing(stream) as lines:
                    async for line in lines:
                        revision = self._apply(json.loads(line).get("result", {}), revision)
            except (RPCError, ValueError, KeyError) as exc:
                log.warning("etcd watch of %s failed: %s", self.prefix, exc)
            await asyncio.sleep(self.retry)
            with contextlib.suppress(RPCError, ValueError, KeyError):
                revision = await self._load()  # catch up on anything missed while away

    def _apply(self, result: dict[str, Any], revision: int) -> int:
        """Apply one watch message's events; return the newest revision seen."""
        events = result.get("events", [])
        for event in events:
            kv = event["kv"]
            key = base64.b64decode(kv["key"]).decode()
            if event.get("type") == "DELETE":
                self._members.pop(key, None)
            else:
                self._members[key] = base64.b64decode(kv.get("value", "")).decode()
            revision = max(revision, int(kv.get("mod_revision", revision)))
        if events:
            self._publish()
        return revision

    async def close(self) -> None:
        await self._watcher.close()
