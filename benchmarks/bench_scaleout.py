#!/usr/bin/env python3
"""Scale-out figures (issue 4), in one run: /auth/me req/s on 1 and 2 workers with SQLite and with
PostgreSQL + Redis, and how long a logout on one process takes to be refused by another.

    .venv/bin/python benchmarks/bench_scaleout.py            # 3 rounds x 10 s per cell, 200 logouts
    .venv/bin/python benchmarks/bench_scaleout.py --quick    # 1 round x 3 s, 30 logouts
    .venv/bin/python benchmarks/bench_scaleout.py --json results.json

Throughput: for each backend (an SQLite file; PostgreSQL on 127.0.0.1:5432 in a fresh schema plus a
private ``redis-server`` on a free port) and each worker count (``jwtkit serve --workers N``, access log
off), wrk (1 thread, N connections; the asyncio generator without wrk) loads /health and /auth/me with
one live access token; the cells run in a shuffled order per round and the report gives medians over
rounds and /auth/me's req/s relative to /health in the same round. Nothing is pinned: two workers and
the load generator share the machine's CPUs, so on a 2-CPU machine the second worker competes with wrk.

Propagation: two separate ``jwtkit serve`` processes A and B, on PostgreSQL + Redis (pub/sub) and on
one SQLite file (each polls the database every 0.1 s, the default). For each of N
logouts: log in on A, check the access token works on B, log out on A, then poll /auth/me on B over a
keep-alive connection until it answers 401. Reported: the delay from A's 204 to B's first 401, and
from the start of the logout request, p50/p90/p99/max. Every process started here is stopped at the
end (its process group), the schema dropped; only 127.0.0.1 is used. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_server import http as http_call
from bench_server import run_python_load, run_wrk

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

HOST = "127.0.0.1"
PASSWORD = "benchmark password"
PROPAGATION_BACKENDS = ("PostgreSQL + Redis", "SQLite, polled every 0.1 s")
POSTGRES_URL = os.environ.get("JWTKIT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def private_redis(tmp: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield f"redis://{HOST}:{port}/0"
    finally:
        stop_group(proc)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    import asyncpg
    from sqlalchemy import make_url

    url = make_url(POSTGRES_URL)
    name = f"jwtkit_bench_{secrets.token_hex(4)}"

    async def drop() -> None:
        conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                     database=url.database)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    try:
        yield name
    finally:
        asyncio.run(drop())


@contextlib.contextmanager
def serve(log: Path, args: list[str], workers: int = 1) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jwtkit", "serve", "--host", HOST, "--port", str(port),
                                 "--workers", str(workers), "--no-access-log", *args],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jwtkit serve exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if http_call("GET", base + "/health")[0] == 200:
                    break
            if time.time() > deadline:
                raise RuntimeError("jwtkit serve did not start")
            time.sleep(0.1)
        yield base
    finally:
        stop_group(proc)


def sign_up(base: str, username: str) -> dict[str, Any]:
    st, _, body = http_call("POST", base + "/auth/register", {"username": username, "password": PASSWORD})
    assert st == 201, (st, body)
    st, _, body = http_call("POST", base + "/auth/token", {"username": username, "password": PASSWORD})
    assert st == 200, (st, body)
    pair: dict[str, Any] = json.loads(body)
    return pair


def load(wrk: str | None, base: str, path: str, headers: dict[str, str], connections: int, duration: float,
         tmp: Path) -> dict[str, Any]:
    if wrk:
        return run_wrk(wrk, [], base + path, headers, connections, duration, tmp)
    return run_python_load(int(base.rsplit(":", 1)[1]), path, headers, connections, duration)


def throughput(args: argparse.Namespace, wrk: str | None, tmp: Path, backends: dict[str, list[str]]
               ) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}
    cells = [(backend, workers) for backend in backends for workers in (1, 2)]
    rng = random.Random(11)
    for r in range(args.rounds):
        rng.shuffle(cells)
        for backend, workers in cells:
            with contextlib.ExitStack() as stack:
                backend_args = backends[backend]
                if backend.startswith("PostgreSQL"):
                    schema = stack.enter_context(postgres_schema())
                    redis_url = stack.enter_context(private_redis(tmp))
                    backend_args = [*backend_args, "--database-schema", schema, "--redis", redis_url]
                else:
                    backend_args = [*backend_args[:-1], f"{backend_args[-1]}.{r}.{workers}.sqlite3"]
                base = stack.enter_context(serve(tmp / "server.log", backend_args, workers))
                pair = sign_up(base, "alice")
                auth = {"Authorization": f"Bearer {pair['access_token']}"}
                assert http_call("GET", base + "/auth/me", headers=auth)[0] == 200
                assert http_call("GET", base + "/auth/me")[0] == 401
                for path, h in (("/health", {}), ("/auth/me", auth)):  # warm-up, every worker
                    load(wrk, base, path, h, args.connections, 1, tmp)
                pair_results = {}
                for name, path, h in rng.sample([("health", "/health", {}), ("me", "/auth/me", auth)], 2):
                    pair_results[name] = load(wrk, base, path, h, args.connections, args.duration, tmp)
                me, health = pair_results["me"], pair_results["health"]
                me["ratio_vs_health"] = me["rps"] / health["rps"]
                me["health_rps"] = health["rps"]
                me["round"] = r
                key = f"{backend}, {workers} worker{'s' if workers > 1 else ''}"
                results.setdefault(key, []).append(me)
                print(f"round {r + 1}: {key}: /auth/me {me['rps']:.0f} req/s (p50 {me['p50_ms']:.2f} ms, "
                      f"p99 {me['p99_ms']:.2f} ms, non-2xx {me['non2xx']}), /health {health['rps']:.0f} req/s",
                      file=sys.stderr)
    return results


def propagation(args: argparse.Namespace, tmp: Path, backend_name: str) -> dict[str, list[float]]:
    after_204: list[float] = []
    from_request: list[float] = []
    polls: list[float] = []
    with contextlib.ExitStack() as stack:
        if backend_name == "PostgreSQL + Redis":
            schema = stack.enter_context(postgres_schema())
            redis_url = stack.enter_context(private_redis(tmp))
            backend = ["--database", POSTGRES_URL, "--database-schema", schema, "--redis", redis_url]
        else:  # two separate servers on one SQLite file, polling it
            backend = ["--database", f"sqlite:///{tmp / 'propagation.sqlite3'}"]
        a = stack.enter_context(serve(tmp / "a.log", backend))
        b = stack.enter_context(serve(tmp / "b.log", backend))
        sign_up(a, "bob")
        b_host, b_port = b.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(b_host, int(b_port), timeout=10)
        stack.callback(conn.close)

        def me_on_b(token: str) -> int:
            conn.request("GET", "/auth/me", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            return response.status

        for i in range(args.logouts):
            st, _, body = http_call("POST", a + "/auth/token", {"username": "bob", "password": PASSWORD})
            assert st == 200, (st, body)
            pair = json.loads(body)
            assert me_on_b(pair["access_token"]) == 200
            t0 = time.perf_counter()
            st, _, _ = http_call("POST", a + "/auth/logout", {"refresh_token": pair["refresh_token"]},
                                 {"Authorization": f"Bearer {pair['access_token']}"})
            t1 = time.perf_counter()
            assert st == 204, st
            n = 1
            while me_on_b(pair["access_token"]) != 401:
                n += 1
                if time.perf_counter() - t1 > 10:
                    raise RuntimeError(f"logout {i} not seen on B within 10 s")
            t2 = time.perf_counter()
            after_204.append((t2 - t1) * 1e3)
            from_request.append((t2 - t0) * 1e3)
            polls.append(n)
    return {"after_204_ms": after_204, "from_logout_request_ms": from_request, "polls_of_B_until_401": polls}


def quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10, help="seconds per load run (default 10)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--logouts", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 30 logouts")
    ap.add_argument("--python-load", action="store_true", help="use the asyncio load generator even if wrk exists")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.logouts = 3, 1, 30
    wrk = None if args.python_load else shutil.which("wrk")
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_scaleout_"))
    backends = {
        "SQLite": ["--database", f"sqlite:///{tmp / 'bench'}"],
        "PostgreSQL + Redis": ["--database", POSTGRES_URL],
    }
    try:
        results = throughput(args, wrk, tmp, backends)
        delays = {name: propagation(args, tmp, name) for name in PROPAGATION_BACKENDS}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"{'wrk' if wrk else 'asyncio load generator'}: 1 thread, {args.connections} connections, {args.duration:g} s "
        f"per run, {args.rounds} round(s), cells shuffled; {os.cpu_count()} CPUs, nothing pinned; access log off; "
        "medians over rounds; ratio = /auth/me req/s over /health req/s on the same server in the same round.", "",
        "| backend, workers | /auth/me req/s | p50 ms | p99 ms | /health req/s | /auth/me vs /health | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, runs in results.items():
        lines.append(
            f"| {key} | {statistics.median(x['rps'] for x in runs):.0f} | "
            f"{statistics.median(x['p50_ms'] for x in runs):.2f} | {statistics.median(x['p99_ms'] for x in runs):.2f} | "
            f"{statistics.median(x['health_rps'] for x in runs):.0f} | "
            f"{statistics.median(x['ratio_vs_health'] for x in runs):.2f} | {sum(x['non2xx'] for x in runs)} |")
    for backend in ("SQLite", "PostgreSQL + Redis"):
        one, two = results.get(f"{backend}, 1 worker"), results.get(f"{backend}, 2 workers")
        if one and two:
            lines.append(f"\n{backend}: 2 workers / 1 worker = "
                         f"{statistics.median(x['rps'] for x in two) / statistics.median(x['rps'] for x in one):.2f}x")
    lines += ["", f"revocation propagation: two separate `jwtkit serve` processes, {args.logouts} logouts on A, "
              "B asked until it answers 401:", "| backend | measured | p50 ms | p90 ms | p99 ms | max ms |",
              "|---|---|---|---|---|---|"]
    for backend, measured in delays.items():
        for name, xs in measured.items():
            if name.endswith("_ms"):
                lines.append(f"| {backend} | {name} | {quantile(xs, 0.5):.2f} | {quantile(xs, 0.9):.2f} | "
                             f"{quantile(xs, 0.99):.2f} | {max(xs):.2f} |")
    for backend, measured in delays.items():
        first = sum(1 for n in measured["polls_of_B_until_401"] if n == 1)
        p99 = quantile(measured["from_logout_request_ms"], 0.99)
        lines.append(f"\n{backend}: B refused the token at its first request after A's 204 in {first} of "
                     f"{len(measured['polls_of_B_until_401'])} logouts; target propagation p99 < 1000 ms: "
                     f"{'met' if p99 < 1000 else 'NOT met'} ({p99:.1f} ms)")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": results, "propagation": delays}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
