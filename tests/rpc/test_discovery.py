"""Discoveries named by one configuration string."""

from __future__ import annotations

import gee.rpc
from gee.rpc.discovery import StaticDiscovery, discover
from gee.rpc.etcd import EtcdDiscovery
from gee.rpc.registry import RegistryDiscovery


async def test_static_list() -> None:
    d = discover("tcp@127.0.0.1:1, tcp@127.0.0.1:2")
    assert isinstance(d, StaticDiscovery)
    assert await d.servers() == ["tcp@127.0.0.1:1", "tcp@127.0.0.1:2"]
    d.update([])
    assert await d.servers() == []
    assert isinstance(d, gee.rpc.Discovery)


def test_registry_and_etcd_urls() -> None:
    reg = discover("http://127.0.0.1:9999/_geerpc_/registry")
    assert isinstance(reg, RegistryDiscovery)
    assert reg.url == "http://127.0.0.1:9999/_geerpc_/registry"
    etcd = discover("etcd://127.0.0.1:2379/my/services/")
    assert isinstance(etcd, EtcdDiscovery)
    assert (etcd.url, etcd.prefix) == ("http://127.0.0.1:2379", "/my/services/")
    default = discover("etcd://127.0.0.1:2379")
    assert isinstance(default, EtcdDiscovery)
    assert default.prefix == "/geerpc/servers/"
