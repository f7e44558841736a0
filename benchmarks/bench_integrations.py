#!/usr/bin/env python3
"""Protected ÷ unprotected req/s of users' own apps (issue 11): jwtkit's FastAPI and Flask integrations
against the hand-written FastAPI + PyJWT + ``PyJWKClient`` dependency (the FastAPI tutorial way) and
against flask-jwt-extended, in one run; then the verify path's cost per token, in process.

    .venv/bin/python benchmarks/bench_integrations.py            # 5 rounds x 10 cells x 10 s (~10 min)
    .venv/bin/python benchmarks/bench_integrations.py --quick    # 1 round x 3 s, fewer micro rounds
    .venv/bin/python benchmarks/bench_integrations.py --json results.json

A real ``jwtkit serve`` (SQLite in a temporary directory) issues an ES256 access token and publishes the
JWKS every app reads. Five apps (``_integration_apps.py``), one worker each, all pinned to CPU 1 (the
load to CPU 0) when there are >= 2 CPUs: the FastAPI ones on uvicorn (access log off), the Flask ones on
gunicorn (one gthread worker, 4 threads). Each has ``/open`` (no auth) and ``/protected`` (the token's
``sub``). wrk (1 thread, N connections; the asyncio generator of ``bench_server.py`` without wrk) loads
the ten cells in a shuffled order per round; an app's ratio is its ``/protected`` req/s ÷ its ``/open``
req/s in the same round, the median over rounds. One token is sent on every request: jwtkit's integrations
remember verified tokens (``cache_size=4096``, as ``jwtkit serve`` does; the claims are checked every time),
the peers do not, and the ``cache_size=0`` app shows jwtkit's path when every request checks a signature.
Correctness gates first: every ``/protected`` answers
200 with the token, 401 without it and 401 with a tampered one.

The verify path (``_timing.py``'s paired rounds): µs per token for jwtkit's ``Verifier`` on a
``JWKSClient``, ``AsyncVerifier`` on an ``AsyncJWKSClient``, a ``Verifier`` on a fixed ``KeySet`` (the
reference), PyJWT's ``PyJWKClient.get_signing_key_from_jwt`` + ``jwt.decode``, and flask-jwt-extended's
``decode_token``, keys cached in all of them. Targets: each jwtkit ratio >= 0.85 and ahead of its peer's.
Not a test: figures depend on the machine and its load; the script prints them and whether the targets
were met. Every process started here is stopped by its PID; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import Cell, load_summary, paired_ratio, run_rounds
from bench_server import (
    ForeignLoad,
    cpu_seconds,
    http,
    run_python_load,
    run_wrk,
    start_process,
    start_server,
    stop_server,
    wait_quiet,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script sits in

HOST = "127.0.0.1"
PASSWORD = "benchmark password"
APPS: dict[str, tuple[str, str]] = {  # name: (server, factory)
    "FastAPI + jwtkit JWTBearer": ("uvicorn", "fastapi_jwtkit"),
    "FastAPI + jwtkit JWTBearer, cache_size=0": ("uvicorn", "fastapi_jwtkit_uncached"),
    "FastAPI + PyJWT PyJWKClient (tutorial)": ("uvicorn", "fastapi_pyjwt"),
    "Flask + jwtkit JWTAuth": ("gunicorn", "flask_jwtkit"),
    "Flask + flask-jwt-extended": ("gunicorn", "flask_jwt_extended"),
}
PEERS = {"FastAPI + jwtkit JWTBearer": "FastAPI + PyJWT PyJWKClient (tutorial)",
         "Flask + jwtkit JWTAuth": "Flask + flask-jwt-extended"}
OPEN, PROTECTED = "/open", "/protected"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its children (gunicorn's worker is the master's child)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += tree_cpu_seconds(int(child))
    return total


def start_app(server: str, factory: str, pin: list[str], log: Path) -> tuple[Any, str]:
    port = free_port()
    bench_dir = Path(__file__).resolve().parent
    if server == "uvicorn":
        cmd = [*pin, sys.executable, "-m", "uvicorn", "--factory", f"_integration_apps:{factory}", "--host", HOST,
               "--port", str(port), "--no-access-log", "--log-level", "info", "--app-dir", str(bench_dir)]
        listening = r"Uvicorn running on (http://127\.0\.0\.1:\d+)"
    else:
        cmd = [*pin, sys.executable, "-m", "gunicorn", f"_integration_apps:{factory}()", "--bind", f"{HOST}:{port}",
               "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--chdir", str(bench_dir)]
        listening = r"Listening at: (http://127\.0\.0\.1:\d+)"
    return start_process(cmd, log, listening=listening, ready_path=OPEN)


def issue_token(base: str) -> str:
    st, _, body = http("POST", base + "/auth/register", {"username": "bench", "password": PASSWORD})
    assert st == 201, (st, body)
    st, _, body = http("POST", base + "/auth/token", {"username": "bench", "password": PASSWORD})
    assert st == 200, (st, body)
    return str(json.loads(body)["access_token"])


def check_app(name: str, base: str, token: str) -> None:
    st, _, body = http("GET", base + PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert st == 200, (name, st, body)
    assert json.loads(body)["sub"] is not None, (name, body)
    assert http("GET", base + PROTECTED)[0] in (401, 403), name  # HTTPBearer (the tutorial's) answers 403
    assert http("GET", base + PROTECTED, headers={"Authorization": f"Bearer {token[:-4]}AAAA"})[0] in (401, 422), name
    assert http("GET", base + OPEN)[0] == 200, name


# ---------------------------------------------------------------- the verify path, in process
def _finish(coroutine: Any) -> Any:
    """Run a coroutine that never suspends (a cached key set): the verify cost without an event loop's."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the coroutine suspended: the key set was not cached")


def verify_cells(jwks_url: str, token: str) -> tuple[list[Cell], Callable[[], Any]]:
    import asyncio

    import jwt
    from _integration_apps import flask_jwt_extended
    from flask import Flask
    from flask_jwt_extended import JWTManager, decode_token

    import jwtkit

    def frozen() -> float:  # the cached path is what is timed: the key set never expires on this clock
        return 0.0

    sync_client = jwtkit.JWKSClient(jwks_url, clock=frozen)
    ours = jwtkit.Verifier(sync_client, algorithms=["ES256"], required=["exp"])
    fixed = jwtkit.Verifier(sync_client.keyset(), algorithms=["ES256"], required=["exp"])
    async_client = jwtkit.AsyncJWKSClient(jwks_url, clock=frozen)
    ours_async = jwtkit.AsyncVerifier(async_client, algorithms=["ES256"], required=["exp"])
    asyncio.run(ours_async.verify(token))  # fills the async client's cache
    pyjwk = jwt.PyJWKClient(jwks_url)

    def pyjwt_path(t: str) -> Any:
        return jwt.decode(t, pyjwk.get_signing_key_from_jwt(t).key, algorithms=["ES256"], options={"require": ["exp"]})

    fje_app: Flask = flask_jwt_extended()
    assert isinstance(fje_app.extensions.get("flask-jwt-extended"), JWTManager)
    context = fje_app.app_context()
    context.push()
    cells = [
        Cell(("jwtkit Verifier(KeySet)  [reference]",), "verify", fixed.verify, lambda a: a),
        Cell(("jwtkit Verifier(JWKSClient)",), "verify", ours.verify, lambda a: a),
        Cell(("jwtkit AsyncVerifier(AsyncJWKSClient)",), "verify", lambda t: _finish(ours_async.verify(t)), lambda a: a),
        Cell(("PyJWT PyJWKClient + jwt.decode",), "verify", pyjwt_path, lambda a: a),
        Cell(("flask-jwt-extended decode_token",), "verify", decode_token, lambda a: a),
    ]
    for cell in cells:  # correctness gate
        assert cell.fn(token)["sub"], cell.key
    return cells, context.pop


def http_report(results: dict[tuple[str, str], list[dict[str, Any]]], args: argparse.Namespace, wrk: str | None,
                pinned: bool) -> str:
    """The req/s table, the ratios and the targets."""
    ratio: dict[str, float] = {}
    lines = [
        f"{'wrk' if wrk else 'asyncio load generator'}: 1 thread, {args.connections} connections, "
        f"{args.duration:g} s per cell, {args.rounds} round(s), cells shuffled per round"
        f"{'; apps pinned to CPU 1, load to CPU 0' if pinned else ''}; one worker per app (uvicorn; gunicorn "
        f"gthread x4); ES256 token from jwtkit serve; ratio = /protected req/s ÷ /open req/s of the same app in "
        f"the same round (median); CPU µs/req over /open = the app process's extra CPU per protected request.", "",
        "| app | /open req/s | /protected req/s | protected ÷ open | CPU µs/req over /open | non-2xx |",
        "|---|---|---|---|---|---|",
    ]
    for name in APPS:
        opened, protected = results[(name, OPEN)], results[(name, PROTECTED)]
        ratio[name] = statistics.median(p["rps"] / o["rps"] for p, o in zip(protected, opened, strict=True))
        extra_cpu = statistics.median(p["cpu_us_per_req"] - o["cpu_us_per_req"]
                                      for p, o in zip(protected, opened, strict=True))
        lines.append(f"| {name} | {statistics.median(o['rps'] for o in opened):.0f} | "
                     f"{statistics.median(p['rps'] for p in protected):.0f} | {ratio[name]:.2f} | {extra_cpu:+.0f} | "
                     f"{sum(x['non2xx'] for x in opened + protected)} |")
    lines.append("")
    for ours, peer in PEERS.items():
        met = ratio[ours] >= 0.85 and ratio[ours] > ratio[peer]
        lines.append(f"target {ours}: {ratio[ours]:.2f} (>= 0.85 and ahead of {peer} at {ratio[peer]:.2f}): "
                     f"{'met' if met else 'NOT met'}")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- the run
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10, help="seconds per cell per round (default 10)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--micro-rounds", type=int, default=21, help="rounds of the in-process verify timing")
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 5 micro rounds")
    ap.add_argument("--python-load", action="store_true", help="use the asyncio load generator even if wrk exists")
    ap.add_argument("--quiet-budget", type=float, default=None,
                    help="seconds to wait in all for other processes to go quiet (default 240; 0 with --quick)")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.micro_rounds = 3, 1, 5
    if args.quiet_budget is None:
        args.quiet_budget = 0.0 if args.quick else 240.0
    wrk = None if args.python_load else shutil.which("wrk")
    ncpu = os.cpu_count() or 1
    pinned = ncpu >= 2 and shutil.which("taskset") is not None
    pin_srv = ["taskset", "-c", "1"] if pinned else []
    pin_load = ["taskset", "-c", "0"] if pinned else []

    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_integrations_"))
    # The one token must outlive the run (the default access TTL is 5 minutes).
    issuer, issuer_url = start_server([], f"sqlite+aiosqlite:///{tmp / 'issuer.sqlite3'}", tmp / "issuer.log",
                                      "--access-ttl", "7200")
    servers: dict[str, tuple[Any, str]] = {}
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        token = issue_token(issuer_url)
        jwks_url = issuer_url + "/.well-known/jwks.json"
        os.environ["BENCH_JWKS_URL"] = jwks_url
        for name, (server, factory) in APPS.items():
            servers[name] = start_app(server, factory, pin_srv, tmp / f"{factory}.log")
            check_app(name, servers[name][1], token)
        print(f"issuer {issuer_url}; apps {', '.join(f'{n} pid {p.pid}' for n, (p, _) in servers.items())}; "
              f"load: {'wrk' if wrk else 'asyncio generator'}; correctness checks passed", file=sys.stderr)
        headers = {OPEN: {}, PROTECTED: {"Authorization": f"Bearer {token}"}}

        def run(name: str, path: str, duration: float) -> dict[str, Any]:
            process, base = servers[name]
            fl = ForeignLoad(lambda: tree_cpu_seconds(process.pid))
            c0 = tree_cpu_seconds(process.pid)
            if wrk:
                res = run_wrk(wrk, pin_load, base + path, headers[path], args.connections, duration, tmp)
            else:
                res = run_python_load(int(base.rsplit(":", 1)[1]), path, headers[path], args.connections, duration)
            res["cpu_us_per_req"] = (tree_cpu_seconds(process.pid) - c0) * 1e6 / max(res["requests"], 1)
            res["foreign_load"] = fl.stop()
            return res

        cells = [(name, path) for name in APPS for path in (OPEN, PROTECTED)]
        for cell in cells:  # warm-up
            run(*cell, 2)
        rng = random.Random(11)
        waited = 0.0
        for r in range(args.rounds):
            rng.shuffle(cells)
            for cell in cells:
                if args.quiet_budget - waited > 0:
                    waited += wait_quiet(min(30.0, args.quiet_budget - waited))
                res = run(*cell, args.duration)
                res["round"] = r
                results.setdefault(cell, []).append(res)
                print(f"round {r + 1}: {cell[0]} {cell[1]}: {res['rps']:.0f} req/s, server CPU "
                      f"{res['cpu_us_per_req']:.0f} µs/req, other load {(res['foreign_load'] or 0) * 100:.0f}%, "
                      f"non2xx {res['non2xx']}", file=sys.stderr)
        print(http_report(results, args, wrk, pinned), flush=True)
        micro, pop_context = verify_cells(jwks_url, token)
        try:
            stats = run_rounds(micro, lambda: token, target=0.02, rounds=args.micro_rounds,
                               quiet_budget=0.0 if args.quick else 60.0)
        finally:
            pop_context()
    finally:
        for process, _ in servers.values():
            stop_server(process)
        stop_server(issuer)
        print("every server stopped", file=sys.stderr)

    reference = micro[0]
    lines = ["Verify path, µs per token (median over rounds; paired ratio to a Verifier on a fixed KeySet):", "",
             "| verifier | µs | vs fixed KeySet |", "|---|---|---|"]
    for cell in micro:
        lines.append(f"| {cell.key[0]} | {cell.median_us():.1f} | {paired_ratio(cell, reference):.2f} |")
    lines += ["", load_summary(stats)]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"http": {f"{n} {p}": runs for (n, p), runs in results.items()},
             "verify_us": {c.key[0]: c.samples for c in micro}}, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
