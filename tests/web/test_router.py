"""Tests of gee.web.router: real route tables, Gee's router bugs, and a brute-force reference."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.web import router as router_module
from gee.web.errors import BadPathError, RouteConflictError, RouteError, WebError
from gee.web.router import EMPTY_PARAMS, Router

ROUTES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "routes"
ROUTE_FILES = ["github", "gplus", "parse", "static"]
WILD = re.compile(r"([:*])([A-Za-z_][A-Za-z_0-9]*)")


def load_routes(name: str) -> list[tuple[str, str]]:
    path = ROUTES_DIR / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    routes = []
    for line in path.read_text().splitlines():
        if line.strip():
            method, pattern = line.split()
            routes.append((method, pattern))
    return routes


def concrete(pattern: str) -> tuple[str, dict[str, str]]:
    """A path that ``pattern`` matches, with a distinct value per param, and those params."""
    params: dict[str, str] = {}

    def fill(m: re.Match[str]) -> str:
        value = f"{m.group(2)}42"
        if m.group(1) == "*":
            value += "/deeper"
        params[m.group(2)] = value
        return value

    return WILD.sub(fill, pattern), params


# ---------------------------------------------------------------- the brute-force reference

STATIC, PARAM, CATCHALL = 2, 1, 0  # higher is better


def reference_match(
    routes: list[tuple[str, str]], method: str, path: str
) -> tuple[int, dict[str, str]] | None:
    """Scan every route; among the matches keep the lexicographically best segment kinds."""
    if not path.startswith("/"):
        return None
    segs = path[1:].split("/")
    best: tuple[list[int], int, dict[str, str]] | None = None
    for index, (route_method, pattern) in enumerate(routes):
        found = match_one(pattern, segs) if route_method == method else None
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], index, found[1])
    return None if best is None else (best[1], best[2])


def match_one(pattern: str, segs: list[str]) -> tuple[list[int], dict[str, str]] | None:
    """The segment kinds and raw params of ``pattern`` on the path's segments, if it matches."""
    kinds: list[int] = []
    params: dict[str, str] = {}
    psegs = pattern[1:].split("/")
    for j, pseg in enumerate(psegs):
        if pseg[:1] == "*":
            rest = "/".join(segs[j:])
            if not rest:
                return None
            params[pseg[1:]] = rest
            return [*kinds, CATCHALL], params
        if j >= len(segs):
            return None
        if pseg[:1] == ":":
            if not segs[j]:
                return None
            params[pseg[1:]] = segs[j]
            kinds.append(PARAM)
        elif pseg == segs[j]:
            kinds.append(STATIC)
        else:
            return None
    return (kinds, params) if len(segs) == len(psegs) else None


def reference_conflicts(routes: list[tuple[str, str]], method: str, pattern: str) -> bool:
    """Whether the route clashes with one of ``routes``: a duplicate once param names are
    ignored, or two param names (or two catchalls) at one position after the same prefix."""

    def shape(seg: str) -> str:
        return seg[:1] if seg[:1] in (":", "*") else seg

    new = pattern[1:].split("/")
    for other_method, other_pattern in routes:
        if other_method != method:
            continue
        old = other_pattern[1:].split("/")
        for j in range(min(len(new), len(old))):
            if shape(new[j]) != shape(old[j]):
                break
            if new[j][:1] == "*" or (new[j][:1] == ":" and new[j] != old[j]):
                return True
        else:
            if len(new) == len(old):
                return True
    return False


# ---------------------------------------------------------------- real route tables


@pytest.mark.parametrize("name", ROUTE_FILES)
def test_every_route_matches_itself(name: str) -> None:
    routes = load_routes(name)
    router: Router[int] = Router()
    for index, (method, pattern) in enumerate(routes):
        router.add(method, pattern, index)
    for index, (method, pattern) in enumerate(routes):
        path, params = concrete(pattern)
        got = router.match(method, path)
        assert got == (index, params), f"{method} {path}: got {got}; want {(index, params)}"


@pytest.mark.parametrize("name", ROUTE_FILES)
def test_near_misses_agree_with_reference(name: str) -> None:
    routes = load_routes(name)
    router: Router[int] = Router()
    for index, (method, pattern) in enumerate(routes):
        router.add(method, pattern, index)
    for method, pattern in routes:
        path, _ = concrete(pattern)
        parent = path.rsplit("/", 1)[0] or "/"
        for near in (path + "/zz-nope", path + "/", parent, path + "x", path[:-1]):
            got = router.match(method, near)
            want = reference_match(routes, method, near)
            assert got == want, f"{method} {near}: got {got}; want {want}"
        assert router.match("PURGE", path) is None, f"PURGE {path}: got a match; want None"


def test_param_free_match_shares_empty_params() -> None:
    router: Router[str] = Router()
    router.add("GET", "/a/b", "ab")
    router.add("GET", "/:x/b", "xb")
    got = router.match("GET", "/a/b")
    assert got == ("ab", {}), f"got {got}; want ('ab', {{}})"
    assert got[1] is EMPTY_PARAMS, "got a fresh dict; want the shared EMPTY_PARAMS"


# ---------------------------------------------------------------- Gee's own bugs (seeds/001)


def test_seed_static_after_param_gets_only_its_own_path() -> None:
    router: Router[str] = Router()
    router.add("GET", "/p/:lang", "lang")
    router.add("GET", "/p/python", "python")
    assert router.match("GET", "/p/go") == ("lang", {"lang": "go"})
    assert router.match("GET", "/p/python") == ("python", {})


def test_seed_static_under_param_does_not_leak() -> None:
    router: Router[str] = Router()
    router.add("GET", "/", "root")
    router.add("GET", "/hello/:id", "id")
    router.add("GET", "/hello/b/c", "bc")
    assert router.match("GET", "/hello/21") == ("id", {"id": "21"})
    assert router.match("GET", "/hello/b/c") == ("bc", {})
    assert router.match("GET", "/hello/21/c") is None, "got a match; want None"
    assert router.match("GET", "/hello/b") == ("id", {"id": "b"})


def test_seed_second_param_name_conflicts_instead_of_replacing() -> None:
    router: Router[str] = Router()
    router.add("GET", "/u/:id", "id")
    with pytest.raises(RouteConflictError, match=r"GET /u/:lang.*GET /u/:id"):
        router.add("GET", "/u/:lang", "lang")
    assert router.match("GET", "/u/7") == ("id", {"id": "7"})


def test_seed_static_beside_catchall_has_its_own_handler() -> None:
    router: Router[str] = Router()
    router.add("GET", "/assets/*filepath", "assets")
    router.add("GET", "/assets/logo.png", "logo")
    assert router.match("GET", "/assets/logo.png") == ("logo", {})
    assert router.match("GET", "/assets/css/a.css") == ("assets", {"filepath": "css/a.css"})
    assert router.match("GET", "/assets/logo.png/x") == ("assets", {"filepath": "logo.png/x"})


def test_seed_duplicate_route_raises() -> None:
    router: Router[str] = Router()
    router.add("GET", "/a/:x", "first")
    with pytest.raises(RouteConflictError, match=r"GET /a/:x.*GET /a/:x"):
        router.add("GET", "/a/:x", "second")
    assert router.match("GET", "/a/1") == ("first", {"x": "1"})


# ---------------------------------------------------------------- matching rules


@pytest.mark.parametrize(
    ("patterns", "path", "want"),
    [
        (["/a/:x/b"], "/a//b", None),
        (["/a"], "/a/", None),
        (["/a/"], "/a", None),
        (["/a/"], "/a/", (0, {})),
        (["/"], "/", (0, {})),
        (["/:x"], "/", None),
        (["/a/:x"], "/a/", None),
        (["/assets/*filepath"], "/assets/", None),
        (["/assets/*filepath"], "/assets", None),
        (["/assets/*filepath"], "/assets/a", (0, {"filepath": "a"})),
        (["/assets/*filepath"], "/assets//", (0, {"filepath": "/"})),
        (["/assets/*filepath"], "/assets/a/", (0, {"filepath": "a/"})),
        (["/*all"], "/", None),
        (["/*all"], "/x/y", (0, {"all": "x/y"})),
        (["/a/:x", "/a/*rest"], "/a/b", (0, {"x": "b"})),
        (["/a/*rest", "/a/:x"], "/a/b/c", (0, {"rest": "b/c"})),
        (["/a/:x/c", "/a/*rest"], "/a/b/d", (1, {"rest": "b/d"})),
        (["/a/b/c", "/a/:x/d"], "/a/b/d", (1, {"x": "b"})),
        (["/:x/:y", "/a/b"], "/a/c", (0, {"x": "a", "y": "c"})),
        (["/a/:x"], "a/b", None),
        (["/a/:x"], "", None),
    ],
)
def test_match_rules(
    patterns: list[str], path: str, want: tuple[int, dict[str, str]] | None
) -> None:
    router: Router[int] = Router()
    for index, pattern in enumerate(patterns):
        router.add("GET", pattern, index)
    got = router.match("GET", path)
    assert got == want, f"{patterns} on {path!r}: got {got}; want {want}"


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("/u/a%20b", {"id": "a b"}),
        ("/u/a%2Fb", {"id": "a/b"}),
        ("/u/caf%C3%A9", {"id": "café"}),
        ("/u/caf%c3%a9", {"id": "café"}),
        ("/u/100%25", {"id": "100%"}),
        ("/f/a%2Fb/c%20d", {"rest": "a/b/c d"}),
    ],
)
def test_params_are_percent_decoded(path: str, want: dict[str, str]) -> None:
    router: Router[str] = Router()
    router.add("GET", "/u/:id", "u")
    router.add("GET", "/f/*rest", "f")
    got = router.match("GET", path)
    assert got is not None, f"{path}: got no match"
    assert got[1] == want, f"{path}: got {got[1]}; want {want}"


@pytest.mark.parametrize("path", ["/u/%zz", "/u/%4", "/u/a%", "/u/%ff", "/f/a/%C3"])
def test_malformed_escape_is_bad_path(path: str) -> None:
    router: Router[str] = Router()
    router.add("GET", "/u/:id", "u")
    router.add("GET", "/f/*rest", "f")
    with pytest.raises(BadPathError):
        router.match("GET", path)


def test_deep_routes_compile() -> None:
    deep = "/" + "/".join(f"s{i}/:p{i}" for i in range(32))  # 64 segments, nesting far past 40
    router: Router[str] = Router()
    router.add("GET", deep, "deep")
    router.add("GET", deep.rsplit("/", 1)[0] + "/*rest", "rest")
    path = "/" + "/".join(f"s{i}/v{i}" for i in range(32))
    want = {f"p{i}": f"v{i}" for i in range(32)}
    got = router.match("GET", path)
    assert got == ("deep", want), f"got {got}; want ('deep', {want})"
    got = router.match("GET", path + "/x")
    assert got is not None, "got None; want the catchall"
    assert got[0] == "rest", f"got {got[0]}; want rest"
    assert got[1]["rest"] == "v31/x", f"got {got[1]['rest']}; want v31/x"
    with pytest.raises(RouteError, match="more than 64 segments"):
        router.add("GET", deep + "/x", "too deep")


def test_routes_added_after_a_match_are_found() -> None:
    router: Router[str] = Router()
    router.add("GET", "/a/:x", "x")
    assert router.match("GET", "/a/b") == ("x", {"x": "b"})
    router.add("GET", "/a/b", "b")
    router.add("GET", "/a/:x/c", "c")
    assert router.match("GET", "/a/b") == ("b", {})
    assert router.match("GET", "/a/1/c") == ("c", {"x": "1"})
    assert router.allowed("/a/1/c") == ["GET"]


def test_unknown_method_does_not_match() -> None:
    router: Router[str] = Router()
    router.add("GET", "/a", "a")
    for method in ("POST", "get", "GET "):
        got = router.match(method, "/a")
        assert got is None, f"{method!r}: got {got}; want None"


def test_escaped_segment_does_not_match_static() -> None:
    router: Router[str] = Router()
    router.add("GET", "/hello", "hello")
    assert router.match("GET", "/hell%6F") is None, "got a match; want None (statics are raw)"


# ---------------------------------------------------------------- registration errors


@pytest.mark.parametrize(
    "pattern",
    ["", "a", "a/b", "/:a/:a", "/:a/*a", "/a//b", "//", "/:", "/*", "/a/:", "/*a/b", "/:1a",
     "/:a-b", "/a b", "/caf%C3%A9", "/café", "/a?b", "/a#b", "/a/*x/"],
)  # fmt: skip
def test_malformed_patterns_raise(pattern: str) -> None:
    router: Router[str] = Router()
    with pytest.raises(RouteError) as info:
        router.add("GET", pattern, "x")
    assert not isinstance(info.value, RouteConflictError)
    assert router.routes == [], f"got {router.routes}; want nothing registered"


@pytest.mark.parametrize("method", ["", "GE T", "GET\n", "GÉT"])
def test_malformed_methods_raise(method: str) -> None:
    with pytest.raises(RouteError):
        Router[str]().add(method, "/", "x")


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        (("GET", "/u/:id"), ("GET", "/u/:lang/x")),
        (("GET", "/u/:id/a"), ("GET", "/u/:lang/b")),
        (("GET", "/u/:id"), ("GET", "/u/:lang")),
        (("GET", "/f/*path"), ("GET", "/f/*rest")),
        (("GET", "/f/*path"), ("GET", "/f/*path")),
        (("GET", "/a/b"), ("GET", "/a/b")),
        (("POST", "/"), ("POST", "/")),
    ],
)
def test_conflicts_name_both_routes(existing: tuple[str, str], new: tuple[str, str]) -> None:
    router: Router[str] = Router()
    router.add(*existing, "old")
    with pytest.raises(RouteConflictError) as info:
        router.add(*new, "new")
    message = str(info.value)
    for method, pattern in (existing, new):
        assert f"{method} {pattern}" in message, f"got {message!r}; want it to name both"
    assert len(router.routes) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "/u/:id"), ("POST", "/u/:lang")),
        (("GET", "/u/:id"), ("GET", "/u/me")),
        (("GET", "/u/:id"), ("GET", "/u/*rest")),
        (("GET", "/a/"), ("GET", "/a")),
        (("GET", "/a/:x"), ("GET", "/a/:x/b")),
    ],
)
def test_non_conflicts_register(first: tuple[str, str], second: tuple[str, str]) -> None:
    router: Router[str] = Router()
    router.add(*first, "1")
    router.add(*second, "2")
    assert len(router.routes) == 2


def test_duplicate_name_raises() -> None:
    router: Router[str] = Router()
    router.add("GET", "/a", "a", name="home")
    with pytest.raises(RouteConflictError, match=r"GET /b.*GET /a"):
        router.add("GET", "/b", "b", name="home")
    assert router.match("GET", "/b") is None, "got a match; want the failed add to leave no trace"


def test_routes_in_registration_order() -> None:
    router: Router[int] = Router()
    patterns = ["/z", "/a/:x", "/m/*rest", "/"]
    for index, pattern in enumerate(patterns):
        router.add("GET", pattern, index, name=f"r{index}")
    got = [(r.pattern, r.value, r.name) for r in router.routes]
    want = [(p, i, f"r{i}") for i, p in enumerate(patterns)]
    assert got == want, f"got {got}; want {want}"
    router.routes.clear()
    assert len(router.routes) == 4, "routes must be a copy"


def test_allowed() -> None:
    router: Router[str] = Router()
    router.add("POST", "/a", "x")
    router.add("GET", "/a", "x")
    router.add("PUT", "/a/:x", "x")
    router.add("DELETE", "/*all", "x")
    cases = {
        "/a": ["DELETE", "GET", "POST"],
        "/a/1": ["DELETE", "PUT"],
        "/": [],
        "/a/%zz": ["DELETE", "PUT"],
    }
    for path, want in cases.items():
        got = router.allowed(path)
        assert got == want, f"{path}: got {got}; want {want}"


# ---------------------------------------------------------------- url_for


@pytest.mark.parametrize(
    ("pattern", "params", "want"),
    [
        ("/", {}, "/"),
        ("/users/:id", {"id": 42}, "/users/42"),
        ("/users/:id/", {"id": "a b"}, "/users/a%20b/"),
        ("/users/:id", {"id": "a/b"}, "/users/a%2Fb"),
        ("/users/:id", {"id": "café"}, "/users/caf%C3%A9"),
        ("/users/:id", {"id": "100%"}, "/users/100%25"),
        ("/users/:id", {"id": "a:b@c"}, "/users/a:b@c"),
        ("/files/*path", {"path": "css/a b.css"}, "/files/css/a%20b.css"),
        ("/files/*path", {"path": "/x/"}, "/files//x/"),
    ],
)
def test_url_for(pattern: str, params: dict[str, object], want: str) -> None:
    router: Router[str] = Router()
    router.add("GET", pattern, "x", name="it")
    got = router.url_for("it", **params)
    assert got == want, f"got {got}; want {want}"
    assert router.match("GET", got) == ("x", {k: str(v) for k, v in params.items()})


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "missing params: id"),
        ({"id": 1, "x": 2}, "unexpected params: x"),
        ({"id": ""}, "empty"),
    ],
)
def test_url_for_bad_params(params: dict[str, object], needle: str) -> None:
    router: Router[str] = Router()
    router.add("GET", "/users/:id", "x", name="user")
    with pytest.raises(WebError, match=needle):
        router.url_for("user", **params)


def test_url_for_unknown_name() -> None:
    router: Router[str] = Router()
    router.add("GET", "/", "x", name="home")
    with pytest.raises(WebError, match=r"'nope'.*home"):
        router.url_for("nope")


# ---------------------------------------------------------------- properties

SEGMENTS = ["a", "b", "c", ":p", ":q", "*r", "*s", ""]
PATH_SEGMENTS = ["a", "b", "c", "x", ""]
METHODS = ["GET", "POST"]

patterns = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4).map(
    lambda segs: "/" + "/".join(segs)
)
tables = st.lists(st.tuples(st.sampled_from(METHODS), patterns), min_size=1, max_size=12)
paths = st.lists(st.sampled_from(PATH_SEGMENTS), min_size=0, max_size=5).map(
    lambda segs: "/" + "/".join(segs)
)


def register(table: list[tuple[str, str]]) -> tuple[Router[int], list[tuple[str, str]]]:
    """Register what the router accepts; check that it refuses exactly the reference's
    conflicts and malformed patterns, and that a refusal leaves no trace."""
    router: Router[int] = Router()
    accepted: list[tuple[str, str]] = []
    for method, pattern in table:
        segs = pattern[1:].split("/")
        names = [s[1:] for s in segs if s[:1] in (":", "*")]
        malformed = (
            any(s[:1] == "*" for s in segs[:-1]) or "" in segs[:-1] or len(set(names)) < len(names)
        )
        conflicting = not malformed and reference_conflicts(accepted, method, pattern)
        try:
            router.add(method, pattern, len(accepted))
        except RouteConflictError:
            assert conflicting, f"{method} {pattern} after {accepted}: got a conflict; want none"
        except RouteError:
            assert malformed, f"{pattern}: got RouteError; want it accepted"
        else:
            assert not malformed, f"{pattern}: got accepted; want RouteError"
            assert not conflicting, f"{method} {pattern} after {accepted}: got accepted"
            accepted.append((method, pattern))
    return router, accepted


def probe_paths(accepted: list[tuple[str, str]], extra: list[str]) -> list[str]:
    probes = list(extra)
    for _, pattern in accepted:
        probes.append(WILD.sub("a", pattern))
        probes.append(WILD.sub("x", pattern))
    return probes


@settings(max_examples=300, deadline=None)
@given(table=tables, extra=st.lists(paths, max_size=10))
def test_router_agrees_with_brute_force(table: list[tuple[str, str]], extra: list[str]) -> None:
    router, accepted = register(table)
    for path in probe_paths(accepted, extra):
        for method in METHODS:
            got = router.match(method, path)
            want = reference_match(accepted, method, path)
            assert got == want, f"{accepted} {method} {path}: got {got}; want {want}"
        allowed = [m for m in METHODS if reference_match(accepted, m, path) is not None]
        assert router.allowed(path) == allowed


@settings(max_examples=100, deadline=None)
@given(table=tables, extra=st.lists(paths, max_size=10))
def test_split_generated_code_agrees(table: list[tuple[str, str]], extra: list[str]) -> None:
    """Subtrees nested deeper than _MAX_NESTING move into functions of their own; force that."""
    saved = router_module._MAX_NESTING
    router_module._MAX_NESTING = 1
    try:
        router, accepted = register(table)
        for path in probe_paths(accepted, extra):
            for method in METHODS:
                got = router.match(method, path)
                want = reference_match(accepted, method, path)
                assert got == want, f"{accepted} {method} {path}: got {got}; want {want}"
    finally:
        router_module._MAX_NESTING = saved


@settings(max_examples=150, deadline=None)
@given(table=tables, extra=st.lists(paths, max_size=10), seed=st.randoms(use_true_random=False))
def test_registration_order_does_not_matter(
    table: list[tuple[str, str]], extra: list[str], seed: random.Random
) -> None:
    router, accepted = register(table)
    shuffled = list(enumerate(accepted))
    seed.shuffle(shuffled)
    other: Router[int] = Router()
    for index, (method, pattern) in shuffled:
        other.add(method, pattern, index)
    for path in probe_paths(accepted, extra):
        for method in METHODS:
            got, want = other.match(method, path), router.match(method, path)
            assert got == want, f"{shuffled} {method} {path}: got {got}; want {want}"


values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(pattern=patterns, data=st.data())
def test_url_for_round_trips(pattern: str, data: st.DataObject) -> None:
    router: Router[str] = Router()
    try:
        router.add("GET", pattern, "x", name="it")
    except RouteError:
        return
    names = [m.group(2) for m in WILD.finditer(pattern)]
    params = {name: data.draw(values, label=name) for name in names}
    path = router.url_for("it", **params)
    got = router.match("GET", path)
    assert got == ("x", params), f"{pattern} {params} -> {path}: got {got}; want {params}"
