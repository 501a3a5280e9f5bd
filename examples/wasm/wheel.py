"""Build gee's own wheel for the page, once per version of the source.

The page installs gee into Pyodide from this wheel, by URL. It is the wheel ``pip wheel`` makes
of the repository (pure Python, ``py3-none-any``); Pyodide's ``loadPackage(url)`` unpacks it
without resolving its ``Requires-Dist``, so the server-side dependencies (uvicorn, uvloop,
httptools, hiredis...) are never asked for: the modules the page imports do not need them.

Wheels go to ``build/wasm/<digest>/``, where ``<digest>`` hashes the files the wheel is made of:
an edit to ``src/gee`` makes a new folder and so a new URL, which no browser has cached.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["build_wheel", "source_digest"]


def source_digest(root: Path) -> str:
    """Hash ``pyproject.toml`` and every file under ``src/gee`` (caches left out): 12 hex digits."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml"]
    files += sorted(
        path
        for path in (root / "src" / "gee").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_wheel(root: Path, out: Path) -> Path:
    """Return the wheel of the project at ``root`` for its current source, building it if needed.

    The build runs ``pip wheel --no-deps`` into a temporary folder that is then renamed into
    place, so two server processes starting at once never serve a half-written file. Wheels of
    older sources are removed.
    """
    target = out / source_digest(root)
    wheels = sorted(target.glob("*.whl"))
    if wheels:
        return wheels[0]
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=out))
    try:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]
        command += ["--disable-pip-version-check", "--wheel-dir", str(scratch), str(root)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"building gee's wheel failed ({' '.join(command)}):\n{done.stderr}")
        try:
            os.rename(scratch, target)
        except OSError:  # another process got there first: use its wheel
            if not any(target.glob("*.whl")):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for old in out.iterdir():
        if old.is_dir() and old != target and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return sorted(target.glob("*.whl"))[0]
