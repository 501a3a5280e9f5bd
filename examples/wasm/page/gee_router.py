"""Demo 5a: gee.web's router, unchanged, dispatching the page's own client-side routes.

The links under ``/gee/...`` never reach the server: a click is caught, the address bar is
changed with ``history.pushState`` and the path goes through ``gee.web.router.Router.match``,
the very trie the server uses. (The server also answers ``/gee/...`` with this page, so a reload
or a shared link lands on the same view.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js

from gee.web.errors import BadPathError
from gee.web.router import Router

from .dom import element, listen

View = Callable[[dict[str, str]], str]

router: Router[tuple[str, View]] = Router()


def route(pattern: str, name: str) -> Callable[[View], View]:
    def register(view: View) -> View:
        router.add("GET", pattern, (pattern, view), name=name)
        return view

    return register


@route("/gee", "home")
def home(params: dict[str, str]) -> str:
    return f"home: {len(router.routes)} routes, matched in Python inside the page"


@route("/gee/users/:id", "user")
def user(params: dict[str, str]) -> str:
    return f"the profile of user {params['id']}"


@route("/gee/nodes/:node/keys/:key", "node_key")
def node_key(params: dict[str, str]) -> str:
    return f"key {params['key']!r} on cache node {params['node']}"


@route("/gee/files/*filepath", "file")
def file(params: dict[str, str]) -> str:
    return f"the file {params['filepath']}"


def describe(path: str) -> str:
    """Match ``path`` and say what happened, as the router's 404/400 would."""
    try:
        found = router.match("GET", path)
    except BadPathError as exc:
        return f"400 {exc}"
    if found is None:
        return f"404 no route matches {path}"
    (pattern, view), params = found
    return f"{pattern} {dict(params)} → {view(params)}"


def show(path: str) -> None:
    element("route-path").textContent = path
    element("route-out").textContent = describe(path)


def on_nav_click(event: Any) -> None:
    link = event.target.closest("a")
    if link is None:
        return
    event.preventDefault()
    js.history.pushState(None, "", link.getAttribute("href"))
    show(js.location.pathname)


def on_try(event: Any) -> None:
    path = str(element("route-try").value)
    element("route-try-out").textContent = describe(path) if path.startswith("/") else ""


def main() -> None:
    listen(element("router-nav"), "click", on_nav_click)
    listen(js.window, "popstate", lambda event: show(js.location.pathname))
    listen(element("route-try"), "input", on_try)
    link = router.url_for("node_key", node="b", key="Tom & Jerry")
    element(
        "route-url-for"
    ).textContent = f'url_for("node_key", node="b", key="Tom & Jerry") = {link}'
    path = str(js.location.pathname)
    show(path if path.startswith("/gee") else "/gee")
