"""examples/wasm end to end: the gee.web app served by uvicorn, the page in headless Chromium.

One server and one page serve the module's browser tests (Pyodide takes seconds to load); each
test drives one demo from the page as loaded and asserts what the DOM shows. Every request the
page makes is recorded and refused unless it goes to 127.0.0.1. ``GEE_UPDATE_SCREENSHOT=1``
also copies the finished page's screenshot to docs/wasm.png.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gee.cache.consistenthash import HashRing
from tests.servers import free_port, start_process, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "node_modules" / "pyodide" / "pyodide.mjs"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_TIMEOUT_MS = 60_000  # Pyodide loads in 3-12 s here, depending on how busy the cores are


def fib_go(n: int) -> int:
    """fib as the Go demos count it: fib(0) == fib(1) == 1."""
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@dataclass
class Browser:
    """The loaded page and what it did: requests, dialogs, errors."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1"


@pytest.fixture(scope="module")
def wasm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``gee web examples.wasm:app`` on a free port; yields its base URL."""
    if not PYODIDE.is_file():
        message = f"{PYODIDE} is missing: run scripts/setup.sh (npm ci)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    port = free_port()
    log = tmp_path_factory.mktemp("wasm-server") / "server.log"
    argv = [sys.executable, "-m", "gee", "web", "examples.wasm:app", "--port", str(port)]
    proc = start_process([*argv, "--log-level", "warning"], cwd=ROOT, log=log)
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text()}")
            with urllib.request.urlopen(base + "/api/config", timeout=2) as response:
                return bool(response.status == 200)

        wait_for(ready, timeout=90, what="gee web examples.wasm:app")  # may build the wheel
        yield base
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def browser(wasm_server: str) -> Iterator[Browser]:
    """Headless Chromium with the page loaded and Pyodide ready."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            b = Browser(page, wasm_server)

            def guard(route: Any) -> None:
                url = route.request.url
                if _is_local(url):
                    route.continue_()
                else:
                    b.refused.append(url)
                    route.abort()

            context.route("**/*", guard)
            page.on("request", lambda request: b.requests.append(request.url))
            page.on("pageerror", lambda error: b.errors.append(str(error)))
            page.on(
                "console",
                lambda m: b.errors.append(m.text) if m.type == "error" else None,
            )

            def on_dialog(dialog: Any) -> None:
                b.dialogs.append(dialog.message)
                dialog.accept()

            page.on("dialog", on_dialog)
            page.goto(wasm_server + "/")
            page.wait_for_function(
                "document.getElementById('status').dataset.state !== 'loading'",
                timeout=LOAD_TIMEOUT_MS,
            )
            status = page.text_content("#status") or ""
            assert page.get_attribute("#status", "data-state") == "ready", status
            print(f"\n{status}")
            yield b
        finally:
            context.close()


def text(b: Browser, selector: str) -> str:
    return (b.page.text_content(selector) or "").strip()


# -- the server alone ---------------------------------------------------------------------------


def test_page_modules_import_without_server_dependencies() -> None:
    """What the page imports from gee must need nothing beyond the standard library: Pyodide
    gets gee's wheel without uvicorn, uvloop, httptools, hiredis, msgspec..."""
    script = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top != "gee" and top not in sys.stdlib_module_names:
            raise ImportError(f"{name} is not in the standard library")
sys.meta_path.insert(0, Block())
import gee.web.router, gee.cache.lru, gee.cache.consistenthash, gee.orm
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, f"got an import of a non-stdlib module:\n{done.stderr}"


# -- the page, in Chromium ----------------------------------------------------------------------


@pytest.mark.chromium
def test_load_time_is_shown(browser: Browser) -> None:
    status = text(browser, "#status")
    assert re.fullmatch(
        r"Ready in \d+\.\d\d s after navigation: Pyodide 314\.\d+\.\d+ \(Python 3\.\d+\.\d+\)"
        r" loaded in \d+\.\d\d s, gee's wheel in \d+\.\d\d s, the demos in \d+\.\d\d s\.",
        status,
    ), f"got status {status!r}"


@pytest.mark.chromium
def test_demo1_hello_world_prints_and_alerts(browser: Browser) -> None:
    assert text(browser, "#stdout").startswith("Hello, World!")
    assert re.fullmatch(
        r"Hello, World! from Python 3\.\d+\.\d+ on emscripten", text(browser, "#hello1")
    )
    browser.page.click("#alert1")
    for _ in range(100):  # the dialog event comes back from the browser on its own time
        if browser.dialogs:
            break
        browser.page.wait_for_timeout(50)
    assert browser.dialogs[-1:] == ["Hello World!"], f"got dialogs {browser.dialogs}"


@pytest.mark.chromium
@pytest.mark.parametrize("n", [0, 10, 90])
def test_demo2_window_function_called_from_onclick(browser: Browser, n: int) -> None:
    browser.page.fill("#num2", str(n))
    browser.page.click("#btn2")
    assert text(browser, "#ans2") == str(fib_go(n))


@pytest.mark.chromium
def test_demo3_python_reads_the_input_and_builds_a_list(browser: Browser) -> None:
    browser.page.fill("#num3", "8")
    browser.page.click("#btn3")
    assert text(browser, "#ans3") == f"fib(8) = {fib_go(8)}"
    items = browser.page.locator("#list3 li").all_text_contents()
    assert items == [f"fib({i}) = {fib_go(i)}" for i in range(9)]
    browser.page.fill("#num3", "")
    browser.page.click("#btn3")
    assert text(browser, "#ans3") == "'' is not a whole number"
    assert browser.page.locator("#list3 li").count() == 0


@pytest.mark.chromium
def test_demo4_callback_after_an_asyncio_wait(browser: Browser) -> None:
    page = browser.page
    page.fill("#num4", "10")
    page.click("#btn4")
    assert text(browser, "#ans4").startswith("Waiting")  # at once: the click did not block
    page.wait_for_function("document.getElementById('ans4').textContent === '89'", timeout=5000)


@pytest.mark.chromium
def test_demo4_python_awaits_a_promise_and_fetch(browser: Browser) -> None:
    page = browser.page
    page.fill("#num4", "100")
    page.click("#btn4b")
    page.wait_for_function(
        "document.getElementById('await4').textContent.includes('server says')", timeout=10000
    )
    out = text(browser, "#await4")
    assert out.startswith("wait(300, 100) resolved to 100; ")
    assert f"the gee.web server says fib(100) = {fib_go(100)} (200, " in out  # exact: 21 digits
    assert any(url.endswith("/api/fib/100") for url in browser.requests)


@pytest.mark.chromium
@pytest.mark.parametrize(
    ("link", "want"),
    [
        ("/gee/users/42", "/gee/users/:id {'id': '42'} → the profile of user 42"),
        (
            "/gee/nodes/b/keys/Tom",
            "/gee/nodes/:node/keys/:key {'node': 'b', 'key': 'Tom'} → key 'Tom' on cache node b",
        ),
        (
            "/gee/files/css/site.css",
            "/gee/files/*filepath {'filepath': 'css/site.css'} → the file css/site.css",
        ),
        ("/gee/nowhere", "404 no route matches /gee/nowhere"),
        ("/gee", "/gee {} → home: 4 routes, matched in Python inside the page"),
    ],
)
def test_demo5_router_dispatches_client_side_routes(browser: Browser, link: str, want: str) -> None:
    page = browser.page
    before = len(browser.requests)
    page.click(f'#router-nav a[href="{link}"]')
    assert page.evaluate("location.pathname") == link
    assert text(browser, "#route-path") == link
    assert text(browser, "#route-out") == want
    assert browser.requests[before:] == [], "a client-side route must not reach the server"


@pytest.mark.chromium
def test_demo5_router_back_button_and_typed_paths(browser: Browser) -> None:
    page = browser.page
    page.click('#router-nav a[href="/gee/users/42"]')
    page.click('#router-nav a[href="/gee/files/css/site.css"]')
    page.go_back()
    page.wait_for_function("document.getElementById('route-path').textContent === '/gee/users/42'")
    page.fill("#route-try", "/gee/users/ann%20b")
    assert text(browser, "#route-try-out") == (
        "/gee/users/:id {'id': 'ann b'} → the profile of user ann b"
    )
    page.fill("#route-try", "/gee/users/%zz")
    assert text(browser, "#route-try-out").startswith("400 malformed percent-escape")
    assert text(browser, "#route-url-for").endswith("= /gee/nodes/b/keys/Tom%20&%20Jerry")


def test_demo5_client_routes_are_served_the_page(wasm_server: str) -> None:
    with urllib.request.urlopen(wasm_server + "/gee/users/7") as response:
        assert response.status == 200
        assert b'<script type="module" src="/static/main.js">' in response.read()


@pytest.mark.chromium
def test_demo5_cache_names_the_owner_as_you_type(browser: Browser) -> None:
    page = browser.page
    peers = ["http://node-a:8001", "http://node-b:8001", "http://node-c:8001"]
    ring = HashRing.of(peers)
    page.fill("#cache-key", "")
    page.fill("#cache-peers", ", ".join(peers))
    page.dispatch_event("#cache-peers", "change")  # a new ring, an empty LRU
    shares = text(browser, "#cache-shares")
    assert shares == " · ".join(f"{p} {s:.1%}" for p, s in ring.shares().items())
    for key in ["T", "To", "Tom", "Tom"]:
        page.fill("#cache-key", key)
        assert text(browser, "#cache-owner").startswith(f"{key!r} → {ring.owner(key)} (")
    assert text(browser, "#cache-owner").endswith("(LRU hit)")
    lru = text(browser, "#cache-lru")
    assert "oldest first: T, To, Tom · hits 1, misses 3," in lru, lru
    # Enough keys to pass the LRU's 160 bytes: the oldest go first.
    for i in range(10):
        page.fill("#cache-key", f"key-{i}")
    lru = text(browser, "#cache-lru")
    assert "evicted 0" not in lru, lru
    assert lru.split("oldest first: ")[1].split(" · ")[0].endswith("key-9")


@pytest.mark.chromium
def test_demo5_cache_follows_the_peer_list(browser: Browser) -> None:
    page = browser.page
    peers = ["http://10.0.0.1:8001", "http://10.0.0.2:8001"]
    page.fill("#cache-peers", ", ".join(peers))
    page.dispatch_event("#cache-peers", "change")
    page.fill("#cache-key", "Jack")
    want = HashRing.of(peers).owner("Jack")
    assert text(browser, "#cache-owner") == f"'Jack' → {want} (ring lookup)"


@pytest.mark.chromium
@pytest.mark.parametrize(
    ("system", "search", "count"),
    [("", "", 28), ("GeeORM", "", 7), ("", "support", 4), ("GeeRPC", "support", 1)],
)
def test_demo5_orm_queries_sqlite_in_the_page(
    browser: Browser, system: str, search: str, count: int
) -> None:
    page = browser.page
    page.select_option("#orm-system", system)
    page.fill("#orm-search", search)
    assert text(browser, "#orm-count").startswith(f"{count} of ")
    assert page.locator("#orm-rows tr").count() == count
    sql = text(browser, "#orm-sql")
    assert sql.startswith('SELECT "id", "system", "day", "title" FROM "chapters"'), sql
    if system:
        assert page.locator("#orm-rows tr td:first-child").all_text_contents() == [system] * count


@pytest.mark.chromium
def test_demo5_orm_inserts_a_row(browser: Browser) -> None:
    page = browser.page
    page.select_option("#orm-system", "GeeRPC")
    page.fill("#orm-search", "")
    page.fill("#orm-title", "Run in the Browser")
    page.click("#orm-add")
    rows = page.locator("#orm-rows tr").all_text_contents()
    assert rows[-1] == "GeeRPC8Run in the Browser"
    assert text(browser, "#orm-count") == "8 of 29 rows"


@pytest.mark.chromium
def test_finished_page_every_request_local_and_screenshot(browser: Browser, tmp_path: Path) -> None:
    """Bring every demo to a finished state, check the traffic, and take the screenshot."""
    page = browser.page
    page.click('#router-nav a[href="/gee/users/42"]')
    page.fill("#route-try", "/gee/files/docs/wasm.md")
    page.fill("#num2", "30")
    page.click("#btn2")
    page.fill("#num3", "12")
    page.click("#btn3")
    page.fill("#num4", "50")
    page.click("#btn4b")
    page.click("#btn4")
    page.fill("#cache-peers", "http://node-a:8001, http://node-b:8001, http://node-c:8001")
    page.dispatch_event("#cache-peers", "change")
    for key in ["Tom", "Jack", "Sam", "Tom"]:
        page.fill("#cache-key", key)
    page.select_option("#orm-system", "GeeCache")
    page.fill("#orm-search", "cach")
    page.wait_for_function("document.getElementById('ans4').textContent === '20365011074'")
    page.wait_for_function("document.getElementById('await4').textContent.includes('says')")

    assert browser.refused == [], f"the page asked for other hosts: {browser.refused}"
    assert browser.requests
    assert all(_is_local(url) for url in browser.requests)
    assert browser.errors == [], f"the page logged errors: {browser.errors}"
    assert "Traceback" not in text(browser, "#stdout")

    shot = tmp_path / "wasm.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("GEE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "wasm.png")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_api_fib_and_config(wasm_server: str) -> None:
    """The server's own routes (over HTTP: the sync Playwright of this module holds a loop)."""
    from examples.wasm import PAGE_MODULES

    assert get(wasm_server + "/api/fib/100") == (200, b'{"n":100,"fib":"%d"}' % fib_go(100))
    assert get(wasm_server + "/api/fib/x")[0] == 400
    assert get(wasm_server + "/api/fib/1001")[0] == 400
    status, body = get(wasm_server + "/api/config")
    config = json.loads(body)
    assert config["page"] == PAGE_MODULES
    assert "boot.py" in PAGE_MODULES
    status, wheel = get(wasm_server + config["wheel"])
    assert (status, wheel[:2]) == (200, b"PK")
    assert re.fullmatch(
        r"/wheels/[0-9a-f]{12}/gee_toolkit-[^/]+-py3-none-any\.whl", config["wheel"]
    )
    assert get(wasm_server + "/pyodide/pyodide.mjs")[0] == 200


def test_wheel_digest_follows_the_source_only(tmp_path: Path) -> None:
    """A new digest (and so a new wheel URL) for every edit of src/gee, none for caches."""
    # Loaded by path: importing the package examples.wasm needs Pyodide installed.
    spec = importlib.util.spec_from_file_location("wasm_wheel", ROOT / "examples/wasm/wheel.py")
    assert spec is not None
    assert spec.loader is not None
    wheel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wheel)
    source_digest = wheel.source_digest

    (tmp_path / "src" / "gee" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    module = tmp_path / "src" / "gee" / "a.py"
    module.write_text("x = 1\n")
    first = source_digest(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    (tmp_path / "src" / "gee" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert source_digest(tmp_path) == first
    module.write_text("x = 2\n")
    assert source_digest(tmp_path) != first
