#!/usr/bin/env python3
"""A change to the refresh, measured against the code before it in one run: two `jwtkit serve` workers, this
checkout's and one of ``--base`` (a git revision, checked out in a temporary worktree), side by side, and
their sequential ``/health`` and refresh latencies interleaved round by round.

    .venv/bin/python benchmarks/ab_refresh.py --base HEAD~1                  # PostgreSQL + Redis, 5 x 3 s
    .venv/bin/python benchmarks/ab_refresh.py --base a0508ea --backend sqlite --rounds 7

Each server runs its own tree's ``src`` (``PYTHONPATH``) with this checkout's interpreter and packages, pinned
to CPU 1 as ``bench_stateful.py`` pins its servers; the load (this script's asyncio generator, one keep-alive
connection: a refresh chain, as a client runs it) on CPU 0. PostgreSQL gets a fresh schema per server
(dropped at the end) and a private ``redis-server`` each; SQLite a file per server. Per round and server: the
p50 of ``/health`` and of the refresh, each ``--duration`` seconds, in an order shuffled per round, and the
server process's CPU per request (user + system, ``/proc``). Printed: each server's median p50s, the median of
its per-round refresh ÷ ``/health`` ratios, and its median CPU µs per request of each (steadier than latency on a
machine whose other load comes and goes). The README's
before/after figures for a refresh come from this script; read differences under ~20 µs as noise.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_scaleout import POSTGRES_URL, postgres_schema
from bench_stateful import RefreshChain
from harness import ROOT
from harness.http import call, login
from harness.load import Rotation, request_bytes, run_conversations
from harness.machine import cpu_seconds, pinning
from harness.servers import checkout_env, private_redis, processes

PASSWORD = "correct horse battery staple"


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary git worktree (removed at the end)."""
    path = Path(tempfile.mkdtemp(prefix="jwtkit_ab_")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(path), revision], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)


@contextlib.contextmanager
def server(src: Path, backend: str, tmp: Path, prefix: list[str]) -> Iterator[Any]:
    """A `jwtkit serve` of the tree whose ``src`` is given, on ``backend``."""
    env = checkout_env()
    env["PYTHONPATH"] = str(src)
    args = ["--no-access-log", "--register-max-per-client", "1000000000"]
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            schema = stack.enter_context(postgres_schema())
            redis_url = stack.enter_context(private_redis(tmp))
            args += ["--database", POSTGRES_URL, "--database-schema", schema, "--redis", redis_url,
                     "--redis-prefix", f"jwtkit_ab_{secrets.token_hex(4)}:"]
        else:
            args += ["--database", f"sqlite+aiosqlite:///{tmp / 'jwtkit.sqlite3'}"]
        yield stack.enter_context(processes.jwtkit_serve(tmp / "server.log", *args, prefix=tuple(prefix), env=env))


def side_by_side(stack: contextlib.ExitStack, base: str, backend: str, pin_server: list[str]) -> list[tuple[str, Any, Path]]:
    """A server of this checkout and one of ``base`` on ``backend``, entered on ``stack``: (label, target, its
    temporary directory) each."""
    base_tree = stack.enter_context(worktree(base))
    servers = []
    for label, src in {"this checkout": ROOT / "src", f"base {base}": base_tree / "src"}.items():
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jwtkit_ab_")))
        servers.append((label, stack.enter_context(server(src, backend, tmp, pin_server)), tmp))
    return servers


def chain_of(target: Any) -> RefreshChain:
    """A refresh chain of a newly registered user of ``target``."""
    username = f"ab{secrets.token_hex(4)}"
    status, _, body = call("POST", target.url + "/auth/register", body={"username": username, "password": PASSWORD})
    assert status == 201, body
    return RefreshChain(target.port, login(target.url, username, PASSWORD)["refresh_token"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the git revision to compare this checkout with")
    ap.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per cell (default 3)")
    args = ap.parse_args()
    pin = pinning()
    pin.load_here()
    p50: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with contextlib.ExitStack() as stack:
        servers = side_by_side(stack, args.base, args.backend, pin.server)
        cells = []
        for label, target, _ in servers:
            chain = chain_of(target)
            health = Rotation([request_bytes("GET", "/health", {}, port=target.port)])
            cells += [(label, "/health", target, health), (label, "refresh", target, chain)]
        for _, _, target, conversation in cells:  # warm-up
            run_conversations(target.port, [conversation], 1.0)
        rng = random.Random(10)
        for round_ in range(args.rounds):
            rng.shuffle(cells)
            for label, path, target, conversation in cells:
                before = cpu_seconds(target.pid)
                result = run_conversations(target.port, [conversation], args.duration)
                p50.setdefault((label, path), []).append(result["p50_ms"])
                cpu.setdefault((label, path), []).append((cpu_seconds(target.pid) - before) / result["requests"] * 1e6)
            print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr)
    print(f"{args.backend}, {args.rounds} rounds x {args.duration:g} s, one connection, p50 ms per round:")
    for label, _, _ in servers:
        health, refresh = p50[(label, "/health")], p50[(label, "refresh")]
        ratio = statistics.median(r / h for r, h in zip(refresh, health, strict=True))
        print(f"  {label}: /health {statistics.median(health):.3f}, refresh {statistics.median(refresh):.3f} "
              f"(refresh ÷ /health {ratio:.2f}); refresh per round {', '.join(f'{x:.3f}' for x in refresh)}")
        print(f"    server CPU µs per request (median of rounds): /health {statistics.median(cpu[(label, '/health')]):.0f}, "
              f"refresh {statistics.median(cpu[(label, 'refresh')]):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
