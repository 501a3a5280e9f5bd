"""The cache benchmark: gee.cache against cachetools, functools.lru_cache and Go's groupcache.

Three tables, as issue 5 asks: (1) the in-process hit path, gets per second (``inproc``);
(2) one node's peer endpoint under wrk, gee on uvicorn and granian against a Go groupcache
node (``peer``); (3) the latency of a remote hit through a 3-node cluster, gee's and Go's
(``cluster``). The Go node (``groupcache_node.go``) is built offline against Debian's
groupcache (``golang``); the gee node served by granian is ``node``. When a gee node falls short
of the Go node, ``python -m bench.cache.profile_node --profile`` shows where its per-request
time goes, in-process, function by function.
"""

from __future__ import annotations

from bench.common import Report

__all__ = ["run"]


def run(quick: bool) -> Report:
    """Run the three parts; ``quick``: small counts and 1 s wrk runs, every subject still runs."""
    import json
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path
    from typing import Literal

    from bench.cache import cluster, inproc, peer
    from bench.cache.golang import build_node, groupcache_missing
    from bench.cache.node import value_of
    from bench.common import Result

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    print("(1) in-process hit path", flush=True)
    hits = inproc.run(quick)
    with tempfile.TemporaryDirectory(prefix="gee-bench-cache-") as tmp:
        workdir = Path(tmp)
        go: Path | None = None
        go_problem = groupcache_missing()
        go_status: Literal["failed", "unavailable"] = "unavailable"
        if go_problem is None:
            print("  building the Go groupcache node", flush=True)
            try:
                go = build_node(workdir / "go")
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                go_problem, go_status = str(exc), "failed"
        db = workdir / "db.json"
        db.write_text(json.dumps({k: value_of(k) for k in peer.working_set()}), encoding="utf-8")
        setup = peer.Setup(db=db, go=go)
        print("(2) peer endpoint (wrk)", flush=True)
        endpoint = peer.run(quick, setup)
        print("(3) remote hit through a 3-node cluster", flush=True)
        latency = cluster.run(quick, setup, workdir)
    if go is None:
        detail = go_problem or "not built"
        endpoint.results.append(Result(peer.GO, peer.CASE, status=go_status, detail=detail))
        for case in cluster.CASES:
            latency.results.append(Result(cluster.GO, case, status=go_status, detail=detail))
    return Report(
        system="cache",
        title="cache: gee.cache against cachetools, lru_cache and Go groupcache",
        tables=[hits, endpoint, latency],
    )
