"""A normal login's latency during a flood of registrations (issue 15): the ratio of its median
during the flood (logins started 0.5 s apart while it is served) to its median before it, on one real server (uvicorn, SQLite, argon2id at the
production cost), in three set-ups:

- ``unbounded``: what the server did before the fix: no registration limit and registrations
  hash in the same queue as logins (the flood's hashes all run before the login's);
- ``hash budget``: registrations hash within their own smaller budget, still no limit (a flood
  spread over many addresses, which the per-address limit cannot stop);
- ``default``: the shipped settings: the budget and the per-address limit (the flood comes from
  one address, as in the issue's report: most of it is answered 429 without hashing).

    .venv/bin/python benchmarks/bench_register_flood.py [--flood 200] [--logins 8]

A benchmark, not a test: it prints numbers and judges nothing. The server runs in a child process
(this script, ``--serve``), the load generator here (httpx, asyncio).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from harness.servers import free_port, running

PASSWORD = "correct horse battery"
SPACING = 0.5  # seconds between the starts of the logins timed during the flood
SETUPS = {"unbounded": ("--unbounded",), "hash budget": ("--no-limit",), "default": ()}


def serve(port: int, database: Path, flags: list[str]) -> None:
    """The child: ``jwtkit serve``'s app with the set-up's changes, on ``port``."""
    import dataclasses

    import uvicorn

    from jwtkit.auth.passwords import Passwords
    from jwtkit.auth.service import AuthService
    from jwtkit.auth.settings import AuthSettings
    from jwtkit.web import create_app
    from jwtkit.wiring import normalize_database_url, open_stores

    auth = AuthSettings()
    if "--no-limit" in flags or "--unbounded" in flags:
        auth = dataclasses.replace(auth, register_max_per_client=1_000_000)
    if "--unbounded" in flags:
        Passwords.hash_for_registration = Passwords.hash  # type: ignore[method-assign]  # the old queue

    async def factory() -> AuthService:
        return await AuthService.open(auth, await open_stores(normalize_database_url(str(database))))

    uvicorn.run(create_app(factory), host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def server(flags: tuple[str, ...]) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        command = [sys.executable, __file__, "--serve", str(port), str(Path(tmp) / "auth.sqlite3"), *flags]
        with running(command, Path(tmp) / "server.log", url=f"http://127.0.0.1:{port}") as child:
            yield child.url


async def timed_login(http: httpx.AsyncClient, *, after: float = 0.0) -> float:
    await asyncio.sleep(after)
    start = time.perf_counter()
    response = await http.post("/auth/token", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return time.perf_counter() - start


async def login_times(http: httpx.AsyncClient, count: int) -> list[float]:
    return [await timed_login(http) for _ in range(count)]


async def measure(url: str, flood: int, logins: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=flood + 8)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as http:
        assert (await http.post("/auth/register", json={"username": "alice", "password": PASSWORD})).status_code == 201
        await login_times(http, 2)  # warm up
        quiet = await login_times(http, logins)
        started = time.perf_counter()
        registrations = [asyncio.ensure_future(http.post("/auth/register",
                                                         json={"username": f"flood{i}", "password": PASSWORD}))
                         for i in range(flood)]
        # Logins started one by one while the flood is being served, each timed on its own (a login
        # queued behind the flood must not make the next ones look fast by starting after it).
        during = await asyncio.gather(*(timed_login(http, after=1.0 + SPACING * i) for i in range(logins)))
        answers = [response.status_code for response in await asyncio.gather(*registrations)]
        flood_seconds = time.perf_counter() - started
    return {
        "quiet": statistics.median(quiet), "during": statistics.median(during), "worst": max(during),
        "created": answers.count(201), "refused": answers.count(429), "flood_s": flood_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=200, help="concurrent registrations (default 200)")
    parser.add_argument("--logins", type=int, default=8, help="logins timed before and during (default 8)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; flood of {args.flood} registrations, "
          f"{args.logins} logins timed before and during it; medians")
    print(f"{'set-up':<12} {'login before s':>15} {'login during s':>15} {'ratio':>7} {'worst s':>8} {'201':>5} "
          f"{'429':>5} {'flood s':>8}")
    for name, flags in SETUPS.items():
        with server(flags) as url:
            result = asyncio.run(measure(url, args.flood, args.logins))
        print(f"{name:<12} {result['quiet']:>15.3f} {result['during']:>15.3f} "
              f"{result['during'] / result['quiet']:>7.1f} {result['worst']:>8.2f} {result['created']:>5.0f} "
              f"{result['refused']:>5.0f} "
              f"{result['flood_s']:>8.1f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:])
        sys.exit(0)
    sys.exit(main())
