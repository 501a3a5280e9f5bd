"""Fixtures that start real programs on free loopback ports in temp dirs, and stop them.

Each fixture waits until its program answers (a real query, not just an open port) before
handing it over, and stops only the process it started, by PID, in a ``finally``: a failing test
or a failed start-up leaves no process behind. Tests that use one carry the matching marker (see
conftest).

Scopes: ``redis_server`` is fresh for each test (it starts in milliseconds). ``postgres_server``,
``mariadb_server`` and ``etcd_server`` start once per session (once per xdist worker) because they
take a second or two; tests sharing them must use their own table, database or key names.
``go_build`` is a session-wide factory that builds Go programs offline and memoises the binaries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = [
    "GoBuilder",
    "RunningServer",
    "b64",
    "etcd_request",
    "etcd_server",
    "free_port",
    "free_ports",
    "go_build",
    "mariadb_query",
    "mariadb_server",
    "postgres_query",
    "postgres_server",
    "redis_server",
    "start_process",
    "stop_process",
    "wait_for",
]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "server") -> None:
    """Poll ``check`` until it returns True; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not answer within {timeout}s (last error: {last!r})")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class RunningServer:
    """A program started by a fixture: where it listens and how to reach its files."""

    host: str
    port: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


def start_process(
    argv: list[str],
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output in ``log``; the caller stops it with ``stop_process``.

    The child leads a new session, so its process group id is its PID and ``stop_process`` can
    take down any helpers it forked. ``user`` (root only) runs it as that user, still as our
    direct child: the PID we hold is the server's own.
    """
    out = open(log, "wb")  # noqa: SIM115  (closed by the child's exit; Popen dups it)
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            user=user,
            group=user,
        )
    finally:
        out.close()


def stop_process(
    proc: subprocess.Popen[bytes], timeout: float = 10.0, sig: int = signal.SIGTERM
) -> None:
    """Stop a process we started (by PID) with ``sig``; kill its process group if it lingers.

    The group is killed while its leader is still unreaped, so its id cannot have been reused.
    """
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                proc.kill()
            proc.wait(timeout)


def free_ports(n: int) -> list[int]:
    """Return ``n`` distinct free ports (all held open together while they are picked)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def environ_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env


class ServerDied(RuntimeError):
    """A server exited while we waited for it to answer."""


def _port_clash(exc: ServerDied) -> bool:
    text = str(exc).lower()
    return "in use" in text or ("already" in text and "bind" in text)


def _run(
    argv: list[str],
    *,
    what: str,
    user: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> str:
    """Run a short command to completion; raise with its output when it fails."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        user=user,
        group=user,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def _program(name: str, *fallbacks: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for path in fallbacks:
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(name)


def _launch(
    what: str,
    start: Callable[[], RunningServer],
    ready: Callable[[RunningServer], bool],
    *,
    sig: int = signal.SIGTERM,
    attempts: int = 3,
    timeout: float = 30.0,
) -> RunningServer:
    """Start a server with ``start`` and wait until ``ready`` says it answers.

    ``start`` picks fresh ports each time and returns the server with its log in
    ``extra["log"]``. A server that dies because another process took its port between
    ``free_port`` and its bind is started again; any other failure stops it (by PID) and raises.
    """
    for attempt in range(attempts):
        server = start()
        assert server.proc is not None
        try:
            _wait_ready(server, what, ready, timeout)
            return server
        except ServerDied as exc:
            stop_process(server.proc, sig=sig)
            if attempt + 1 < attempts and _port_clash(exc):
                continue
            raise
        except BaseException:
            stop_process(server.proc, sig=sig)
            raise
    raise AssertionError("unreachable")


def _wait_ready(
    server: RunningServer, what: str, ready: Callable[[RunningServer], bool], timeout: float
) -> None:
    proc, log = server.proc, server.extra["log"]
    assert proc is not None
    assert isinstance(log, Path)

    def check() -> bool:
        if proc.poll() is not None:
            raise ServerDied(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        return ready(server)

    try:
        wait_for(check, timeout=timeout, what=what)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; its log ends:\n{_tail(log)}") from None


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- redis-server


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    """True when a RESP ``PING`` on ``host:port`` gets ``+PONG``."""
    with socket.create_connection((host, port), timeout=1) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        return s.recv(64) == b"+PONG\r\n"


def launch_redis(workdir: Path, *extra: str) -> RunningServer:
    """Start a redis-server (the oracle for gee.kv) with no persistence on a free port.

    Ready once it answers ``PING``; the caller must stop ``server.proc``.
    """
    exe = _program("redis-server")

    def start() -> RunningServer:
        port = free_port()
        log = workdir / "redis.log"
        argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        argv += ["no", "--dir", str(workdir), "--enable-debug-command", "yes", *extra]
        server = RunningServer("127.0.0.1", port, workdir, start_process(argv, workdir, log))
        server.extra["log"] = log
        return server

    return _launch("redis-server", start, lambda server: redis_ping(server.port))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A real redis-server on a free loopback port, fresh for each test."""
    server = launch_redis(tmp_path)
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)


# ---------------------------------------------------------------- PostgreSQL 15

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pg_user() -> str | None:
    """The user to run initdb/postgres as: ``postgres`` when we are root (both refuse root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and there is no postgres user to run initdb") from None
    return "postgres"


def postgres_query(server: RunningServer, sql: str, database: str = "postgres") -> str:
    """Run ``sql`` through psql against ``server``; return the unaligned, tuples-only output."""
    argv = [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    argv += ["-h", server.host, "-p", str(server.port), "-U", "postgres", "-d", database]
    return _run([*argv, "-c", sql], what="psql", env=environ_with(PGCONNECT_TIMEOUT="5")).strip()


def launch_postgres() -> RunningServer:
    """initdb a fresh cluster in a new temp dir and start postgres on a free port.

    As root, the dir is owned by ``postgres`` with mode 700 and the server runs as that user, as
    our own child (not daemonised by pg_ctl), so it is stopped by PID; the caller must stop it
    with SIGINT (a fast shutdown) and remove ``server.dir``. The cluster trusts local connections
    (no password) and does not fsync.
    """
    user = _pg_user()
    workdir = Path(tempfile.mkdtemp(prefix="gee-pg-"))
    try:
        if user is not None:
            shutil.chown(workdir, user, user)
        workdir.chmod(0o700)
        data = workdir / "data"
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        initdb += ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        _run(initdb, what="initdb", user=user, cwd=workdir)

        def start() -> RunningServer:
            port = free_port()
            log = workdir / "postgres.log"
            argv = [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir)]
            for setting in (
                "listen_addresses=127.0.0.1",
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ):
                argv += ["-c", setting]
            proc = start_process(argv, workdir, log, user=user)
            server = RunningServer("127.0.0.1", port, workdir, proc)
            server.extra.update(log=log, bin=PG_BIN, socket_dir=workdir)
            server.extra["dsn"] = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            return server

        def ready(server: RunningServer) -> bool:
            try:
                return postgres_query(server, "SELECT 1") == "1"
            except (RuntimeError, subprocess.TimeoutExpired):
                return False

        return _launch("postgres", start, ready, sig=signal.SIGINT)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[RunningServer]:
    """A real PostgreSQL 15 on a free loopback port, one per session (per xdist worker).

    ``.extra["dsn"]`` is ``postgresql://postgres@127.0.0.1:PORT/postgres`` (trust auth, no
    password); ``postgres_query(server, sql)`` runs SQL through psql. Tests share the cluster:
    use your own table or database names.
    """
    server = launch_postgres()
    try:
        yield server
    finally:
        assert server.proc is not None
        try:
            stop_process(server.proc, sig=signal.SIGINT)  # SIGINT = "fast" shutdown
        finally:
            shutil.rmtree(server.dir, ignore_errors=True)


# ---------------------------------------------------------------- MariaDB 10.11


def mariadb_query(server: RunningServer, sql: str, database: str | None = None) -> str:
    """Run ``sql`` through the mariadb client over TCP; return the tab-separated rows."""
    argv = [_program("mariadb", "/usr/bin/mariadb"), "--no-defaults", "--protocol=TCP"]
    argv += ["-h", server.host, "-P", str(server.port), "-uroot", "-N", "-B"]
    argv += ["--connect-timeout=5"]
    if database is not None:
        argv += ["-D", database]
    return _run([*argv, "-e", sql], what="mariadb").strip()


def launch_mariadb() -> RunningServer:
    """mariadb-install-db into a new temp dir and start mariadbd on a free port.

    User ``root`` with an empty password over TCP; a database ``gee_test`` exists. The caller
    must stop ``server.proc`` and remove ``server.dir``.
    """
    mariadbd = _program("mariadbd", "/usr/sbin/mariadbd")
    install_db = _program("mariadb-install-db", "/usr/bin/mariadb-install-db")
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    small = ["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"]
    workdir = Path(tempfile.mkdtemp(prefix="gee-my-"))
    try:
        data = workdir / "data"
        install = [install_db, "--no-defaults", f"--datadir={data}", *as_root]
        install += ["--auth-root-authentication-method=normal", "--skip-test-db", *small]
        _run(install, what="mariadb-install-db", cwd=workdir, timeout=120)

        def start() -> RunningServer:
            port = free_port()
            log = workdir / "mariadbd.log"
            argv = [mariadbd, "--no-defaults", f"--datadir={data}", *as_root, f"--port={port}"]
            argv += ["--bind-address=127.0.0.1", f"--socket={workdir / 'sock'}"]
            argv += [f"--pid-file={workdir / 'pid'}", "--skip-name-resolve", *small]
            proc = start_process(argv, workdir, log)
            server = RunningServer("127.0.0.1", port, workdir, proc)
            server.extra.update(log=log, database="gee_test")
            server.extra["dsn"] = f"mysql://root@127.0.0.1:{port}/"
            return server

        def ready(server: RunningServer) -> bool:
            try:
                return mariadb_query(server, "SELECT 1") == "1"
            except (RuntimeError, subprocess.TimeoutExpired):
                return False

        server = _launch("mariadbd", start, ready)
        assert server.proc is not None
        try:
            mariadb_query(server, "CREATE DATABASE gee_test")
        except BaseException:
            stop_process(server.proc)
            raise
        return server
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[RunningServer]:
    """A real MariaDB on a free loopback port, one per session (per xdist worker).

    ``.extra["dsn"]`` is ``mysql://root@127.0.0.1:PORT/`` (no password) and a database
    ``gee_test`` exists; ``mariadb_query(server, sql)`` runs SQL through the CLI client. Tests
    share the server: use your own table names.
    """
    server = launch_mariadb()
    try:
        yield server
    finally:
        assert server.proc is not None
        try:
            stop_process(server.proc)
        finally:
            shutil.rmtree(server.dir, ignore_errors=True)


# ---------------------------------------------------------------- etcd 3.4

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def etcd_request(
    server: RunningServer, path: str, body: dict[str, object] | None = None, timeout: float = 5.0
) -> dict[str, object]:
    """GET ``path`` (no body) or POST ``body`` as JSON to etcd's gateway; return the JSON answer.

    Keys and values in the v3 gateway are base64: see ``b64``. For example
    ``etcd_request(s, "/v3/kv/put", {"key": b64("k"), "value": b64("v")})``.
    """
    url = f"http://{server.host}:{server.port}{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with _NO_PROXY.open(request, timeout=timeout) as response:
        answer: dict[str, object] = json.loads(response.read())
    return answer


def b64(text: str | bytes) -> str:
    """Base64 for etcd's JSON gateway."""
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def launch_etcd() -> RunningServer:
    """Start a single-member etcd in a new temp dir with client, peer and metrics on free ports.

    The caller must stop ``server.proc`` and remove ``server.dir``.
    """
    etcd = _program("etcd")
    workdir = Path(tempfile.mkdtemp(prefix="gee-etcd-"))

    def start() -> RunningServer:
        client, peer, metrics = free_ports(3)
        log = workdir / "etcd.log"
        c, p = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        data = tempfile.mkdtemp(prefix="data-", dir=workdir)  # fresh for each try
        argv = [etcd, "--name", "n1", "--data-dir", data]
        argv += ["--listen-client-urls", c, "--advertise-client-urls", c]
        argv += ["--listen-peer-urls", p, "--initial-advertise-peer-urls", p]
        argv += ["--initial-cluster", f"n1={p}", "--initial-cluster-state", "new"]
        argv += ["--listen-metrics-urls", f"http://127.0.0.1:{metrics}"]
        argv += ["--logger", "zap", "--log-outputs", "stderr"]
        proc = start_process(argv, workdir, log)
        server = RunningServer("127.0.0.1", client, workdir, proc)
        server.extra.update(log=log, url=c, peer_port=peer, metrics_port=metrics)
        return server

    def ready(server: RunningServer) -> bool:
        try:
            return etcd_request(server, "/health", timeout=1).get("health") == "true"
        except ValueError:  # not JSON yet
            return False

    try:
        return _launch("etcd", start, ready)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[RunningServer]:
    """A real single-member etcd 3.4, one per session (per xdist worker).

    ``.port`` is the client port, ``.extra["url"]`` its base URL, ``.extra["peer_port"]`` and
    ``.extra["metrics_port"]`` the others; ``etcd_request`` talks to the JSON gateway. Tests
    share the store: use your own key prefix.
    """
    server = launch_etcd()
    try:
        yield server
    finally:
        assert server.proc is not None
        try:
            stop_process(server.proc)
        finally:
            shutil.rmtree(server.dir, ignore_errors=True)


# ---------------------------------------------------------------- Go programs

GOCODE = Path("/usr/share/gocode")  # Debian's golang-*-dev packages (groupcache) install here


class GoBuilder:
    """Builds Go programs from source, offline, and memoises the binaries for the session.

    ``builder({"main.go": src})`` builds in module mode (``go.mod`` is ``module x`` / ``go 1.19``
    unless given), standard library only: ``GOPROXY=off``, ``GOFLAGS=-mod=mod``.
    ``builder(sources, gopath=True)`` builds in GOPATH mode with ``GOPATH=/usr/share/gocode``, for
    programs importing Debian-packaged libraries such as ``github.com/golang/groupcache``.
    Both share one build cache; cgo is turned off only when there is no C compiler.
    """

    def __init__(self, go: str, workdir: Path, cache: Path) -> None:
        self.go = go
        self.workdir = workdir
        self.cache = cache
        self._built: dict[str, Path] = {}

    def env(self, *, gopath: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
        env.update(GOCACHE=str(self.cache), GOPROXY="off", GOENV="off")
        if not (shutil.which("gcc") or shutil.which("cc")):
            # Go 1.19 needs a C compiler for cgo packages (net) unless cgo is off. With one,
            # cgo stays on: the precompiled standard library is reused (3 s vs 14 s cold).
            env["CGO_ENABLED"] = "0"
        env.update(GOTOOLCHAIN="local", GOTELEMETRY="off", GONOSUMDB="*", GOFLAGS="")
        if gopath:
            env.update(GOPATH=str(GOCODE), GO111MODULE="off")
        else:
            env.update(GOPATH=str(self.workdir / "gopath"), GO111MODULE="on", GOFLAGS="-mod=mod")
        return env

    def __call__(
        self, sources: dict[str, str], *, gopath: bool = False, name: str = "prog"
    ) -> Path:
        """Build ``sources`` (file name -> text) and return the path of the binary."""
        key = hashlib.sha256(json.dumps([gopath, name, sorted(sources.items())]).encode())
        digest = key.hexdigest()[:16]
        if digest in self._built:
            return self._built[digest]
        src = self.workdir / "src" / digest
        src.mkdir(parents=True, exist_ok=True)
        files = dict(sources)
        if not gopath:
            files.setdefault("go.mod", "module x\n\ngo 1.19\n")
        for filename, text in files.items():
            path = src / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        binary = self.workdir / "bin" / digest / name
        binary.parent.mkdir(parents=True, exist_ok=True)
        argv = [self.go, "build", "-o", str(binary), "."]
        _run(argv, what=f"go build of {name}", cwd=src, env=self.env(gopath=gopath), timeout=300)
        self._built[digest] = binary
        return binary


def _go_cache_dir(fallback: Path) -> Path:
    """A build cache that outlives the session (Go's cache is safe to share between runs)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = base / "gee-tests" / "go-build"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return fallback
    return cache if os.access(cache, os.W_OK) else fallback


@pytest.fixture(scope="session")
def go_build(tmp_path_factory: pytest.TempPathFactory) -> GoBuilder:
    """A session-wide ``GoBuilder``: ``go_build({"main.go": src}) -> Path`` of the binary.

    Sources and binaries live in a session temp dir; the build cache in
    ``~/.cache/gee-tests/go-build`` (a temp dir when that is not writable).
    """
    go = _program("go", "/usr/bin/go", "/usr/lib/go/bin/go")
    workdir = tmp_path_factory.mktemp("go")
    return GoBuilder(go, workdir, _go_cache_dir(workdir / "cache"))
