#!/usr/bin/env python3
"""Django + DRF: a view protected by Simple JWT vs by jwtkit, the refresh endpoints, and a session view.

    .venv/bin/python benchmarks/bench_django.py [--server gunicorn-gthread] [--threads 4] [--duration 5]
        [--rounds 3] [--connections 16] [--json FILE]
    .venv/bin/python benchmarks/bench_django.py --duration 1 --rounds 1   # a light run: does it work?

One project (benchmarks/django_site: DRF, Simple JWT with its blacklist app, jwtkit's app; HS256 with
SECRET_KEY for both; SQLite; DEBUG off; startproject's middleware) served by one worker, pinned to CPU 1
when there are two; the load generator (asyncio, keep-alive connections, pinned to CPU 0) runs in this
process. Best against best, the same for both libraries: by default gunicorn's threaded worker (Django's
WSGI handler, keep-alive) with persistent database connections (CONN_MAX_AGE=None), as a careful
deployment of a sync Django app runs. ``--server uvicorn`` serves Django's ASGI handler instead (as
../shared/bench/server_django does by default): Django gives every request a new thread there, so
connections cannot persist (CONN_MAX_AGE=0, as Django's docs advise for ASGI) and each request that
touches the database opens one; ``--server gunicorn`` is the sync worker (no keep-alive). SQLite is
run as production sites run it (WAL, synchronous=NORMAL, IMMEDIATE transactions); ``--sqlite default``
keeps Django's defaults (a rollback journal, an fsync per commit), as the yardstick does.

The method of the harness (``benchmarks/harness``): the endpoints in a shuffled order per round, medians
over rounds, each protected endpoint's req/s as a ratio to /health in the same round, and the server's
CPU time per request (utime + stime from /proc, gunicorn's worker included), which other load on the
machine disturbs far less than req/s.

Endpoints: /health (no auth), /sj/me (Simple JWT's JWTAuthentication + the user row), /jk/me (jwtkit's:
+ the in-process denylist), /session/me (SessionAuthentication: the django_session row + the user row),
and the refresh endpoints with rotation on (Simple JWT: ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION
with its blacklist app; jwtkit: its race-free rotation), each connection refreshing its own session's
latest token in a chain. Correctness gates first: 200 with credentials, 401 without.

Then, in this process without HTTP (CPU µs per call, process_time, shuffled rounds, medians): whole
requests through Django's WSGI handler on a persistent connection (/health, /sj/me, /jk/me,
/session/me: Django's and DRF's own cost with each authentication class), each JWTAuthentication's
``authenticate`` alone, and each TokenRefreshView.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.http import call
from harness.load import Rotation, request_bytes, run_conversations
from harness.machine import cpu_seconds, pinning, tree_cpu_seconds
from harness.rounds import interleave
from harness.servers import HOST, checkout_env, free_port, running

HERE = os.path.dirname(os.path.abspath(__file__))
CREDENTIALS = {"username": "bench", "password": "bench-password"}
SERVERS = ("gunicorn-gthread", "uvicorn", "gunicorn")


def server_command(server: str, port: int, threads: int) -> list[str]:
    """One worker of ``server`` serving the site on ``port``."""
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "django_site.asgi:application", "--host", HOST, "--port", str(port),
                "--workers", "1", "--no-access-log", "--log-level", "warning"]
    command = [sys.executable, "-m", "gunicorn", "django_site.wsgi:application", "--bind", f"{HOST}:{port}",
               "--workers", "1", "--log-level", "warning"]
    if server == "gunicorn-gthread":
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


@contextlib.contextmanager
def site(workdir: str, server: str, threads: int, sqlite: str) -> Iterator[Any]:
    """migrate + a user, then one worker of ``server`` on a SQLite file of its own; yields the server."""
    env = checkout_env(PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""),
                       DJANGO_SETTINGS_MODULE="django_site.settings",
                       BENCH_DJANGO_DB=os.path.join(workdir, "bench.sqlite3"),
                       BENCH_DJANGO_CONN_MAX_AGE="0" if server == "uvicorn" else "none",
                       BENCH_DJANGO_SQLITE=sqlite)
    manage = [sys.executable, "-m", "django"]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    subprocess.run(
        [*manage, "shell", "-c",
         "from django.contrib.auth import get_user_model; "
         "get_user_model().objects.create_user(username='bench', password='bench-password')"],
        env=env, check=True, timeout=120,
    )
    port = free_port()
    command = [*pinning().server, *server_command(server, port, threads)]
    log = Path(workdir) / "server.log"
    try:
        with running(command, log, url=f"http://{HOST}:{port}", env=env, cwd=Path(HERE)) as server:
            yield server
    except Exception:
        print("server.log (tail):\n" + "".join(log.read_text(errors="replace").splitlines(True)[-80:]),
              file=sys.stderr)
        raise
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "BENCH_DJANGO_DB", "BENCH_DJANGO_SQLITE")})
    os.environ["BENCH_DJANGO_CONN_MAX_AGE"] = "none"  # the in-process part: one persistent connection


class RefreshChain:
    """One connection's refresh chain: it logs in once, then refreshes its latest refresh token."""

    def __init__(self, base: str, prefix: str) -> None:
        self.prefix = prefix
        _, _, body = call("POST", f"{base}/{prefix}/token", CREDENTIALS)
        self.refresh = json.loads(body)["refresh"]

    def next_request(self) -> bytes:
        return request_bytes("POST", f"/{self.prefix}/refresh", {}, json.dumps({"refresh": self.refresh}).encode())

    def answered(self, status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"status {status}: {body[:200]!r}")
        self.refresh = json.loads(body)["refresh"]


class Strict(Rotation):
    """A fixed request; any answer but 200 stops the run."""

    def answered(self, status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"status {status}: {body[:200]!r}")


REQUESTS = {  # the in-process whole requests: name -> (path, which credential)
    "request /health": ("/health", None),
    "request /sj/me": ("/sj/me", "sj"),
    "request /jk/me": ("/jk/me", "jk"),
    "request /session/me": ("/session/me", "session"),
}


def wsgi_get(handler: Any, path: str, headers: dict[str, str]) -> Callable[[], None]:
    """A GET of ``path`` through Django's WSGI handler, no server and no test client; 200 or it raises."""

    def call() -> None:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "SERVER_NAME": HOST, "SERVER_PORT": "80", "HTTP_HOST": HOST, "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", **headers}
        statuses: list[str] = []
        response = handler(environ, lambda status, _headers: statuses.append(status))
        b"".join(response)
        response.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path}: {statuses[0]}")

    return call


def in_process(rounds: int) -> dict[str, list[float]]:
    """CPU µs per call inside one process (no HTTP, no server): whole requests through Django's WSGI
    handler on a persistent connection, each authentication class on one cached token (the user row
    included), and each refresh view on a chain of rotations; shuffled, interleaved."""
    sys.path.insert(0, HERE)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client
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

    client = Client(HTTP_HOST=HOST)
    assert client.post("/session/login", CREDENTIALS, content_type="application/json").status_code == 200
    credentials = {
        None: {},
        "sj": {"HTTP_AUTHORIZATION": f"Bearer {sj_tokens.RefreshToken.for_user(user).access_token}"},
        "jk": {"HTTP_AUTHORIZATION": f"Bearer {jk_tokens.RefreshToken.for_user(user).access_token}"},
        "session": {"HTTP_COOKIE": f"sessionid={client.cookies['sessionid'].value}"},
    }
    handler = WSGIHandler()
    cases = {name: wsgi_get(handler, path, credentials[who]) for name, (path, who) in REQUESTS.items()}
    cases |= {
        "JWTAuthentication, Simple JWT": auth_case(sj_auth.JWTAuthentication(), sj_tokens.RefreshToken.for_user(user).access_token),
        "JWTAuthentication, jwtkit": auth_case(jk_auth.JWTAuthentication(), jk_tokens.RefreshToken.for_user(user).access_token),
        "TokenRefreshView, Simple JWT": refresh_case(sj_views.TokenRefreshView.as_view(), str(sj_tokens.RefreshToken.for_user(user))),
        "TokenRefreshView, jwtkit": refresh_case(jk_views.TokenRefreshView.as_view(), str(jk_tokens.RefreshToken.for_user(user))),
    }
    out: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name in random.sample(list(cases), len(cases)):
            run, n = cases[name], 100 if "Refresh" in name else 300
            run()
            start = time.process_time()
            for _ in range(n):
                run()
            out[name].append((time.process_time() - start) / n * 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=SERVERS, default=SERVERS[0])
    parser.add_argument("--threads", type=int, default=4, help="threads of the gunicorn-gthread worker")
    parser.add_argument("--sqlite", choices=("tuned", "default"), default="tuned",
                        help="tuned: WAL, synchronous=NORMAL, IMMEDIATE transactions; default: Django's defaults")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    pinning().load_here()

    with tempfile.TemporaryDirectory(prefix="bench-django-") as workdir:
        with site(workdir, args.server, args.threads, args.sqlite) as server:
            base = server.url
            _, _, body = call("POST", base + "/sj/token", CREDENTIALS)
            sj = json.loads(body)["access"]
            _, _, body = call("POST", base + "/jk/token", CREDENTIALS)
            jk = json.loads(body)["access"]
            _, headers, _ = call("POST", base + "/session/login", CREDENTIALS)
            cookies = [value.split(";", 1)[0] for value in headers.get_all("Set-Cookie") or []]
            cookie = next(value for value in cookies if value.startswith("sessionid="))
            gets = {
                "/health (no auth)": ("/health", {}),
                "/sj/me (Simple JWT)": ("/sj/me", {"Authorization": f"Bearer {sj}"}),
                "/jk/me (jwtkit)": ("/jk/me", {"Authorization": f"Bearer {jk}"}),
                "/session/me (django_session)": ("/session/me", {"Cookie": cookie}),
            }
            for name, (path, headers) in gets.items():  # correctness gates
                assert call("GET", base + path, headers=headers)[0] == 200, name
                if headers:
                    assert call("GET", base + path)[0] in (401, 403), name
            steps: dict[str, Callable[[], Any]] = {
                name: (lambda path=path, headers=headers: Strict([request_bytes("GET", path, headers)]))
                for name, (path, headers) in gets.items()}
            steps["refresh, Simple JWT"] = lambda: RefreshChain(base, "sj")
            steps["refresh, jwtkit"] = lambda: RefreshChain(base, "jk")

            # gunicorn's worker is the master's child; uvicorn is one process whose per-request threads
            # come and go too fast to walk (its own stat counts them all).
            server_cpu = cpu_seconds if args.server == "uvicorn" else tree_cpu_seconds

            def run(name: str, _: int) -> dict[str, Any]:
                conversations = [steps[name]() for _ in range(args.connections)]  # logins before the clock starts
                cpu_before = server_cpu(server.pid)
                result = run_conversations(server.port, conversations, args.duration)
                result["cpu_us"] = (server_cpu(server.pid) - cpu_before) / result["requests"] * 1e6
                return result

            runs = interleave(list(steps), args.rounds, run,
                              describe=lambda name, result: f"{name}: {result['rps']:.0f} req/s")
        inproc = in_process(args.rounds)
    results = {name: [x["rps"] for x in r] for name, r in runs.items()}
    cpu_us = {name: [x["cpu_us"] for x in r] for name, r in runs.items()}
    health = runs["/health (no auth)"]
    ratios = {name: [x["rps"] / h["rps"] for x, h in zip(r, health, strict=True)] for name, r in runs.items()}

    print(f"\nDjango {args.connections} connections, {args.duration:g} s x {args.rounds} rounds, one {args.server} worker, "
          f"SQLite {args.sqlite} "
          "(medians; check the other load before trusting req/s)\n")
    print("| endpoint | req/s | ÷ /health | server CPU µs/request |\n|---|---:|---:|---:|")
    for name in steps:
        print(
            f"| {name} | {statistics.median(results[name]):.0f} | {statistics.median(ratios[name]):.2f} "
            f"| {statistics.median(cpu_us[name]):.0f} |"
        )
    print("\nIn one process, no HTTP: whole requests through Django's WSGI handler, CPU µs (median)\n")
    print("| request | µs | over /health, µs |\n|---|---:|---:|")
    floor = inproc["request /health"]
    for name in REQUESTS:
        over = statistics.median(x - f for x, f in zip(inproc[name], floor, strict=True))
        print(f"| {name.removeprefix('request ')} | {statistics.median(inproc[name]):.0f} | {over:+.0f} |")
    print("\nIn one process, no HTTP: CPU µs per call (median), Simple JWT ÷ jwtkit\n")
    print("| call | Simple JWT µs | jwtkit µs | ratio |\n|---|---:|---:|---:|")
    for what in ("JWTAuthentication", "TokenRefreshView"):
        theirs = statistics.median(inproc[f"{what}, Simple JWT"])
        ours = statistics.median(inproc[f"{what}, jwtkit"])
        print(f"| {what} | {theirs:.0f} | {ours:.0f} | {theirs / ours:.2f}× |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"req_per_s": results, "ratio_to_health": ratios, "cpu_us": cpu_us, "in_process_us": inproc,
                       "args": vars(args)}, fh, indent=1)


if __name__ == "__main__":
    main()
