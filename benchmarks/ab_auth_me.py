#!/usr/bin/env python3
"""A change to ``/auth/me``, measured against the code before it in one run: two `jwtkit serve` workers, this
checkout's and one of ``--base`` (a git revision, checked out in a temporary worktree), side by side, under wrk
(``--connections``), their ``/health``, ``/auth/me`` hot (one token) and cold (``--distinct-tokens`` live
tokens in turn) interleaved round by round.

    .venv/bin/python benchmarks/ab_auth_me.py --base HEAD~1                    # SQLite, 5 rounds x 3 s
    .venv/bin/python benchmarks/ab_auth_me.py --base a0508ea --backend postgres --rounds 7

Servers as in ``ab_refresh.py`` (each tree's ``src`` with this checkout's interpreter, pinned to CPU 1; wrk on
CPU 0); the tokens are minted by refresh chains, as ``bench_stateful.py`` mints them. Printed per server: the
medians over rounds of req/s, of the per-round ratio to its own ``/health``, and of its CPU µs per request
(steadier than req/s on a machine whose other load comes and goes).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
from functools import partial
from typing import Any

from ab_refresh import chain_of, side_by_side
from bench_stateful import timed
from harness.http import bearer, call
from harness.load import add_load_options, load, load_tool, run_conversations
from harness.machine import pinning

PATHS = ("/health", "/auth/me hot", "/auth/me cold")


def cold_tokens(target: Any, n: int) -> list[str]:
    """``n`` distinct live access tokens of ``target``, minted by 16 refresh chains."""
    chains = [chain_of(target) for _ in range(16)]
    tokens: list[str] = []
    for chain in chains:
        chain.keep, chain.want = tokens, n
    while len(tokens) < n:
        run_conversations(target.port, chains, 2)
    assert all(call("GET", target.url + "/auth/me", headers=bearer(t))[0] == 200 for t in tokens[:: max(1, n // 20)])
    return tokens[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the git revision to compare this checkout with")
    ap.add_argument("--backend", choices=("postgres", "sqlite"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per cell (default 3)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--distinct-tokens", type=int, default=5000)
    add_load_options(ap, quiet_budget=False)
    args = ap.parse_args()
    wrk = load_tool(args)
    pin = pinning()
    pin.load_here()
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (req/s, CPU µs per request) per round
    with contextlib.ExitStack() as stack:
        servers = side_by_side(stack, args.base, args.backend, pin.server)
        cells = []
        for label, target, tmp in servers:
            hot, *cold = (bearer(t) for t in cold_tokens(target, args.distinct_tokens + 1))
            for path, url_path, headers in zip(PATHS, ("/health", "/auth/me", "/auth/me"), ({}, hot, cold), strict=True):
                cells.append((label, path, timed(target, partial(load, wrk, target.url, url_path, headers,
                                                                 args.connections, tmp=tmp, pin=pin.load))))
        for _, _, cell in cells:  # warm-up
            cell(1.0)
        rng = random.Random(10)
        for round_ in range(args.rounds):
            rng.shuffle(cells)
            for label, path, cell in cells:
                result = cell(args.duration)
                assert result["non2xx"] == 0, (label, path, result)
                runs.setdefault((label, path), []).append((result["rps"], result["cpu_us_per_req"]))
            print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr)
    print(f"{args.backend}, {args.rounds} rounds x {args.duration:g} s, wrk {args.connections} connections:")
    for label, _, _ in servers:
        health = runs[(label, "/health")]
        print(f"  {label}: /health {statistics.median(r for r, _ in health):.0f} req/s, "
              f"CPU {statistics.median(c for _, c in health):.0f} µs")
        for path in PATHS[1:]:
            cell = runs[(label, path)]
            ratio = statistics.median(r / h for (r, _), (h, _) in zip(cell, health, strict=True))
            print(f"    {path}: {statistics.median(r for r, _ in cell):.0f} req/s, ÷ /health {ratio:.2f} "
                  f"(per round {', '.join(f'{r / h:.2f}' for (r, _), (h, _) in zip(cell, health, strict=True))}), "
                  f"CPU {statistics.median(c for _, c in cell):.0f} µs per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
