"""The real-server fixtures work: each one is used for a real exchange with its program."""

from __future__ import annotations

import base64
import socket
import subprocess
import uuid
from typing import BinaryIO

import pytest

from tests.servers import (
    GoBuilder,
    RunningServer,
    b64,
    etcd_request,
    mariadb_query,
    postgres_query,
)


def _redis_call(sock: socket.socket, reader: BinaryIO, *args: str) -> bytes | None:
    """Send one RESP command and read its (simple, integer or bulk) reply."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    sock.sendall(b"".join(parts))
    line = reader.readline()
    kind, body = line[:1], line[1:-2]
    if kind == b"-":
        raise AssertionError(f"redis error: {body!r}")
    if kind in (b"+", b":"):
        return body
    assert kind == b"$", line
    size = int(body)
    if size < 0:
        return None
    data = reader.read(size + 2)
    return data[:-2]


@pytest.mark.redis
def test_redis_server_answers_ping_set_get(redis_server: RunningServer) -> None:
    with (
        socket.create_connection(redis_server.address, timeout=5) as sock,
        sock.makefile("rb") as reader,
    ):
        assert _redis_call(sock, reader, "PING") == b"PONG"
        assert _redis_call(sock, reader, "SET", "greeting", "héllo") == b"OK"
        assert _redis_call(sock, reader, "GET", "greeting") == "héllo".encode()
        assert _redis_call(sock, reader, "GET", "missing") is None


@pytest.mark.postgres
def test_postgres_server_runs_queries(postgres_server: RunningServer) -> None:
    port = postgres_server.port
    assert postgres_server.extra["dsn"] == f"postgresql://postgres@127.0.0.1:{port}/postgres"
    assert postgres_query(postgres_server, "SELECT 1") == "1"
    assert postgres_query(postgres_server, "SHOW server_version").startswith("15.")
    table = f"t_{uuid.uuid4().hex[:8]}"  # the cluster is shared by the session
    postgres_query(postgres_server, f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
    postgres_query(postgres_server, f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
    assert postgres_query(postgres_server, f"SELECT name FROM {table} ORDER BY id") == "one\ntwo"


@pytest.mark.mariadb
def test_mariadb_server_runs_queries(mariadb_server: RunningServer) -> None:
    assert mariadb_server.extra["dsn"] == f"mysql://root@127.0.0.1:{mariadb_server.port}/"
    assert "MariaDB" in mariadb_query(mariadb_server, "SELECT VERSION()")
    table = f"t_{uuid.uuid4().hex[:8]}"
    mariadb_query(mariadb_server, f"CREATE TABLE {table} (id INT PRIMARY KEY)", "gee_test")
    mariadb_query(mariadb_server, f"INSERT INTO {table} VALUES (7), (8)", "gee_test")
    assert mariadb_query(mariadb_server, f"SELECT SUM(id) FROM {table}", "gee_test") == "15"


@pytest.mark.etcd
def test_etcd_server_puts_and_ranges(etcd_server: RunningServer) -> None:
    key = f"gee-test/{uuid.uuid4().hex}"
    put = etcd_request(etcd_server, "/v3/kv/put", {"key": b64(key), "value": b64("v1")})
    assert "header" in put
    got = etcd_request(etcd_server, "/v3/kv/range", {"key": b64(key)})
    kvs = got["kvs"]
    assert isinstance(kvs, list)
    assert len(kvs) == 1
    assert base64.b64decode(kvs[0]["key"]).decode() == key
    assert base64.b64decode(kvs[0]["value"]) == b"v1"
    miss = etcd_request(etcd_server, "/v3/kv/range", {"key": b64(key + "/nope")})
    assert "kvs" not in miss  # the gateway omits empty fields


HELLO_GO = """\
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("hello from go, %s\\n", os.Args[1])
}
"""

GROUPCACHE_GO = """\
package main

import (
	"context"
	"fmt"

	"github.com/golang/groupcache"
)

func main() {
	g := groupcache.NewGroup("g", 1<<20, groupcache.GetterFunc(
		func(_ context.Context, key string, dest groupcache.Sink) error {
			return dest.SetString("v:" + key)
		}))
	var s string
	if err := g.Get(context.Background(), "k", groupcache.StringSink(&s)); err != nil {
		panic(err)
	}
	fmt.Println(s)
}
"""


def _run(binary: object, *args: str) -> str:
    done = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


@pytest.mark.go
def test_go_build_builds_a_stdlib_program(go_build: GoBuilder) -> None:
    binary = go_build({"main.go": HELLO_GO}, name="hello")
    assert _run(binary, "gee") == "hello from go, gee\n"
    assert go_build({"main.go": HELLO_GO}, name="hello") == binary  # memoised


@pytest.mark.go
def test_go_build_gopath_mode_finds_debian_groupcache(go_build: GoBuilder) -> None:
    binary = go_build({"main.go": GROUPCACHE_GO}, gopath=True, name="gc")
    assert _run(binary) == "v:k\n"
