#!/usr/bin/env python3
"""Django + DRF: a view protected by Simple JWT vs by jwtkit, the refresh endpoints, and a session view.

    .venv/bin/python benchmarks/bench_django.py [--duration 5] [--rounds 3] [--connections 16] [--json FILE]

One project (benchmarks/django_site: DRF, Simple JWT with its blacklist app, jwtkit's app; HS256 with
SECRET_KEY for both; SQLite; DEBUG off) served by one uvicorn worker (Django's ASGI handler), pinned to
CPU 1 when there are two; the load generator (asyncio, keep-alive connections, pinned to CPU 0) runs in
this process. The method of /work/shared/bench/server_django: the endpoints in a shuffled order per
round, medians over rounds, each protected endpoint's req/s as a ratio to /health in the same round, and
the server process's CPU time per request (utime + stime from /proc), which other load on the machine
disturbs far less than req/s.

Endpoints: /health (no auth), /sj/me (Simple JWT's JWTAuthentication + the user row), /jk/me (jwtkit's:
+ the in-process denylist), /session/me (SessionAuthentication: the django_session row + the user row),
and the refresh endpoints with rotation on (Simple JWT: ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION
with its blacklist app; jwtkit: its race-free rotation), each connection refreshing its own session's
latest token in a chain. Correctness gates first: 200 with credentials, 401 without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, response.headers.items(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.items(), exc.read()


class Site:
    """migrate + a user, then one uvicorn worker on a SQLite file of its own."""

    def __init__(self, workdir: str) -> None:
        self.env = {
            **os.environ,
            "PYTHONPATH": HERE + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "DJANGO_SETTINGS_MODULE": "django_site.settings",
            "BENCH_DJANGO_DB": os.path.join(workdir, "bench.sqlite3"),
        }
        manage = [sys.executable, "-m", "django"]
        subprocess.run([*manage, "migrate", "-v", "0"], env=self.env, check=True, timeout=300)
        subprocess.run(
            [*manage, "shell", "-c",
             "from django.contrib.auth import get_user_model; "
             "get_user_model().objects.create_user(username='bench', password='bench-password')"],
            env=self.env, check=True, timeout=120,
        )
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        pin = ["taskset", "-c", "1"] if (os.cpu_count() or 1) >= 2 and shutil.which("taskset") else []
        self.log = open(os.path.join(workdir, "server.log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*pin, sys.executable, "-m", "uvicorn", "django_site.asgi:application", "--host", HOST,
             "--port", str(self.port), "--workers", "1", "--no-access-log", "--log-level", "warning"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if call(self.base, "GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start; see server.log")

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- a small keep-alive HTTP/1.1 load generator
async def _exchange(reader, writer, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length) if length else b""


def _request(method: str, path: str, headers: dict, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"] + [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _worker(port: int, deadline: float, step, counts: dict) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    state: dict = {}
    try:
        while time.perf_counter() < deadline:
            raw = step(state)
            status, body = await _exchange(reader, writer, raw)
            if status != 200:
                counts["errors"] += 1
                raise RuntimeError(f"status {status}: {body[:200]!r}")
            if "after" in state:
                state["after"](body)
            counts["ok"] += 1
    finally:
        writer.close()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds: the server's own work, whatever else runs."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(port: int, connections: int, duration: float, make_step) -> tuple[float, int]:
    """(req/s, requests) of `connections` keep-alive connections, each running `make_step()`'s request loop."""
    counts = {"ok": 0, "errors": 0}

    steps = [make_step() for _ in range(connections)]  # logins (refresh) happen before the clock starts

    async def main() -> tuple[float, int]:
        deadline = time.perf_counter() + duration
        start = time.perf_counter()
        await asyncio.gather(*(_worker(port, deadline, step, counts) for step in steps))
        return counts["ok"] / (time.perf_counter() - start), counts["ok"]

    return asyncio.run(main())


def get_step(path: str, headers: dict):
    raw = _request("GET", path, headers)
    return lambda: (lambda state: raw)


def refresh_step(base: str, prefix: str):
    """Each connection logs in once, then refreshes its latest refresh token in a chain."""

    def make():
        _, _, body = call(base, "POST", f"/{prefix}/token", {"username": "bench", "password": "bench-password"})
        token = {"refresh": json.loads(body)["refresh"]}

        def after(body: bytes) -> None:
            token["refresh"] = json.loads(body)["refresh"]

        def step(state: dict) -> bytes:
            state["after"] = after
            return _request("POST", f"/{prefix}/refresh", {}, json.dumps({"refresh": token["refresh"]}).encode())

        return step

    return make


def in_process(rounds: int) -> dict[str, list[float]]:
    """CPU µs per call inside one process (no HTTP, no server): each authentication class on one cached
    token (the user row included), and each refresh view on a chain of rotations; shuffled, interleaved."""
    sys.path.insert(0, HERE)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt import authentication as sj_auth
    from rest_framework_simplejwt import tokens as sj_tokens
    from rest_framework_simplejwt import views as sj_views

    from jwtkit.integrations.django import authentication as jk_auth
    from jwtkit.integrations.django import tokens as jk_tokens
    from jwtkit.integrations.django import views as jk_views

    user = get_user_model().objects.get(username="bench")
    factory = APIRequestFactory()

    def auth_case(authentication, token):
        request = Request(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))
        return lambda: authentication.authenticate(request)

    def refresh_case(view, token):
        state = {"refresh": token}

        def call() -> None:
            response = view(factory.post("/", {"refresh": state["refresh"]}, format="json"))
            state["refresh"] = response.data["refresh"]

        return call

    cases = {
        "JWTAuthentication, Simple JWT": auth_case(sj_auth.JWTAuthentication(), sj_tokens.RefreshToken.for_user(user).access_token),
        "JWTAuthentication, jwtkit": auth_case(jk_auth.JWTAuthentication(), jk_tokens.RefreshToken.for_user(user).access_token),
        "TokenRefreshView, Simple JWT": refresh_case(sj_views.TokenRefreshView.as_view(), str(sj_tokens.RefreshToken.for_user(user))),
        "TokenRefreshView, jwtkit": refresh_case(jk_views.TokenRefreshView.as_view(), str(jk_tokens.RefreshToken.for_user(user))),
    }
    out: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name in random.sample(list(cases), len(cases)):
            run, n = cases[name], 300 if "Authentication" in name else 100
            run()
            start = time.process_time()
            for _ in range(n):
                run()
            out[name].append((time.process_time() - start) / n * 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        os.sched_setaffinity(0, {0})

    with tempfile.TemporaryDirectory(prefix="bench-django-") as workdir:
        site = Site(workdir)
        try:
            base = site.base
            _, _, body = call(base, "POST", "/sj/token", {"username": "bench", "password": "bench-password"})
            sj = json.loads(body)["access"]
            _, _, body = call(base, "POST", "/jk/token", {"username": "bench", "password": "bench-password"})
            jk = json.loads(body)["access"]
            _, headers, _ = call(base, "POST", "/session/login", {"username": "bench", "password": "bench-password"})
            cookies = [value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie"]
            cookie = next(value for value in cookies if value.startswith("sessionid="))
            gets = {
                "/health (no auth)": ("/health", {}),
                "/sj/me (Simple JWT)": ("/sj/me", {"Authorization": f"Bearer {sj}"}),
                "/jk/me (jwtkit)": ("/jk/me", {"Authorization": f"Bearer {jk}"}),
                "/session/me (django_session)": ("/session/me", {"Cookie": cookie}),
            }
            for name, (path, headers) in gets.items():  # correctness gates
                assert call(base, "GET", path, headers=headers)[0] == 200, name
                if headers:
                    assert call(base, "GET", path)[0] in (401, 403), name
            steps = {name: get_step(path, headers) for name, (path, headers) in gets.items()}
            steps["refresh, Simple JWT"] = refresh_step(base, "sj")
            steps["refresh, jwtkit"] = refresh_step(base, "jk")
            results: dict[str, list[float]] = {name: [] for name in steps}
            cpu_us: dict[str, list[float]] = {name: [] for name in steps}
            ratios: dict[str, list[float]] = {name: [] for name in steps}
            for round_no in range(args.rounds):
                order = list(steps)
                random.shuffle(order)
                measured = {}
                for name in order:
                    cpu_before = process_cpu_seconds(site.proc.pid)
                    measured[name], count = run_load(site.port, args.connections, args.duration, steps[name])
                    cpu_us[name].append((process_cpu_seconds(site.proc.pid) - cpu_before) / count * 1e6)
                    results[name].append(measured[name])
                for name in steps:
                    ratios[name].append(measured[name] / measured["/health (no auth)"])
                print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr)
        except Exception:
            site.stop()
            with open(os.path.join(workdir, "server.log")) as log:
                print("server.log (tail):\n" + "".join(log.readlines()[-80:]), file=sys.stderr)
            raise
        finally:
            site.stop()
        os.environ.update({k: v for k, v in site.env.items() if k in ("DJANGO_SETTINGS_MODULE", "BENCH_DJANGO_DB")})
        inproc = in_process(args.rounds)

    print(f"\nDjango {args.connections} connections, {args.duration:g} s x {args.rounds} rounds, one uvicorn worker "
          "(medians; PRELIMINARY on a loaded machine)\n")
    print("| endpoint | req/s | ÷ /health | server CPU µs/request |\n|---|---:|---:|---:|")
    for name in steps:
        print(
            f"| {name} | {statistics.median(results[name]):.0f} | {statistics.median(ratios[name]):.2f} "
            f"| {statistics.median(cpu_us[name]):.0f} |"
        )
    print("\nIn one process, no HTTP: CPU µs per call (median), Simple JWT ÷ jwtkit\n")
    print("| call | Simple JWT µs | jwtkit µs | ratio |\n|---|---:|---:|---:|")
    for what in ("JWTAuthentication", "TokenRefreshView"):
        theirs = statistics.median(inproc[f"{what}, Simple JWT"])
        ours = statistics.median(inproc[f"{what}, jwtkit"])
        print(f"| {what} | {theirs:.0f} | {ours:.0f} | {theirs / ours:.2f}× |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"req_per_s": results, "ratio_to_health": ratios, "cpu_us": cpu_us, "in_process_us": inproc, "args": vars(args)}, fh, indent=1)


if __name__ == "__main__":
    main()
