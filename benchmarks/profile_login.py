#!/usr/bin/env python3
"""Where a login spends its CPU, in process: the whole ``POST /auth/token`` (password grant) through the
app ``jwtkit serve`` runs, no sockets, under cProfile. Issue 10 asks that nothing but argon2 show.

    .venv/bin/python benchmarks/profile_login.py              # 20 logins, ~5 s
    .venv/bin/python benchmarks/profile_login.py --logins 50 --lines 15

The app is ``jwtkit.wiring.build_app`` over an SQLite database in a temporary directory (its lifespan
run as uvicorn runs it); one user registers, then logs in ``--logins`` times with a JSON body, each
answer checked (200, a token pair). The server checks the password on a worker thread (argon2-cffi's
``PasswordHasher.verify``: the argon2id computation, in C, off the event loop), so the process's CPU
splits cleanly: the event loop thread's (``time.thread_time``: the framework, jwtkit, SQLite, the two
ES256 signatures, everything that is not argon2) and the rest (the hash). Printed: CPU ms per login
each way, and the event loop's profile (cProfile; its waits on the selector left out).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from profile_auth_me import Sink, http_scope, start
from starlette.types import Message

from jwtkit.wiring import ServerSettings, build_app

PASSWORD = "profile password 1"


def login_request(username: str) -> tuple[Message, Message]:
    """The scope and body message uvicorn would hand the app for a JSON password-grant login."""
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    scope = http_scope("/auth/token", None) | {"method": "POST"}
    scope["headers"] = [*scope["headers"], (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]
    return scope, {"type": "http.request", "body": body, "more_body": False}


async def measure(args: argparse.Namespace) -> tuple[float, float, pstats.Stats]:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(ServerSettings(database_url=f"sqlite:///{Path(tmp) / 'profile.sqlite3'}",
                                       register_max_per_client=10**6))
        stop = await start(app)
        try:
            await app.state.service.register("profile_user", PASSWORD, client="127.0.0.1")
            scope, message = login_request("profile_user")

            async def receive() -> Message:
                return message

            async def login() -> None:
                sink = Sink()
                await app(dict(scope), receive, sink)
                if sink.status != 200:
                    raise RuntimeError(f"login answered {sink.status}")

            await login()  # warm
            cpu, loop_cpu = time.process_time(), time.thread_time()
            for _ in range(args.logins):
                await login()
            cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.logins):
                await login()
            profiler.disable()
            return cpu / args.logins * 1e3, loop_cpu / args.logins * 1e3, pstats.Stats(profiler, stream=io.StringIO())
        finally:
            await stop()


def without_waits(stats: pstats.Stats) -> pstats.Stats:
    """The profile minus the selector's waits (the loop idle while argon2 runs on its thread)."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for entry in [k for k in raw if "epoll" in k[2] or k[2] == "select"]:
        del raw[entry]
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=20, help="logins to profile (default 20)")
    parser.add_argument("--lines", type=int, default=12, help="profile lines to print (default 12)")
    args = parser.parse_args(argv)
    from jwtkit.auth.settings import AuthSettings

    s = AuthSettings()
    ms, loop_ms, stats = asyncio.run(measure(args))
    print(f"{args.logins} logins: {ms:.1f} ms of CPU per login; the argon2id hash check (t={s.password_time_cost}, "
          f"m={s.password_memory_cost} KiB, p={s.password_parallelism}, on its worker thread) {ms - loop_ms:.1f} ms "
          f"({(ms - loop_ms) / ms:.1%}), everything else (the event loop thread) {loop_ms:.2f} ms ({loop_ms / ms:.1%})")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    without_waits(stats).sort_stats("tottime").print_stats(args.lines)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
