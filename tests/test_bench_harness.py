"""The benchmark harness's pure parts: ratios, tables, the docs section rewrite, wrk's report,
redis-benchmark's CSV, route spelling, the kv data sets, the rpc targets; plus
``python -m bench --list`` (the contract scripts/test.sh relies on)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import types
from collections.abc import Mapping
from pathlib import Path

import bench.__main__ as entry
import pytest
from bench import systems
from bench.cache import cluster as cache_cluster
from bench.cache import inproc as cache_inproc
from bench.cache import peer as cache_peer
from bench.common import (
    Report,
    Result,
    Table,
    exit_status,
    format_number,
    format_ratio,
    markdown_table,
    median_result,
    paired_note,
    paired_ratio,
    ratio,
    replace_section,
    report_markdown,
    section_markers,
    table_rows,
    text_table,
    versus_rows,
)
from bench.kv import loading as kv_loading
from bench.kv import persistence as kv_persistence
from bench.kv.memory import Dataset
from bench.kv.servers import DEFAULT_OPTIONS, GEE, REDIS, resp_command, server_argv, text
from bench.kv.throughput import (
    COMMANDS,
    benchmark_argv,
    benchmark_error,
    expected_state,
    parse_csv,
)
from bench.orm.workload import FULL as ORM_FULL
from bench.orm.workload import OPERATIONS as ORM_OPERATIONS
from bench.orm.workload import PEERS as ORM_PEERS
from bench.orm.workload import multiples_of_raw, verdict
from bench.rpc import throughput as rpc
from bench.rpc.load import percentile
from bench.web.http_bench import FULL, LATE_ROUTE_SCRIPT, parse_wrk, wrk_argv
from bench.web.routes import LATE_PATTERN, concrete_path, github_routes, to_braces, to_litestar

ROOT = Path(__file__).resolve().parent.parent


def http_table() -> Table:
    return Table(
        title="HTTP",
        unit="req/s",
        higher_is_better=True,
        subject_label="framework",
        case_label="endpoint",
        extra_columns=["p99 ms"],
        baseline="raw",
        ours="gee",
        peers=["Slow", "Gone"],
        results=[
            Result("raw", "plaintext", 40000.0, {"p99 ms": 2.0}),
            Result("gee", "plaintext", 36000.0, {"p99 ms": 2.5}),
            Result("Slow", "plaintext", 12000.0, {"p99 ms": 9.0}),
            Result("Gone", "plaintext", status="unavailable", detail="cannot import gone"),
            Result("raw", "late", 30000.0, {"p99 ms": 3.0}),
            Result("gee", "late", 27000.0, {"p99 ms": 3.5}),
            Result("Slow", "late", 3000.0, {"p99 ms": 170.0}),
            Result("Gone", "late", status="failed", detail="exited with status 1"),
        ],
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "higher_is_better", "want"),
    [
        (36000.0, 12000.0, True, 3.0),  # throughput: ours / theirs
        (0.5, 50.0, False, 100.0),  # time: theirs / ours
        (10.0, 20.0, True, 0.5),  # behind
        (None, 20.0, True, None),
        (10.0, None, True, None),
        (10.0, 0.0, True, None),
        (0.0, 10.0, False, None),
    ],
)
def test_ratio(
    ours: float | None, theirs: float | None, higher_is_better: bool, want: float | None
) -> None:
    got = ratio(ours, theirs, higher_is_better)
    assert got == pytest.approx(want), f"got {got}; want {want}"


@pytest.mark.parametrize(
    ("value", "want"),
    [(33456.7, "33,457"), (173.4, "173"), (12.345, "12.3"), (0.7049, "0.70"), (None, "—")],
)
def test_format_number(value: float | None, want: str) -> None:
    assert format_number(value) == want, f"got {format_number(value)!r}; want {want!r}"


@pytest.mark.parametrize(("value", "want"), [(0.934, "0.93×"), (12.54, "12.5×"), (None, "—")])
def test_format_ratio(value: float | None, want: str) -> None:
    assert format_ratio(value) == want, f"got {format_ratio(value)!r}; want {want!r}"


def test_table_rows_group_by_case_and_compare_with_the_baseline() -> None:
    header, rows = table_rows(http_table())
    assert header == ["framework", "endpoint", "req/s", "p99 ms", "vs raw"]
    assert rows == [
        ["raw", "plaintext", "40,000", "2.00", "1.00×"],
        ["gee", "plaintext", "36,000", "2.50", "0.90×"],
        ["Slow", "plaintext", "12,000", "9.00", "0.30×"],
        ["Gone", "plaintext", "not installed", "—", "—"],
        ["raw", "late", "30,000", "3.00", "1.00×"],
        ["gee", "late", "27,000", "3.50", "0.90×"],
        ["Slow", "late", "3,000", "170", "0.10×"],
        ["Gone", "late", "failed", "—", "—"],
    ]


def test_table_rows_without_a_baseline_have_no_ratio_column() -> None:
    table = Table(title="t", unit="µs", higher_is_better=False, results=[Result("a", "c", 1.5)])
    assert table_rows(table) == (["subject", "case", "µs"], [["a", "c", "1.50"]])


def test_versus_rows_give_ours_against_each_peer_per_case() -> None:
    versus = versus_rows(http_table())
    assert versus == (
        ["gee vs", "plaintext", "late"],
        [["Slow", "3.00×", "9.00×"], ["Gone", "—", "—"]],
    )


def test_versus_rows_for_times_invert_the_ratio() -> None:
    table = Table(
        title="router",
        unit="µs/lookup",
        higher_is_better=False,
        ours="gee",
        peers=["Starlette"],
        results=[Result("gee", "203", 0.5), Result("Starlette", "203", 56.0)],
    )
    assert versus_rows(table) == (["gee vs", "203"], [["Starlette", "112.0×"]])


def test_versus_rows_none_without_ours() -> None:
    table = Table(title="t", unit="x", higher_is_better=True, results=[Result("a", "c", 1.0)])
    assert versus_rows(table) is None


def test_markdown_table() -> None:
    got = markdown_table(["framework", "endpoint", "req/s"], [["gee", "late", "27,000"]])
    want = "| framework | endpoint | req/s |\n| --- | --- | --: |\n| gee | late | 27,000 |"
    assert got == want, f"got {got!r}; want {want!r}"


def test_markdown_table_right_aligns_every_column_of_figures() -> None:
    got = markdown_table(["gee vs", "plaintext", "late"], [["Slow", "3.00×", "—"]])
    assert got.splitlines()[1] == "| --- | --: | --: |", f"got {got!r}"


def test_text_table_aligns_columns() -> None:
    got = text_table(["name", "req/s"], [["gee", "27,000"], ["Starlette", "3,000"]]).splitlines()
    assert got == [
        "name       req/s",
        "---------  ------",
        "gee        27,000",
        "Starlette   3,000",
    ], f"got {got}"


def test_report_markdown_has_machine_date_command_tables_and_problems() -> None:
    report = Report(system="web", title="web: gee", tables=[http_table()], notes=["A note."])
    machine = {"cpu": "Test CPU", "cores": "2", "python": "CPython 3.11.2", "os": "Debian 12"}
    body = report_markdown(
        report,
        machine=machine,
        date="2026-11-22 08:00 UTC",
        command="python -m bench web",
        chart="../bench/results/web.png",
    )
    for want in [
        "## web: gee",
        "Test CPU, 2 cores; Debian 12",
        "CPython 3.11.2",
        "2026-11-22 08:00 UTC",
        "`python -m bench web`",
        "| gee | plaintext | 36,000 | 2.50 | 0.90× |",
        "| gee vs | plaintext | late |",
        "| Slow | 3.00× | 9.00× |",
        "- Gone (late): failed — exited with status 1",
        "- Gone (plaintext): not installed — cannot import gone",
        "![web benchmark chart](../bench/results/web.png)",
        "A note.",
    ]:
        assert want in body, f"missing {want!r} in:\n{body}"


def test_replace_section_creates_the_page_when_empty() -> None:
    got = replace_section("", "web", "## web\nbody")
    start, end = section_markers("web")
    assert got.startswith("# Benchmarks\n"), got
    assert got.endswith(f"{start}\n## web\nbody\n{end}\n"), got


def test_replace_section_appends_a_missing_section_and_keeps_the_rest() -> None:
    text = "# Benchmarks\n\nIntro.\n\n<!-- bench:kv:start -->\nkv\n<!-- bench:kv:end -->\n"
    got = replace_section(text, "web", "web body")
    assert got == text + "\n<!-- bench:web:start -->\nweb body\n<!-- bench:web:end -->\n", got


def test_replace_section_replaces_only_its_own_section() -> None:
    text = (
        "# B\n\n<!-- bench:web:start -->\nold web\n<!-- bench:web:end -->\n\n"
        "<!-- bench:kv:start -->\nkv\n<!-- bench:kv:end -->\ntail\n"
    )
    got = replace_section(text, "web", "new web\n")
    want = text.replace("old web", "new web")
    assert got == want, f"got {got!r}; want {want!r}"
    assert replace_section(got, "web", "new web") == got  # idempotent


def test_replace_section_refuses_a_start_marker_without_its_end() -> None:
    with pytest.raises(ValueError, match="no matching"):
        replace_section("<!-- bench:web:start -->\nhalf\n", "web", "body")


@pytest.mark.parametrize(
    ("status", "ci", "want"),
    [("ok", True, 0), ("failed", False, 1), ("unavailable", False, 0), ("unavailable", True, 1)],
)
def test_exit_status(status: str, ci: bool, want: int) -> None:
    result = Result("peer", "case", 1.0 if status == "ok" else None)
    result.status = status  # type: ignore[assignment]
    report = Report(system="web", title="t", tables=[Table("t", "x", True, [result])])
    assert exit_status(report, ci=ci) == want


WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8000/user/keys/1
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.06ms  610.12us  15.03ms   90.10%
    Req/Sec    31.52k     1.93k   34.18k    82.00%
  Latency Distribution
     50%  854.00us
     75%    2.10ms
     90%    2.50ms
     99%    1.20s
  313569 requests in 10.00s, 40.37MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  31356.42
Transfer/sec:      4.04MB
"""


def test_parse_wrk() -> None:
    stats = parse_wrk(WRK_OUTPUT)
    assert stats.requests_per_s == pytest.approx(31356.42)
    assert stats.p50_ms == pytest.approx(0.854), f"got {stats.p50_ms}; want 0.854 (µs → ms)"
    assert stats.p99_ms == pytest.approx(1200.0), f"got {stats.p99_ms}; want 1200 (s → ms)"
    assert stats.requests == 313569
    assert stats.non_2xx == 7
    assert stats.socket_errors == 5


def test_parse_wrk_clean_run_has_no_errors() -> None:
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    stats = parse_wrk(clean)
    assert (stats.non_2xx, stats.socket_errors) == (0, 0)


def test_parse_wrk_rejects_a_report_without_latency() -> None:
    with pytest.raises(ValueError, match="wrk --latency"):
        parse_wrk(WRK_OUTPUT.replace("     99%    1.20s\n", ""))


def test_wrk_argv_passes_the_scripts_start_id() -> None:
    url = "http://127.0.0.1:1/user/keys/1"
    plain = wrk_argv(FULL, 10, url, None)
    assert plain == ["wrk", "-t1", "-c64", "-d10s", "--latency", url]
    scripted = wrk_argv(FULL, 10, url, LATE_ROUTE_SCRIPT, start=10**9)
    assert scripted == [*plain[:-1], "-s", str(LATE_ROUTE_SCRIPT), url, "--", "1000000000"]


@pytest.mark.parametrize(
    ("pattern", "braces", "litestar"),
    [
        ("/user/keys/:id", "/user/keys/{id}", "/user/keys/{id:str}"),
        ("/repos/:owner/:repo", "/repos/{owner}/{repo}", "/repos/{owner:str}/{repo:str}"),
        ("/assets/*filepath", "/assets/{filepath:path}", "/assets/{filepath:path}"),
        ("/s/:owner/:state/x", "/s/{owner}/{state}/x", "/s/{owner:str}/{state_:str}/x"),
        ("/events", "/events", "/events"),
    ],
)
def test_route_spellings(pattern: str, braces: str, litestar: str) -> None:
    assert to_braces(pattern) == braces, f"got {to_braces(pattern)}; want {braces}"
    assert to_litestar(pattern) == litestar, f"got {to_litestar(pattern)}; want {litestar}"


def test_github_routes_put_the_late_route_at_201_of_203() -> None:
    routes = github_routes()
    assert len(routes) == 203
    assert routes[200] == ("GET", LATE_PATTERN)
    assert len(set(routes)) == 203, "duplicate routes"
    assert concrete_path("/repos/:owner/:repo/git/*ref", "7") == "/repos/7/7/git/7"


def test_bench_list_names_web_kv_rpc_orm_and_cache() -> None:
    assert {"web", "kv", "rpc", "orm", "cache"} <= set(systems())
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == systems(), f"got {done.stdout!r}"


REDIS_BENCHMARK_CSV = """\
"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","43478.26","0.656","0.080","0.431","1.983","3.799","4.311"
"GET","68965.52","0.443","0.120","0.431","0.631","1.855","1.999"
"LPUSH","66666.67","0.487","0.192","0.439","0.735","2.447","2.591"
"LPUSH (needed to benchmark LRANGE)","105263.16","0.289","0.112","0.279","0.423","0.839","0.943"
"LRANGE_100 (first 100 elements)","28169.01","1.062","0.216","0.831","2.959","5.231","7.135"
"""


def test_parse_redis_benchmark_csv_keeps_the_named_tests_only() -> None:
    rows = parse_csv("WARNING: Could not fetch server CONFIG\n" + REDIS_BENCHMARK_CSV)
    assert list(rows) == ["set", "get", "lpush", "lrange_100"], rows
    assert rows["lpush"].rps == 66666.67  # not the LPUSH that fills LRANGE's list
    assert (rows["lrange_100"].p50_ms, rows["lrange_100"].p99_ms) == (0.831, 5.231)
    assert parse_csv("") == {}
    with pytest.raises(ValueError, match="header"):
        parse_csv('"test","requests"\n"SET","1"\n')


def test_redis_benchmark_command_and_its_error() -> None:
    argv = benchmark_argv(7000, 100_000, 16)
    assert argv[argv.index("-t") + 1] == ",".join(COMMANDS)
    assert argv[argv.index("-P") + 1] == "16"
    assert argv[-1] == "--csv"
    said = 'WARNING: x\n"SET","1"\nError from server: ERR unknown command \'RPOP\'\n'
    assert benchmark_error(said) == "Error from server: ERR unknown command 'RPOP'"
    assert benchmark_error("a\nb\nc\nd\n") == "b c d"


def test_kv_memory_data_sets_load_what_dbsize_will_count() -> None:
    assert resp_command("GET", b"k") == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert text("OK") == (b"+OK\r\n", b"$2\r\nOK\r\n")
    strings = Dataset("string keys", 3)
    assert strings.commands() == (
        b"".join(resp_command("SET", f"key:{i}", f"val:{i}") for i in range(3)),
        3,
    )
    hashes = Dataset("hash fields", 2_500)
    stream, commands = hashes.commands()
    assert (commands, hashes.keys, hashes.name) == (25, 3, "2,500 hash fields")
    assert stream.count(b"$6\r\nhash:2\r\n") == 5  # the last 500 fields
    assert Dataset("string keys", 1_000_000).name == "1M string keys"


def test_kv_server_options_override_the_defaults_for_both_servers() -> None:
    for subject in (REDIS, GEE):
        argv = server_argv(
            subject, 7000, Path("/d"), {"appendonly": "yes", "appendfsync": "always"}
        )
        assert argv[argv.index("--appendonly") + 1] == "yes"
        assert argv[argv.index("--appendfsync") + 1] == "always"
        assert argv[argv.index("--save") + 1] == DEFAULT_OPTIONS["save"] == ""
        assert argv.count("--appendonly") == 1
        assert argv[argv.index("--dir") + 1] == "/d"


def test_kv_expected_state_follows_the_tests_that_ran() -> None:
    full = dict(expected_state(500))
    assert full[resp_command("LLEN", "mylist")] == b":500\r\n"  # LPUSH, RPOP, LPUSH again
    assert len(full) == 6
    some = dict(expected_state(500, kv_persistence.COMMANDS))
    assert some == {
        resp_command("STRLEN", "key:__rand_int__"): b":3\r\n",
        resp_command("LLEN", "mylist"): b":500\r\n",
        resp_command("HLEN", "myhash"): b":1\r\n",
    }
    argv = benchmark_argv(7000, 500, 1, kv_persistence.COMMANDS)
    assert argv[argv.index("-t") + 1] == "set,lpush,hset"


def _aof_run(
    gee: Mapping[str, list[float]], redis: list[float]
) -> tuple[Table, dict[tuple[str, str], list[Result]]]:
    """A table of median passes and the passes it came from, as persistence.run builds them."""
    rounds: dict[tuple[str, str], list[Result]] = {}
    for command in kv_persistence.COMMANDS:
        for depth in (1, 16):
            name = kv_persistence.case(command, depth)
            rounds[("redis-server", name)] = [Result("redis-server", name, v) for v in redis]
            if name in gee:
                rounds[("gee.kv", name)] = [Result("gee.kv", name, v) for v in gee[name]]
    table = Table("t", "req/s", True)
    table.results = [median_result(results) for results in rounds.values()]
    return table, rounds


def test_kv_aof_target_note_takes_the_lowest_ratio_at_each_depth_both_ways() -> None:
    redis = [100_000.0, 110_000.0, 50_000.0]
    # set -P 1: medians 85k against 100k (0.85), but pass by pass 0.85, 1.09 and 1.2 (1.09).
    gee = {"set -P 1": [85_000.0, 120_000.0, 60_000.0]}
    gee |= {c: [v * 0.95 for v in redis] for c in ("lpush -P 1", "hset -P 1")}
    gee |= {"set -P 16": [v * 0.3 for v in redis], "lpush -P 16": [v * 0.2 for v in redis]}
    gee |= {"hset -P 16": [v * 0.4 for v in redis]}
    assert kv_persistence.target_note(*_aof_run(gee, redis)) == (
        "This run, gee.kv against redis-server with everysec: -P 1: lowest 0.85× between median"
        " passes (missed), 0.95× pass by pass (met); target 0.90×; -P 16: lowest 0.20× between"
        " median passes (missed), 0.20× pass by pass (missed); target 0.25×."
    )
    del gee["hset -P 16"]
    assert "-P 16: not measured" in kv_persistence.target_note(*_aof_run(gee, redis))


def test_kv_load_dataset_makes_one_key_per_command_and_the_checks_name_them() -> None:
    count = 200
    commands = kv_loading.dataset_commands(count, now_ms=1_000)
    assert len(commands) == count
    names = [c.split(b"\r\n")[2] for c in commands]
    assert names.count(b"SET") == count * (kv_loading.SHARE - 4) // kv_loading.SHARE
    assert {n: names.count(n) for n in (b"HSET", b"RPUSH", b"SADD", b"ZADD")} == dict.fromkeys(
        (b"HSET", b"RPUSH", b"SADD", b"ZADD"), count // kv_loading.SHARE
    )
    keys = {c.split(b"\r\n")[4] for c in commands}
    assert len(keys) == count
    checks = kv_loading.spot_checks(count)
    assert checks[0] == (resp_command("DBSIZE"), b":200\r\n")
    for request, _ in checks[1:]:
        assert request.split(b"\r\n")[4] in keys, request
    assert b"PXAT\r\n$8\r\n86401000\r\n" in b"".join(commands)


def test_rpc_percentile_is_nearest_rank() -> None:
    ordered = [float(i) for i in range(1, 101)]
    assert (percentile(ordered, 50), percentile(ordered, 99)) == (50.0, 99.0)
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_rpc_keeps_the_median_round() -> None:
    rounds = [{"calls": c, "seconds": 1.0, "p50_ms": c / 10, "p99_ms": 1.0} for c in (9, 3, 5)]
    assert rpc._median_round(rounds)["calls"] == 5
    assert rpc._median_round(rounds[:2])["calls"] == 3  # the lower middle of two


def _rpc_table(gee: float, p99: float, **others: float) -> Table:
    table = Table("t", "calls/s", True, [Result(rpc.GEE, rpc.CASE, gee, {"p99 ms": p99})])
    table.results += [Result(name, rpc.CASE, value) for name, value in others.items()]
    return table


def test_rpc_target_notes_say_which_targets_were_met() -> None:
    met = _rpc_table(70_000, 1.5, **{rpc.RAW: 100_000, rpc.GRPC: 4_000, rpc.RPYC: 25_000})
    assert rpc.target_notes(met)[1] == (
        "This run, gee.rpc msgpack: 70% of raw (met); 17.5× grpc.aio (met); 2.8× rpyc (met);"
        " p99 1.50 ms (met)."
    )
    missed = _rpc_table(50_000, 7.0, **{rpc.RAW: 100_000, rpc.GRPC: 4_000})
    assert rpc.target_notes(missed)[1] == (
        "This run, gee.rpc msgpack: 50% of raw (missed); 12.5× grpc.aio (missed);"
        " rpyc: not measured; p99 7.00 ms (missed)."
    )


def _cache_table(case: str, **values: float) -> Table:
    results = [Result(subject, case, value) for subject, value in values.items()]
    return Table(title="t", unit="u", higher_is_better=True, results=results)


def test_cache_hit_path_target_notes_say_which_targets_were_met() -> None:
    met = _cache_table(
        cache_inproc.CASE,
        **{cache_inproc.GEE_LRU: 4.2, cache_inproc.CT_GET: 3.5, cache_inproc.GEE_GROUP: 1.1},
    )
    assert cache_inproc.target_notes(met)[1] == (
        "This run: LRUCache.get 1.20× cachetools .get (met); await group.get 1.10 M/s (met)."
    )
    missed = _cache_table(
        cache_inproc.CASE, **{cache_inproc.GEE_LRU: 3.0, cache_inproc.GEE_GROUP: 0.5}
    )
    assert cache_inproc.target_notes(missed)[1] == (
        "This run: LRUCache.get vs cachetools .get: not measured;"
        " await group.get 0.50 M/s (missed)."
    )


def test_cache_peer_endpoint_target_is_half_of_go() -> None:
    table = _cache_table(
        cache_peer.CASE,
        **{cache_peer.GO: 60_000, cache_peer.CLI: 30_000, cache_peer.GRANIAN: 29_000},
    )
    assert cache_peer.target_notes(table)[1] == (
        "This run: gee cache (uvicorn) 50% of Go (met); gee HTTPPool (uvicorn): not measured;"
        " gee HTTPPool (granian) 48% of Go (missed)."
    )


def test_cache_peer_endpoint_keeps_the_median_round_or_the_failure() -> None:
    rounds = [Result("gee", cache_peer.CASE, value) for value in (30.0, 10.0, 20.0, 40.0)]
    assert median_result(rounds).value == 20.0
    failed = Result("gee", cache_peer.CASE, status="failed", detail="died")
    assert median_result([rounds[0], failed]) is failed


def test_cache_cluster_keys_belong_to_the_node_asked_for() -> None:
    from gee.cache import HashRing

    urls = [f"http://127.0.0.1:{port}" for port in (8001, 8002, 8003)]
    keys = cache_cluster.owned_keys(urls, urls[1], 50, "rk-")
    assert len(set(keys)) == 50
    assert {HashRing.of(urls).owner(key) for key in keys} == {urls[1]}


def test_cache_wrk_script_cycles_the_keys_the_node_was_warmed_with() -> None:
    script = cache_peer.SCRIPT.read_text()
    assert '"/_groupcache/scores/key-" .. i' in script
    assert "i = (i + 1) % n" in script
    assert cache_peer.working_set(3) == ["key-0", "key-1", "key-2"]


def test_bench_refuses_an_unknown_system() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "nosuchsystem"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, f"got {done.returncode}: {done.stderr}"
    assert "no benchmark for 'nosuchsystem'" in done.stderr


def fake_report(quick: bool) -> Report:
    table = Table(
        title="fake",
        unit="ops/s",
        higher_is_better=True,
        baseline="limit",
        ours="gee",
        peers=["peer"],
        results=[
            Result("limit", "get", 100.0),
            Result("gee", "get", 80.0),
            Result(
                "peer", "get", 40.0 if not quick else None, status="ok" if not quick else "failed"
            ),
        ],
    )
    return Report(system="fake", title="fake: gee", tables=[table])


@pytest.fixture
def fake_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``python -m bench``'s main with a system "fake", its results and docs under tmp_path."""
    module = types.ModuleType("bench.fake")
    module.run = fake_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.fake", module)
    monkeypatch.setattr(entry, "systems", lambda: ["fake"])
    monkeypatch.setattr(entry, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(entry, "DOCS", tmp_path / "docs" / "benchmarks.md")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def test_full_run_writes_results_and_its_docs_section(fake_system: Path) -> None:
    docs = fake_system / "docs" / "benchmarks.md"
    docs.parent.mkdir()
    docs.write_text("# Benchmarks\n\nKept.\n", encoding="utf-8")
    assert entry.main(["fake"]) == 0
    data = json.loads((fake_system / "results" / "fake.json").read_text(encoding="utf-8"))
    assert data["command"] == "python -m bench fake"
    assert data["tables"][0]["gee vs"] == {"peer": {"get": 2.0}}
    assert (fake_system / "results" / "fake.png").read_bytes()[:4] == b"\x89PNG"
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nKept.\n\n<!-- bench:fake:start -->\n## fake: gee\n")
    assert "| gee | get | 80.0 | 0.80× |" in text, text
    assert "![fake benchmark chart](../results/fake.png)" in text, text


def test_quick_run_fails_on_a_broken_peer_and_leaves_results_and_docs_alone(
    fake_system: Path,
) -> None:
    assert entry.main(["fake", "--quick"]) == 1
    assert (fake_system / "tmp" / "gee-bench" / "fake.quick.json").exists()
    assert not (fake_system / "results").exists()
    assert not (fake_system / "docs").exists()


def test_no_docs_leaves_the_docs_alone(fake_system: Path) -> None:
    assert entry.main(["fake", "--no-docs"]) == 0
    assert (fake_system / "results" / "fake.json").exists()
    assert not (fake_system / "docs").exists()


def test_orm_times_become_multiples_of_raw_and_a_verdict_per_target() -> None:
    cases = [op.case(ORM_FULL) for op in ORM_OPERATIONS]
    assert cases == [
        "insert ×10k",
        "bulk insert 100k",
        "select all 100k",
        "get by pk ×10k",
        "update ×10k",
    ]
    ours = [500.0, 250.0, 120.0, 150.0, 300.0]
    results = multiples_of_raw(
        [Result("raw", case, 100.0) for case in cases[:4]]  # no raw figure for the updates
        + [Result("gee.orm", case, value) for case, value in zip(cases, ours, strict=True)]
        + [Result(peer, case, 1000.0) for peer in ORM_PEERS for case in cases[1:]]
        + [
            Result("SQLAlchemy ORM", cases[0], 400.0),
            Result("SQLAlchemy Core", cases[0], 600.0),
            Result("peewee", cases[0], status="unavailable", detail="pip install peewee"),
        ]
    )
    by_key = {(r.subject, r.case): r for r in results}
    assert by_key["gee.orm", cases[0]].extra == {"× raw": 5.0}
    assert by_key["SQLAlchemy ORM", cases[0]].extra == {"× raw": 4.0}
    assert by_key["gee.orm", cases[4]].extra == {}, "no raw figure, no multiple"
    assert by_key["peewee", cases[0]].extra == {}
    table = Table("t", "ms", False, results=results, ours="gee.orm", peers=ORM_PEERS)
    assert verdict(table, ORM_FULL).splitlines() == [
        "- insert ×10k: gee.orm 500 ms = 5.00× raw (target ≤ 5×: met); behind SQLAlchemy ORM"
        " (0.80×); not measured: peewee",
        "- bulk insert 100k: gee.orm 250 ms = 2.50× raw (target ≤ 2×: MISSED); ahead of every peer",
        "- select all 100k: gee.orm 120 ms = 1.20× raw (target ≤ 1.5×: met); ahead of every peer",
        "- get by pk ×10k: gee.orm 150 ms = 1.50× raw (target ≤ 2×: met); ahead of every peer",
        "- update ×10k: not measured",
    ]


def test_web_keeps_each_subjects_median_round() -> None:

    rounds = [Result("gee.web", "plaintext", value=v) for v in (30_000.0, 10_000.0, 20_000.0)]
    assert median_result(rounds).value == 20_000.0
    even = [Result("gee.web", "plaintext", value=v) for v in (4.0, 1.0, 3.0, 2.0)]
    assert median_result(even).value == 2.0, "want the lower middle of an even count"
    broken = Result("gee.web", "plaintext", status="failed", detail="died")
    assert median_result([rounds[0], broken]).status == "failed"


def test_kv_cpu_seconds_reads_this_process_user_time() -> None:
    import os
    import time

    from bench.kv.cpu import cpu_seconds

    user0, sys0 = cpu_seconds(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.1:  # burn 0.1 s of CPU in this process
        pass
    user1, sys1 = cpu_seconds(os.getpid())
    assert user1 - user0 + sys1 - sys0 >= 0.05, f"got {user1 - user0 + sys1 - sys0:.3f} s"
    assert user1 >= user0
    assert sys1 >= sys0


def _passes(subject: str, values: list[float | None]) -> list[Result]:
    failed = Result(subject, "set", status="failed")
    return [Result(subject, "set", value=v) if v is not None else failed for v in values]


def test_paired_ratio_is_the_median_of_pass_by_pass_ratios() -> None:
    # Pass 2 ran on a host four times as fast for both: pass by pass every ratio is 0.5.
    ours = _passes("gee", [50.0, 200.0, 40.0])
    theirs = _passes("redis", [100.0, 400.0, 80.0])
    assert paired_ratio(ours, theirs, True) == 0.5
    assert paired_ratio(ours, theirs, False) == 2.0
    # The medians of each side would give 90/100 = 0.9; gee was ahead in 2 of 3 passes.
    ours = _passes("gee", [90.0, 50.0, 300.0])
    theirs = _passes("redis", [100.0, 40.0, 250.0])
    assert paired_ratio(ours, theirs, True) == 1.2


def test_paired_ratio_leaves_out_failed_passes_and_refuses_unpaired_lists() -> None:
    ours = _passes("gee", [None, 30.0])
    theirs = _passes("redis", [10.0, 60.0])
    assert paired_ratio(ours, theirs, True) == 0.5
    assert paired_ratio(_passes("gee", [None]), _passes("redis", [1.0]), True) is None
    assert paired_ratio([], _passes("redis", [1.0]), True) is None
    with pytest.raises(ValueError, match="not paired"):
        paired_ratio(_passes("gee", [1.0]), _passes("redis", [1.0, 2.0]), True)


def test_paired_note_names_each_case() -> None:
    rounds = {
        ("gee", "set"): _passes("gee", [50.0, 60.0, 70.0]),
        ("redis", "set"): _passes("redis", [100.0, 100.0, 100.0]),
    }
    note = paired_note(rounds, "gee", "redis", True)
    assert "the median ratio of gee to redis: set 0.60×." in note
