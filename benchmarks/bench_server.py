#!/usr/bin/env python3
"""Load the auth server on loopback: /health (the framework floor), /auth/me with a JWT, /session/me with a session.

    .venv/bin/python benchmarks/bench_server.py            # 5 rounds x 3 endpoints x 10 s, 64 connections (~3 min)
    .venv/bin/python benchmarks/bench_server.py --quick    # 1 round x 3 s, smaller seed
    .venv/bin/python benchmarks/bench_server.py --json results.json

The method of the yardsticks (`shared/bench/server_peer/run_bench.py`, `server_django/run_bench.py`), so the
figures compare: a seeded SQLite database in a temporary directory (10,000 users sharing one argon2id hash,
50,000 live sessions, written through jwtkit's own store), one `jwtkit serve` worker on 127.0.0.1 (pinned to
CPU 1 with taskset when there are >= 2 CPUs; access log off, as the yardsticks run uvicorn), wrk with 1 thread
and N connections pinned to CPU 0, the endpoints in a shuffled order per round, a bounded wait for other
processes to go quiet before each run, medians over rounds, and each endpoint's req/s relative to /health
measured in the same round. Without wrk on PATH (Debian: apt-get install wrk) a bounded asyncio load generator
(keep-alive HTTP/1.1, same connections and duration) stands in; its own CPU cost caps the figures lower, but
the same-round ratios still compare.

Correctness gates before the load: each endpoint answers 200 with its credentials and 401 without, with a
tampered token and with an unknown session id. Every run is bounded in time and only targets 127.0.0.1; the
server is stopped by its PID at the end.

``--distinct-tokens N`` adds a run of /auth/me with N live tokens of one user taken in turn, so that a
server which caches verified tokens shows its miss path too (N above its cache size) and not only the
one-token best case.

Targets (issue 3): /auth/me >= 80 % of /health's req/s, and more req/s than /session/me, in the same round.
This is not a test: figures depend on the machine and its load; the script prints them and whether the
targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script sits in

HOST = "127.0.0.1"
PASSWORD = "benchmark password"
HEALTH, JWT, SESSION = "/health (no auth)", "/auth/me (JWT, ES256)", "/session/me (session row)"
JWT_MANY = "/auth/me (JWT, {n} distinct tokens in turn)"


# ---------------------------------------------------------------- seeding (through jwtkit's own store)
async def seed(database_url: str, users: int, sessions: int) -> None:
    """Users and live sessions, in bulk, in jwtkit's own schema (created by its store on open)."""
    import json as _json
    import secrets
    import time as _time

    from argon2 import PasswordHasher

    from jwtkit.auth.sessions import session_key_hash
    from jwtkit.storage import open_stores
    from jwtkit.storage.sql import schema

    stores = await open_stores(database_url)
    try:
        shared_hash = PasswordHasher().hash(PASSWORD)  # one hash for everyone, as the yardsticks seed theirs
        now = _time.time()
        expires = now + 14 * 86400
        async with stores.users.engine.begin() as conn:  # the SQL store: one transaction, executemany
            await conn.execute(schema.users.insert(), [
                {"username": f"user{i}", "password_hash": shared_hash, "created_at": now} for i in range(users)])
            rows = (await conn.execute(schema.users.select().order_by(schema.users.c.id))).all()
            ids = [(row.id, row.username) for row in rows]
            await conn.execute(schema.sessions.insert(), [
                {"session_key": session_key_hash(secrets.token_urlsafe(32)),
                 "session_data": _json.dumps({"user_id": ids[i % len(ids)][0], "username": ids[i % len(ids)][1]}),
                 "expire_date": expires}
                for i in range(sessions)])
    finally:
        await stores.close()


# ---------------------------------------------------------------- HTTP helpers (stdlib only)
def http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# ---------------------------------------------------------------- machine load (Linux /proc)
def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    import resource
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class ForeignLoad:
    """Share of the machine's CPUs used by other processes (not us, not the server) over an interval."""

    def __init__(self, extra_own: Callable[[], float] = lambda: 0.0):
        self.extra_own = extra_own
        self.t, self.b, self.o = time.time(), _busy_seconds(), _own_seconds() + extra_own()

    def stop(self) -> float | None:
        b = _busy_seconds()
        if b is None or self.b is None:
            return None
        wall = max(time.time() - self.t, 1e-3)
        own = _own_seconds() + self.extra_own() - self.o
        return max(0.0, (b - self.b - own) / (wall * (os.cpu_count() or 1)))


def wait_quiet(max_wait: float, threshold: float = 0.10, window: float = 0.5) -> float:
    t0 = time.time()
    while time.time() - t0 < max_wait:
        fl = ForeignLoad()
        time.sleep(window)
        f = fl.stop()
        if f is None or f < threshold:
            break
    return time.time() - t0


# ---------------------------------------------------------------- load generators
def _to_ms(v: str, unit: str) -> float:
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]


def parse_wrk(out: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        lat[pct] = _to_ms(m.group(1), m.group(2)) if m else float("nan")
    m = re.search(r"(\d+) requests in", out)
    n = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "requests": int(m.group(1)) if m else 0,
            "non2xx": int(n.group(1)) if n else 0}


def run_wrk(wrk: str, pin: list[str], url: str, headers: dict | list[dict], connections: int, duration: float,
            tmp: Path) -> dict:
    """wrk on ``url``; ``headers`` a dict, or a list of dicts that the requests take in turn (a Lua script)."""
    cmd = [*pin, wrk, "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "5s"]
    if isinstance(headers, list):
        script = tmp / "rotate.lua"
        rows = ",\n".join("{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in h.items()) + "}"
                          for h in headers)
        path = "/" + url.split("/", 3)[3]
        script.write_text(f"local hs = {{\n{rows}\n}}\nlocal i = 0\n"
                          f"request = function()\n  i = i + 1\n"
                          f"  return wrk.format(\"GET\", {json.dumps(path)}, hs[(i % #hs) + 1])\nend\n")
        cmd += ["-s", str(script)]
    else:
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 30).stdout
    return parse_wrk(out)


async def _py_load(port: int, path: str, headers: dict | list[dict], connections: int, duration: float) -> dict:
    requests = [
        (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
         + "\r\n").encode()
        for h in (headers if isinstance(headers, list) else [headers])
    ]
    sent = 0
    latencies: list[float] = []
    non2xx = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal non2xx, sent
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(requests[sent % len(requests)])
                sent += 1
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if not status_line.split()[1].startswith(b"2"):
                    non2xx += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3) if latencies else (
        lambda q: float("nan"))
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "requests": len(latencies), "non2xx": non2xx}


def run_python_load(port: int, path: str, headers: dict | list[dict], connections: int, duration: float) -> dict:
    return asyncio.run(asyncio.wait_for(_py_load(port, path, headers, connections, duration), duration + 30))


# ---------------------------------------------------------------- the run
def start_server(pin: list[str], database_url: str, log_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    return start_process(
        [*pin, sys.executable, "-m", "jwtkit", "serve", "--host", HOST, "--port", "0", "--database", database_url,
         "--no-access-log", *extra], log_path)


def start_process(cmd: list[str], log_path: Path, listening: str = r"listening on (http://127\.0\.0\.1:\d+)",
                  ready_path: str = "/health", cwd: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``cmd`` (this checkout's ``src`` first on PYTHONPATH, no JWTKIT_* variables); return it and its base
    URL once its log matched ``listening`` and ``ready_path`` answered 200."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    log = log_path.open("wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited ({server.returncode}):\n{log_path.read_text()[-2000:]}")
        m = re.search(listening, log_path.read_text())
        if m:
            try:
                if http("GET", m.group(1) + ready_path)[0] == 200:
                    return server, m.group(1)
            except OSError:
                pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{' '.join(cmd)} did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--sessions", type=int, default=50_000)
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 1,000 users, 5,000 sessions")
    ap.add_argument("--distinct-tokens", type=int, default=0, metavar="N",
                    help="also load /auth/me with N different live tokens taken in turn (a server that caches "
                         "verifications shows its miss path when N exceeds its cache)")
    ap.add_argument("--python-load", action="store_true", help="use the asyncio load generator even if wrk exists")
    ap.add_argument("--quiet-budget", type=float, default=None,
                    help="seconds to wait in all for other processes to go quiet (default 240; 0 with --quick)")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.users, args.sessions = 3, 1, 1000, 5000
    if args.quiet_budget is None:
        args.quiet_budget = 0.0 if args.quick else 240.0
    wrk = None if args.python_load else shutil.which("wrk")
    ncpu = os.cpu_count() or 1
    pinned = ncpu >= 2 and shutil.which("taskset") is not None
    pin_srv = ["taskset", "-c", "1"] if pinned else []
    pin_load = ["taskset", "-c", "0"] if pinned else []
    if pinned and not wrk:
        os.sched_setaffinity(0, {0})  # the Python load generator runs in this process

    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_server_"))
    database_url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    t0 = time.time()
    asyncio.run(seed(database_url, args.users, args.sessions))
    print(f"seeded {args.users} users and {args.sessions} sessions in {time.time() - t0:.1f} s", file=sys.stderr)
    server, base = start_server(pin_srv, database_url, tmp / "server.log")
    port = int(base.rsplit(":", 1)[1])
    print(f"jwtkit serve pid {server.pid} on {base}; load: {'wrk' if wrk else 'asyncio generator'}", file=sys.stderr)
    results: dict[str, list[dict]] = {}
    try:
        st, _, body = http("POST", base + "/auth/token", {"username": "user0", "password": PASSWORD})
        assert st == 200, (st, body)
        token = json.loads(body)["access_token"]
        st, hdrs, body = http("POST", base + "/session/login", {"username": "user0", "password": PASSWORD})
        assert st == 200, (st, body)
        cookie = re.search(r"sessionid=([^;]+)", hdrs.get("set-cookie") or hdrs.get("Set-Cookie")).group(1)
        endpoints = {
            HEALTH: ("/health", {}),
            JWT: ("/auth/me", {"Authorization": f"Bearer {token}"}),
            SESSION: ("/session/me", {"Cookie": f"sessionid={cookie}"}),
        }
        if args.distinct_tokens:  # the same user logged in many times: as many live access tokens
            tokens = []
            for _ in range(args.distinct_tokens):
                st, _, body = http("POST", base + "/auth/token", {"username": "user1", "password": PASSWORD})
                assert st == 200, (st, body)
                tokens.append(json.loads(body)["access_token"])
            endpoints[JWT_MANY.format(n=len(tokens))] = ("/auth/me", [{"Authorization": f"Bearer {t}"} for t in tokens])
        for name, (path, h) in endpoints.items():  # correctness gates
            if isinstance(h, list):
                assert all(http("GET", base + path, headers=x)[0] == 200 for x in h), name
                continue
            st, _, body = http("GET", base + path, headers=h)
            assert st == 200, (name, st, body)
            if h:
                assert http("GET", base + path)[0] == 401, name
        tampered = {"Authorization": f"Bearer {token[:-4]}AAAA"}
        assert http("GET", base + "/auth/me", headers=tampered)[0] == 401
        assert http("GET", base + "/session/me", headers={"Cookie": "sessionid=" + "A" * 43})[0] == 401
        print("correctness checks passed", file=sys.stderr)

        def run(path: str, h: dict | list[dict], duration: float) -> dict:
            fl = ForeignLoad(lambda: cpu_seconds(server.pid))
            c0 = cpu_seconds(server.pid)
            if wrk:
                res = run_wrk(wrk, pin_load, base + path, h, args.connections, duration, tmp)
            else:
                res = run_python_load(port, path, h, args.connections, duration)
            c1 = cpu_seconds(server.pid)
            res["cpu_us_per_req"] = (c1 - c0) * 1e6 / max(res["requests"], 1)
            res["foreign_load"] = fl.stop()
            return res

        for path, h in endpoints.values():  # warm-up
            run(path, h, 2)
        rng = random.Random(7)
        names = list(endpoints)
        waited = 0.0
        for r in range(args.rounds):
            rng.shuffle(names)
            for name in names:
                if args.quiet_budget - waited > 0:
                    waited += wait_quiet(min(30.0, args.quiet_budget - waited))
                res = run(*endpoints[name], args.duration)
                res["round"] = r
                results.setdefault(name, []).append(res)
                print(f"round {r + 1}: {name}: {res['rps']:.0f} req/s p50 {res['p50_ms']:.2f} ms "
                      f"p99 {res['p99_ms']:.2f} ms server CPU {res['cpu_us_per_req']:.0f} µs/req "
                      f"other load {(res['foreign_load'] or 0) * 100:.0f}% non2xx {res['non2xx']}", file=sys.stderr)
    finally:
        stop_server(server)
        print(f"jwtkit serve pid {server.pid} stopped (rc {server.returncode})", file=sys.stderr)

    floor = results[HEALTH]
    ratio = {n: statistics.median(x["rps"] / f["rps"] for x, f in zip(runs, floor, strict=True)) for n, runs in results.items()}
    lines = [
        f"{'wrk' if wrk else 'asyncio load generator'}: 1 thread, {args.connections} connections, "
        f"{args.duration:g} s per run, {args.rounds} round(s), endpoints shuffled per round"
        f"{'; server pinned to CPU 1, load to CPU 0' if pinned else ''}; one jwtkit serve worker, access log off; "
        f"seed {args.users} users, {args.sessions} sessions; medians over rounds; ratio = req/s relative to "
        f"/health in the same round (median); server CPU µs/req = the server process's utime+stime during the "
        f"run / requests completed (its excess over /health is taken per round, then the median); other load = share of all {ncpu} CPUs used by other processes.", "",
        "| endpoint | req/s (median) | req/s (min-max) | p50 ms | p99 ms | req/s vs /health | server CPU µs/req "
        "| CPU µs/req over /health | other load | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        rps = [x["rps"] for x in runs]
        lines.append(
            f"| {name} | {statistics.median(rps):.0f} | {min(rps):.0f}-{max(rps):.0f} | "
            f"{statistics.median(x['p50_ms'] for x in runs):.2f} | {statistics.median(x['p99_ms'] for x in runs):.2f} | "
            f"{ratio[name]:.2f} | {statistics.median(x['cpu_us_per_req'] for x in runs):.0f} | "
            f"{statistics.median(x['cpu_us_per_req'] - f['cpu_us_per_req'] for x, f in zip(runs, floor, strict=True)):+.0f} | "
            f"{statistics.median((x['foreign_load'] or 0) for x in runs) * 100:.0f}% | "
            f"{sum(x['non2xx'] for x in runs)} |")
    jwt_vs_session = statistics.median(j["rps"] / s["rps"] for j, s in zip(results[JWT], results[SESSION], strict=True))
    lines += [
        "",
        f"targets: /auth/me vs /health {ratio[JWT]:.2f} (>= 0.80: {'met' if ratio[JWT] >= 0.80 else 'NOT met'}); "
        f"/auth/me vs /session/me {jwt_vs_session:.2f}x (> 1: {'met' if jwt_vs_session > 1 else 'NOT met'})",
    ]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
