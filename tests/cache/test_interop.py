"""A mixed cluster: a Go groupcache node (built here from Debian's groupcache) and gee nodes.

Both implementations must agree on every key's owner, escape keys so the owner loads the key
that was asked for, and read each other's protobuf bodies.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest

from gee.cache import HashRing
from gee.cache.http import escape, unescape
from tests.cache.cluster import cluster
from tests.servers import (
    GoBuilder,
    free_port,
    free_ports,
    port_open,
    start_process,
    stop_process,
    wait_for,
)

pytestmark = pytest.mark.go

# The Go groupcache node, shared with bench/cache: the pool is the handler for its own paths
# (not behind http.ServeMux, which would answer 301 to keys like "a//b"); /get asks the cluster
# through this node and /loads reports, per key, how often its getter ran.
GO_NODE = (
    Path(__file__).resolve().parents[2] / "bench" / "cache" / "groupcache_node.go"
).read_text()


def utf8(key: str) -> bytes:
    """The bytes a key stands for (surrogate escapes are the raw bytes they were decoded from)."""
    return key.encode("utf-8", "surrogateescape")


def interop_keys() -> list[str]:
    """1,000 keys: ASCII, spaces, slashes, percent signs, pluses, UTF-8, other bytes, and ""."""
    shapes = [
        "user{}",
        "two words {}",
        "a/b/{}",
        "//lead{}",
        "100%{}",
        "%{}%41",
        "plus+{}",
        "ключ-{}",
        "日本{}",
        "./dot{}/..",
        "?q={}&x#y",
        " {} ",
        "\udcff\udcfe{}",  # the bytes FF FE: not UTF-8, and a key all the same
    ]
    keys = [shapes[i % len(shapes)].format(i) for i in range(999)]
    return ["", *keys]


@pytest.fixture(scope="module")
def go_node_binary(go_build: GoBuilder) -> Path:
    return go_build({"main.go": GO_NODE}, gopath=True, name="groupcache-node")


@contextmanager
def go_node(binary: Path, tmp: Path, port: int, peers: list[str]) -> Iterator[str]:
    """Run the Go node on ``port`` with ``peers`` until the block ends; yield its URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    argv = [str(binary), "-addr", f"127.0.0.1:{port}", "-self", url, "-peers", ",".join(peers)]
    proc = start_process(argv, tmp, tmp / "go-node.log")

    def ours() -> bool:
        # Listening is not enough: another program may hold the port (then ours exits).
        if proc.poll() is not None:
            raise RuntimeError(f"the Go node exited: {(tmp / 'go-node.log').read_text()}")
        if not port_open(port):
            return False
        try:
            with httpx.Client(timeout=2) as client:
                return client.get(f"{url}/pid").text == str(proc.pid)
        except httpx.HTTPError:
            return False

    try:
        wait_for(ours, what="Go groupcache node")
        yield url
    finally:
        stop_process(proc)


async def test_mixed_cluster_agrees_on_owners_and_values(
    go_node_binary: Path, tmp_path: Path
) -> None:
    keys = interop_keys()
    go_port = free_port()
    go_url = f"http://127.0.0.1:{go_port}"
    async with cluster(2, other_peers=(go_url,), hot_cache_chance=0.0) as nodes:
        peers = [*(n.url for n in nodes), go_url]
        with go_node(go_node_binary, tmp_path, go_port, peers):
            async with httpx.AsyncClient(timeout=10) as client:
                limit = asyncio.Semaphore(32)

                async def via_go(key: str) -> bytes:
                    async with limit:
                        response = await client.get(f"{go_url}/get?key={quote_plus(utf8(key))}")
                    assert response.status_code == 200, f"Go get({key!r}): {response.text}"
                    return response.content

                async def via_gee(index: int, key: str) -> bytes:
                    async with limit:
                        return await nodes[index].group.get(key)

                for asker in ("gee0", "go", "gee1"):
                    if asker == "go":
                        got = await asyncio.gather(*(via_go(k) for k in keys))
                    else:
                        index = int(asker[-1])
                        got = await asyncio.gather(*(via_gee(index, k) for k in keys))
                    wrong = [
                        (k, v) for k, v in zip(keys, got, strict=True) if v != utf8(f"value-of-{k}")
                    ]
                    assert wrong == [], (
                        f"asked through {asker}: {len(wrong)} wrong, e.g. {wrong[:3]}"
                    )
                go_loads: dict[str, int] = (await client.get(f"{go_url}/loads")).json()

        ring = nodes[0].pool.ring
        loaded: dict[str, list[str]] = {k: [] for k in keys}
        for node in nodes:
            for key in node.calls:
                loaded.setdefault(key, []).append(node.url)
        # Go's JSON writes each byte that is not UTF-8 as U+FFFD, as Python's "replace" does.
        by_json = {utf8(k).decode("utf-8", "replace"): k for k in keys}
        for key, count in go_loads.items():
            loaded.setdefault(by_json.get(key, key), []).extend([go_url] * count)
        wrong_owner = {k: v for k, v in loaded.items() if v != [ring.owner(k)]}
        assert wrong_owner == {}, (
            f"{len(wrong_owner)} keys not loaded exactly once on their owner, e.g. "
            f"{json.dumps(dict(list(wrong_owner.items())[:5]), ensure_ascii=False)}"
        )
        owners = {ring.owner(k) for k in keys}
        assert owners == set(peers), f"got owners {owners}; want every node to own some keys"
        for node in nodes:
            assert node.group.stats.peer_errors == 0, f"{node.url}: {node.group.stats}"


QUERY_ESCAPE_GO = """\
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
)

// Reads one hex-encoded string per line; prints url.QueryEscape of each, one per line.
func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		s, err := hex.DecodeString(in.Text())
		if err != nil {
			panic(err)
		}
		fmt.Println(url.QueryEscape(string(s)))
	}
}
"""


def test_escape_matches_go_query_escape_but_for_the_space(go_build: GoBuilder) -> None:
    binary = go_build({"main.go": QUERY_ESCAPE_GO}, name="query-escape")
    texts = [*interop_keys()[:60], "".join(chr(c) for c in range(32, 127)), "é€😀", "\x00\x01\x7f"]
    lines = "".join(utf8(t).hex() + "\n" for t in texts)
    done = subprocess.run(
        [str(binary)], input=lines, capture_output=True, text=True, timeout=30, check=True
    )
    go = done.stdout.split("\n")[: len(texts)]
    for text, want in zip(texts, go, strict=True):
        got = escape(text).replace("%20", "+")
        assert got == want, f"escape({text!r}) with %20 as '+': got {got!r}; Go says {want!r}"
        assert unescape(want) == text, f"unescape({want!r}): got {unescape(want)!r}; want {text!r}"


async def test_go_alone_loads_the_wrong_key_for_a_space(
    go_node_binary: Path, tmp_path: Path
) -> None:
    """Why gee sends %20: between two Go nodes, 'a b' is loaded on the owner as 'a+b'."""
    ports = free_ports(2)
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    ring = HashRing.of(urls)
    # Both spellings must be node 1's: the Go owner looks the mis-decoded 'a+b' key up again,
    # and would forward it to node 0 if node 0 owned that spelling.
    key = next(
        f"a b{i}"
        for i in range(1000)
        if ring.owner(f"a b{i}") == urls[1] and ring.owner(f"a+b{i}") == urls[1]
    )
    with (
        go_node(go_node_binary, tmp_path / "0", ports[0], urls),
        go_node(go_node_binary, tmp_path / "1", ports[1], urls),
    ):
        async with httpx.AsyncClient(timeout=10) as client:
            got = (await client.get(f"{urls[0]}/get", params={"key": key})).content
            loads = (await client.get(f"{urls[1]}/loads")).json()
    wrong = f"value-of-{key.replace(' ', '+')}".encode()
    assert got == wrong, f"got {got!r}; groupcache's known answer is {wrong!r}"
    assert loads == {key.replace(" ", "+"): 1}, f"got the owner's loads {loads}"
