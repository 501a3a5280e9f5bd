"""gee in the browser: the seed's four Go WebAssembly demos in Python through Pyodide, and a fifth
where gee's own pure-Python parts run in the page. This module is the gee.web app that serves it::

    bash scripts/setup.sh                        # once: the venv, and Pyodide from npm
    gee web examples.wasm:app --port 8000        # then open http://127.0.0.1:8000/

Everything the page loads comes from this server: the page and its Python (``static/``,
``page/``), Pyodide from the npm package in ``node_modules/pyodide`` and gee's own wheel, built
from the source on start-up (see ``wheel.py``). Nothing is fetched from anywhere else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from examples.wasm.page.fib import fib
from examples.wasm.wheel import build_wheel
from gee.web import Context, Gee, HTTPError

__all__ = ["PAGE_MODULES", "app"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYODIDE = ROOT / "node_modules" / "pyodide"
WHEELS = ROOT / "build" / "wasm"
INDEX = HERE / "static" / "index.html"

# The files of the package ``page`` that the browser writes into Pyodide, in no particular order.
PAGE_MODULES = sorted(path.name for path in (HERE / "page").glob("*.py"))

if not (PYODIDE / "pyodide.mjs").is_file():
    raise FileNotFoundError(
        f"Pyodide is not installed in {PYODIDE}: run `npm ci` in {ROOT} (scripts/setup.sh does)"
    )
WHEELS.mkdir(parents=True, exist_ok=True)

app = Gee()
app.static("/static", HERE / "static")
app.static("/py", HERE / "page")
app.static("/pyodide", PYODIDE)
app.static("/wheels", WHEELS)

# The wheel's URL under /wheels/, set once the start-up hook has built it.
built: dict[str, str] = {}


@app.on_startup
async def build() -> None:
    """Build gee's wheel (a few seconds, only when the source changed since the last build)."""
    wheel = await asyncio.to_thread(build_wheel, ROOT, WHEELS)
    built["wheel"] = "/wheels/" + wheel.relative_to(WHEELS).as_posix()


async def index(c: Context) -> None:
    """The page; also under /gee/..., the client-side routes of demo 5, so that a reload works."""
    c.file(INDEX)


app.get("/", index)
app.get("/gee", index)
app.get("/gee/*path", index)


async def config(c: Context) -> dict[str, object]:
    """What the page's loader needs: the wheel's URL and the files of the package ``page``."""
    return {"wheel": built["wheel"], "page": PAGE_MODULES}


async def fib_of(c: Context) -> dict[str, object]:
    """fib(n) computed by the server, for demo 4's ``fetch`` from Python.

    The number goes out as a decimal string: fib(100) passes 64 bits, which JSON encoders (and
    JavaScript's numbers, past 2**53) do not keep exact.
    """
    try:
        n = int(c.param("n"))
    except ValueError:
        raise HTTPError(400, "n must be an integer") from None
    if not 0 <= n <= 1000:
        raise HTTPError(400, "n must be between 0 and 1000")
    return {"n": n, "fib": str(fib(n))}


app.get("/api/config", config)
app.get("/api/fib/:n", fib_of)
