"""The router micro-benchmark: every GitHub route looked up once per iteration, no HTTP.

Each iteration asks for all 203 routes with a new value for every param (the iteration number),
so a cache keyed by path never hits. The paths and each router's arguments are built before the
clock starts; the clock times only the loop of lookups, with the garbage collector off. Before
timing, every router must find the right route with the right params for every path.

How each router is asked, as its own framework asks it:

- gee.web: ``Router.match(method, path)``.
- Starlette: the loop of ``Router.app``: each route's ``matches(scope)`` in order until a full
  match (a method mismatch is remembered as a partial one), over the routes of the benchmark's
  Starlette app.
- Litestar: ``ASGIRouter._handle_routing(path, method)``, the trie walk the app's ``lru_cache``
  wraps (bypassed here as the varying ids would bypass it), on the benchmark's Litestar app.
- Falcon: ``CompiledRouter.find(path)`` and the method map lookup, as ``falcon.App`` does; one
  resource per path with an ``on_<method>`` responder per method.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from bench.common import Result, Table
from bench.web.routes import concrete_path, github_routes, to_braces, to_litestar

__all__ = ["run"]

CASE = "203 GitHub routes"


@dataclass
class Lookup:
    """A router under test: ``find(*prepare(method, path))`` is one timed lookup; ``resolve``
    turns its answer into (pattern in ``:name`` syntax, param values) for the correctness check."""

    find: Callable[..., Any]
    prepare: Callable[[str, str], tuple[Any, ...]]
    resolve: Callable[[Any], tuple[str, list[str]]]


def gee_router(routes: list[tuple[str, str]]) -> Lookup:
    from gee.web.router import Router

    router: Router[str] = Router()
    for method, pattern in routes:
        router.add(method, pattern, pattern)
    return Lookup(
        find=router.match,
        prepare=lambda method, path: (method, path),
        resolve=lambda found: (found[0], list(found[1].values())),
    )


def starlette_router(routes: list[tuple[str, str]]) -> Lookup:
    from starlette.routing import Match, Route

    from bench.web.apps.starlette_app import github

    app_routes = github.router.routes
    pattern_of = {to_braces(pattern): pattern for _, pattern in routes}
    full, partial = Match.FULL, Match.PARTIAL

    def find(scope: dict[str, Any]) -> tuple[Any, MutableMapping[str, Any]] | None:
        first_partial = None
        for route in app_routes:
            match, child_scope = route.matches(scope)
            if match is full:
                return route, child_scope
            if match is partial and first_partial is None:
                first_partial = (route, child_scope)
        return first_partial

    def resolve(found: tuple[Route, MutableMapping[str, Any]]) -> tuple[str, list[str]]:
        route, child_scope = found
        return pattern_of[route.path], list(child_scope["path_params"].values())

    return Lookup(
        find=find,
        prepare=lambda method, path: (
            {"type": "http", "method": method, "path": path, "root_path": ""},
        ),
        resolve=resolve,
    )


def litestar_router(routes: list[tuple[str, str]]) -> Lookup:
    from bench.web.apps.litestar_app import github

    # Litestar reports the template without the param types: {id}, not {id:str}.
    pattern_of = {to_litestar(pattern).replace(":str}", "}"): pattern for _, pattern in routes}
    return Lookup(
        find=github.asgi_router._handle_routing,
        prepare=lambda method, path: (path, method),
        resolve=lambda found: (pattern_of[found[4]], [str(v) for v in found[3].values()]),
    )


class _Resource:
    """A Falcon resource for one path; responders are set per method by ``falcon_router``."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern


def _responder(req: object, resp: object, **params: str) -> None:
    pass


def falcon_router(routes: list[tuple[str, str]]) -> Lookup:
    from falcon.routing import CompiledRouter

    methods = defaultdict(list)
    for method, pattern in routes:
        methods[pattern].append(method)
    router = CompiledRouter()
    for pattern, names in methods.items():
        resource = _Resource(pattern)
        for method in names:
            setattr(resource, f"on_{method.lower()}", _responder)
        router.add_route(to_braces(pattern), resource)
    router_find = router.find

    def find(path: str, method: str) -> tuple[Any, Any, dict[str, Any]] | None:
        route = router_find(path)
        if route is None:
            return None
        resource, method_map, params, _ = route
        return resource, method_map[method], params

    return Lookup(
        find=find,
        prepare=lambda method, path: (path, method),
        resolve=lambda found: (found[0].pattern, list(found[2].values())),
    )


ROUTERS: dict[str, tuple[str, Callable[[list[tuple[str, str]]], Lookup]]] = {
    "gee.web": ("gee.web.router", gee_router),
    "Starlette": ("starlette", starlette_router),
    "Litestar": ("litestar", litestar_router),
    "Falcon": ("falcon", falcon_router),
}


def _batch(lookup: Lookup, routes: list[tuple[str, str]], value: str) -> list[tuple[Any, ...]]:
    return [lookup.prepare(method, concrete_path(pattern, value)) for method, pattern in routes]


def check(lookup: Lookup, routes: list[tuple[str, str]], value: str) -> str | None:
    """The first wrong answer for ``value`` in every param, or None if every route is found."""
    for (method, pattern), args in zip(routes, _batch(lookup, routes, value), strict=True):
        found = lookup.find(*args)
        got = None if found is None else lookup.resolve(found)
        want = (pattern, [value] * pattern.count(":"))
        if got != want:
            return f"{method} {concrete_path(pattern, value)}: got {got}; want {want}"
    return None


def time_lookups(
    lookup: Lookup, routes: list[tuple[str, str]], budget_s: float, min_rounds: int
) -> list[float]:
    """µs per lookup of each round (all routes once, new param values each round)."""
    per_lookup: list[float] = []
    spent = 0
    find = lookup.find
    gc.collect()
    gc.disable()
    try:
        round_ = 0
        while spent < budget_s * 1e9 or round_ < min_rounds:
            batch = _batch(lookup, routes, str(1000 + round_))
            start = time.perf_counter_ns()
            for args in batch:
                find(*args)
            elapsed = time.perf_counter_ns() - start
            spent += elapsed
            per_lookup.append(elapsed / len(batch) / 1000)
            round_ += 1
    finally:
        gc.enable()
    return per_lookup


def measure(name: str, requires: str, build: Callable[..., Lookup], quick: bool) -> Result:
    result = Result(name, CASE)
    routes = github_routes()
    try:
        lookup = build(routes)
    except ImportError as exc:
        result.status, result.detail = "unavailable", f"cannot import {requires}: {exc}"
        return result
    wrong = check(lookup, routes, "17")
    if wrong is not None:
        result.status, result.detail = "failed", f"wrong route: {wrong}"
        return result
    rounds = time_lookups(lookup, routes, budget_s=0.05 if quick else 1.0, min_rounds=3)
    result.value = statistics.median(rounds)
    result.extra = {"best µs": min(rounds), "rounds": len(rounds)}
    return result


def run(quick: bool) -> Table:
    """Time every router; print each figure as it comes."""
    table = Table(
        title="Router: the 203 GitHub routes looked up in turn, a new id each round, no HTTP",
        unit="µs/lookup",
        higher_is_better=False,
        subject_label="router",
        case_label="lookups",
        extra_columns=["best µs"],
        ours="gee.web",
        peers=["Starlette", "Litestar", "Falcon"],
        notes=[
            "µs/lookup is the median over rounds of one round's time / 203; best µs the fastest"
            " round. Starlette scans its routes in order, Litestar walks a trie, Falcon runs"
            " generated code. Target (issue 3): gee.web ≤ 0.7 µs.",
        ],
    )
    for name, (requires, build) in ROUTERS.items():
        result = measure(name, requires, build, quick)
        shown = f"{result.value:.2f} µs/lookup" if result.value is not None else result.status
        print(f"  {name:<10} {shown}", flush=True)
        table.results.append(result)
    return table
