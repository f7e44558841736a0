#!/usr/bin/env python3
"""Does the revocation feed stay fresh under overload? (Not a test; a check with figures.)

    .venv/bin/python benchmarks/stress_feed.py                       # 2 SQLite workers, 256 connections, 3 busy loops, 15 s
    .venv/bin/python benchmarks/stress_feed.py --runs 3 --busy 2
    .venv/bin/python benchmarks/stress_feed.py --workers 1 -- --revocation-poll-interval 0.25

Starts ``jwtkit serve --workers N`` on a fresh SQLite file (so every worker polls the database for
revocations), logs one user in, starts ``--busy`` processes that spin on the CPUs, and loads
/auth/me with one valid token for ``--duration`` seconds. A healthy feed answers every request 200;
a non-2xx here is a false "stale" 503 (the feed missed its staleness bound, 1 s by default), and the
server log's "out of sync" lines say when. Arguments after ``--`` go to ``jwtkit serve``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.http import bearer, sign_up
from harness.load import load
from harness.servers import free_port, jwtkit_serve

PASSWORD = "benchmark password"


def one_run(args: argparse.Namespace, tmp: Path, run: int) -> tuple[dict[str, float], int]:
    log = tmp / f"server{run}.log"
    backend = ["--database", f"sqlite:///{tmp / f'stress{run}.sqlite3'}", *args.serve_args]
    with jwtkit_serve(log, "--workers", str(args.workers), "--no-access-log", *backend, port=free_port()) as server:
        base = server.url
        auth = bearer(sign_up(base, "alice", PASSWORD)["access_token"])
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
        try:
            result = load(None, base, "/auth/me", auth, args.connections, args.duration, tmp)
        finally:
            for process in busy:
                process.kill()
                process.wait()
    stale = sum("out of sync" in line for line in log.read_text(errors="replace").splitlines())
    return result, stale


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--busy", type=int, default=3, help="busy-looping processes beside the server (default 3)")
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("serve_args", nargs="*", help="after --: more jwtkit serve flags")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_stress_feed_"))
    print(f"{args.workers} SQLite worker(s), {args.connections} connections, {args.busy} busy loop(s), "
          f"{args.duration:g} s per run, asyncio load generator")
    failed = 0
    for run in range(args.runs):
        result, stale = one_run(args, tmp, run)
        failed += result["non2xx"]
        print(f"run {run + 1}: {result['rps']:.0f} req/s, p99 {result['p99_ms']:.1f} ms, "
              f"{result['non2xx']} non-2xx of {result['requests']}, {stale} 'out of sync' log line(s)")
    print("feed stayed fresh" if failed == 0 else f"{failed} requests refused while the feed looked stale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
