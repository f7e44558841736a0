#!/usr/bin/env python3
"""Protected ÷ unprotected req/s of users' own apps (issue 11): jwtkit's FastAPI and Flask integrations
against the hand-written FastAPI + PyJWT + ``PyJWKClient`` dependency (the FastAPI tutorial way, with
PyJWT's documented per-kid key cache) and against flask-jwt-extended, jwtkit's Starlette backend, and a
FastAPI dependency that checks nothing (FastAPI's own cost of a dependency: the ceiling of any FastAPI
ratio), in one run; then the verify path's cost per token, in process.

    .venv/bin/python benchmarks/bench_integrations.py            # 5 rounds x 16 cells x 10 s (~13 min)
    .venv/bin/python benchmarks/bench_integrations.py --quick    # 1 round x 3 s, fewer micro rounds
    .venv/bin/python benchmarks/bench_integrations.py --json results.json

A real ``jwtkit serve`` (SQLite in a temporary directory) issues an ES256 access token and publishes the
JWKS every app reads. Eight apps (``_integration_apps.py``), one worker each, all pinned to CPU 1 (the
load to CPU 0) when there are >= 2 CPUs: the ASGI ones on uvicorn (access log off), the Flask ones on
gunicorn (one gthread worker, 4 threads). Each has ``/open`` (no auth) and ``/protected`` (the token's
``sub``). wrk (1 thread, N connections; the harness's asyncio generator without wrk) loads
the sixteen cells in a shuffled order per round; an app's ratio is its ``/protected`` req/s ÷ its ``/open``
req/s in the same round, the median over rounds. One token is sent on every request: jwtkit's integrations
remember verified tokens (``cache_size=4096``, as ``jwtkit serve`` does; the claims are checked every time),
the peers do not, and the ``cache_size=0`` app shows jwtkit's path when every request checks a signature.
Correctness gates first: every ``/protected`` answers
200 with the token, 401 without it and 401 with a tampered one.

The ASGI apps in process (``harness/timing.py``'s paired rounds): each uvicorn app's ``/open`` and
``/protected`` called straight through ASGI, no socket and no HTTP parsing: µs per request and what
protection adds, the steadier figure on a loaded machine (its ratio leaves the server's share out).

The verify path (the same paired rounds): µs per token for jwtkit's ``Verifier`` on a
``JWKSClient``, ``AsyncVerifier`` on an ``AsyncJWKSClient``, a ``Verifier`` on a fixed ``KeySet`` (the
reference), PyJWT's ``PyJWKClient.get_signing_key_from_jwt`` + ``jwt.decode``, and flask-jwt-extended's
``decode_token``, keys cached in all of them. Targets: each jwtkit ratio >= 0.85 and ahead of its peer's.
Not a test: figures depend on the machine and its load; the script prints them and whether the targets
were met. Every process started here is stopped by its PID; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.http import call as http
from harness.load import add_load_options, load, load_tool
from harness.machine import ForeignLoad, pinning, tree_cpu_seconds
from harness.report import markdown_table
from harness.rounds import interleave, median_of, same_round_diff, same_round_ratio
from harness.servers import HOST, free_port, jwtkit_serve, running
from harness.timing import Cell, load_summary, paired_diff_us, paired_ratio, run_rounds

PASSWORD = "benchmark password"
FLOOR = "FastAPI, a dependency that checks nothing [floor]"
PYJWT = "FastAPI + PyJWT PyJWKClient(cache_keys=True) (tutorial)"
APPS: dict[str, tuple[str, str]] = {  # name: (server, factory)
    "FastAPI + jwtkit JWTBearer": ("uvicorn", "fastapi_jwtkit"),
    "FastAPI + jwtkit JWTBearer, cache_size=0": ("uvicorn", "fastapi_jwtkit_uncached"),
    "FastAPI + jwtkit JWTAuthBackend middleware (no Depends)": ("uvicorn", "fastapi_jwtkit_middleware"),
    FLOOR: ("uvicorn", "fastapi_floor"),
    PYJWT: ("uvicorn", "fastapi_pyjwt"),
    "Starlette + jwtkit JWTAuthBackend": ("uvicorn", "starlette_jwtkit"),
    "Flask + jwtkit JWTAuth": ("gunicorn", "flask_jwtkit"),
    "Flask + flask-jwt-extended": ("gunicorn", "flask_jwt_extended"),
}
PEERS: dict[str, str | None] = {"FastAPI + jwtkit JWTBearer": PYJWT,
                                "FastAPI + jwtkit JWTAuthBackend middleware (no Depends)": PYJWT, "Starlette + jwtkit JWTAuthBackend": None,
                                "Flask + jwtkit JWTAuth": "Flask + flask-jwt-extended"}
OPEN, PROTECTED = "/open", "/protected"


def start_app(server: str, factory: str, pin: list[str], log: Path) -> contextlib.AbstractContextManager[Any]:
    """One of the apps of ``_integration_apps.py`` on a free port, once ``/open`` answers."""
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
    return running(cmd, log, listening=listening, ready_path=OPEN)


def issue_token(base: str) -> str:
    st, _, body = http("POST", base + "/auth/register", {"username": "bench", "password": PASSWORD})
    assert st == 201, (st, body)
    st, _, body = http("POST", base + "/auth/token", {"username": "bench", "password": PASSWORD})
    assert st == 200, (st, body)
    return str(json.loads(body)["access_token"])


def check_app(name: str, base: str, token: str) -> None:
    if name == FLOOR:  # checks nothing, by design
        assert http("GET", base + PROTECTED)[0] == 200, name
        return
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
    pyjwk = jwt.PyJWKClient(jwks_url, cache_keys=True)

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


# ---------------------------------------------------------------- the ASGI apps' request path, in process
def _asgi_request(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[Any, list[int]]:
    """A GET straight into an ASGI app, no socket and no HTTP parsing: the call to await, and where the
    status will be."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": (HOST, 1), "server": (HOST, 80), "state": {}}
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    return app(scope, receive, send), status


def _asgi_get(app: Any, path: str, headers: list[tuple[bytes, bytes]], _: Any = None) -> int:
    call, status = _asgi_request(app, path, headers)
    _finish(call)
    return status[0]


def asgi_cells(token: str) -> list[Cell]:
    """``/open`` and ``/protected`` of every uvicorn app, in process: what protecting a route adds per
    request without the server's share of it (the steadier figure on a loaded machine)."""
    import asyncio

    import _integration_apps

    cells = []
    for name, (server, factory) in APPS.items():
        if server != "uvicorn":
            continue
        app = getattr(_integration_apps, factory)()
        for path in (OPEN, PROTECTED):
            headers = [(b"host", b"app")]
            if path == PROTECTED:
                headers.append((b"authorization", f"Bearer {token}".encode()))
            asyncio.run(_asgi_request(app, path, headers)[0])  # fills the app's JWKS cache
            cells.append(Cell((name, path), name, functools.partial(_asgi_get, app, path, headers), lambda a: a))
    for cell in cells:  # correctness gate; nothing suspends from here on
        assert cell.fn(None) == 200, cell.key
    return cells


def asgi_report(cells: list[Cell]) -> list[str]:
    by_key = {cell.key: cell for cell in cells}
    rows = []
    for name in dict.fromkeys(cell.key[0] for cell in cells):
        opened, protected = by_key[(name, OPEN)], by_key[(name, PROTECTED)]
        rows.append([name, f"{opened.median_us():.1f}", f"{protected.median_us():.1f}",
                     f"{paired_diff_us(protected, opened):+.1f}", f"{paired_ratio(opened, protected):.2f}"])
    return ["The ASGI apps in process (no socket, no HTTP parsing; µs per request, medians over paired rounds; the "
            "ratio leaves the server's share out, so it is lower than over HTTP):", "",
            *markdown_table(["app", "/open µs", "/protected µs", "protection adds µs", "open ÷ protected time"], rows), ""]


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
    ]
    rows = []
    for name in APPS:
        opened, protected = results[(name, OPEN)], results[(name, PROTECTED)]
        ratio[name] = same_round_ratio(protected, opened)
        extra_cpu = same_round_diff(protected, opened, "cpu_us_per_req")
        rows.append([name, f"{median_of(opened):.0f}", f"{median_of(protected):.0f}", f"{ratio[name]:.2f}",
                     f"{extra_cpu:+.0f}", f"{sum(x['non2xx'] for x in opened + protected)}"])
    lines += markdown_table(["app", "/open req/s", "/protected req/s", "protected ÷ open", "CPU µs/req over /open",
                             "non-2xx"], rows)
    lines.append("")
    for ours, peer in PEERS.items():
        met = ratio[ours] >= 0.85 and (peer is None or ratio[ours] > ratio[peer])
        ahead = "" if peer is None else f" and ahead of {peer} at {ratio[peer]:.2f}"
        lines.append(f"target {ours}: {ratio[ours]:.2f} (>= 0.85{ahead}): {'met' if met else 'NOT met'}")
    lines.append(f"(FastAPI's own cost of one dependency, {FLOOR}: {ratio[FLOOR]:.2f}; no FastAPI dependency "
                 f"can do better)")
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
    add_load_options(ap)
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.micro_rounds = 3, 1, 5
    wrk = load_tool(args)
    pin = pinning()

    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_integrations_"))
    with contextlib.ExitStack() as stack:
        # The one token must outlive the run (the default access TTL is 5 minutes).
        issuer = stack.enter_context(jwtkit_serve(
            tmp / "issuer.log", "--database", f"sqlite+aiosqlite:///{tmp / 'issuer.sqlite3'}", "--no-access-log",
            "--access-ttl", "7200"))
        stack.callback(print, "every server stopped", file=sys.stderr)
        token = issue_token(issuer.url)
        jwks_url = issuer.url + "/.well-known/jwks.json"
        os.environ["BENCH_JWKS_URL"] = jwks_url
        servers: dict[str, Any] = {}
        for name, (server, factory) in APPS.items():
            servers[name] = stack.enter_context(start_app(server, factory, pin.server, tmp / f"{factory}.log"))
            check_app(name, servers[name].url, token)
        print(f"issuer {issuer.url}; apps {', '.join(f'{n} pid {s.pid}' for n, s in servers.items())}; "
              f"load: {'wrk' if wrk else 'asyncio generator'}; correctness checks passed", file=sys.stderr)
        headers = {OPEN: {}, PROTECTED: {"Authorization": f"Bearer {token}"}}

        def run(cell: tuple[str, str], duration: float) -> dict[str, Any]:
            path, app = cell[1], servers[cell[0]]
            fl = ForeignLoad(lambda: tree_cpu_seconds(app.pid))
            c0 = tree_cpu_seconds(app.pid)
            res = load(wrk, app.url, path, headers[path], args.connections, duration, tmp, pin.load)
            res["cpu_us_per_req"] = (tree_cpu_seconds(app.pid) - c0) * 1e6 / max(res["requests"], 1)
            res["foreign_load"] = fl.stop()
            return res

        cells = [(name, path) for name in APPS for path in (OPEN, PROTECTED)]
        for cell in cells:  # warm-up
            run(cell, 2)
        results = interleave(
            cells, args.rounds, lambda cell, _: run(cell, args.duration), seed=11, quiet_budget=args.quiet_budget,
            describe=lambda cell, res: (
                f"{cell[0]} {cell[1]}: {res['rps']:.0f} req/s, server CPU {res['cpu_us_per_req']:.0f} µs/req, "
                f"other load {(res['foreign_load'] or 0) * 100:.0f}%, non2xx {res['non2xx']}"))
        print(http_report(results, args, wrk, pin.enabled), flush=True)
        asgi = asgi_cells(token)
        asgi_stats = run_rounds(asgi, lambda: None, target=0.02, rounds=args.micro_rounds,
                                quiet_budget=0.0 if args.quick else 30.0)
        print("\n".join([*asgi_report(asgi), load_summary(asgi_stats), ""]), flush=True)
        micro, pop_context = verify_cells(jwks_url, token)
        try:
            stats = run_rounds(micro, lambda: token, target=0.02, rounds=args.micro_rounds,
                               quiet_budget=0.0 if args.quick else 60.0)
        finally:
            pop_context()

    reference = micro[0]
    lines = ["Verify path, µs per token (median over rounds; paired ratio to a Verifier on a fixed KeySet):", ""]
    lines += markdown_table(["verifier", "µs", "vs fixed KeySet"],
                            [[c.key[0], f"{c.median_us():.1f}", f"{paired_ratio(c, reference):.2f}"] for c in micro])
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
