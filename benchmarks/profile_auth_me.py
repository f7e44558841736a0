#!/usr/bin/env python3
"""Where a request to ``/auth/me`` spends its CPU, in process: no sockets, no load generator.

    .venv/bin/python benchmarks/profile_auth_me.py                 # timings, ~1 min
    .venv/bin/python benchmarks/profile_auth_me.py --profile       # + a cProfile of each path
    .venv/bin/python benchmarks/profile_auth_me.py --json out.json

The app is the one ``jwtkit serve`` runs (``jwtkit.wiring.build_app`` over an SQLite database in a
temporary directory, its lifespan run as uvicorn runs it). One user registers; its tokens are minted
by the service's own flow (one refresh family each, written to the database, as a login would
minus argon2). The ASGI app is then called directly with the scope, ``receive`` and ``send`` uvicorn's
httptools protocol gives it, sequentially on one event loop:

- ``/health``: the framework's floor;
- ``/auth/me`` hot: one token again and again (the verified-token cache hits);
- ``/auth/me`` cold: ``--tokens`` (5,000) distinct live tokens in turn, more than the cache holds
  (4,096), so every request verifies a signature;
- the ES256 verify alone: a cache-less ``Verifier`` with the ring's key over the same tokens
  (signature, payload decode, registered claims), the floor under a cold request;
- ``/health`` then that verify, in turn: the verification between two requests, as a server runs it
  (the HTTP work between two checks takes the CPU's caches, which a tight loop keeps).

Each figure is the best of ``--repeats`` runs of ``--requests`` requests, in CPU µs per request
(``time.process_time``) and wall µs (``time.perf_counter``); cold − health − verify is the part of
a cold request that is neither the framework's floor nor the cryptography. What this cannot see:
uvicorn's own per-request work (parsing, the transport, the access log line) and the database
poll of the revocation feed (10 per second, independent of the request rate); both are in the
wrk figures of ``bench_server.py`` and cost the same per request on every path. The feed's
staleness bound is raised to 60 s here (the check still runs on every request): a loop that never
waits for a socket keeps the GIL, and starves the feed's reader thread far more than a server does.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp as ASGI
from starlette.types import Message

from jwtkit.wiring import ServerSettings, build_app

PASSWORD = "profile password 1"


def http_scope(path: str, token: str | None) -> Message:
    """The scope uvicorn's httptools protocol builds for ``GET path`` (a wrk-like request head)."""
    headers = [(b"host", b"127.0.0.1:8000")]
    if token is not None:
        headers.append((b"authorization", b"Bearer " + token.encode("ascii")))
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 40000), "scheme": "http", "method": "GET",
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
            "state": {}}


_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def receive() -> Message:
    return _REQUEST


class Sink:
    """``send``: keeps the status of the last answer, checks nothing else (as a socket would)."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


async def start(app: ASGI) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup as uvicorn does; return the shutdown."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)

    task = asyncio.create_task(lifespan())
    await inbox.put({"type": "lifespan.startup"})
    answer = await outbox.get()
    if answer["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"startup failed: {answer}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def mint(app: Any, count: int) -> list[str]:
    """``count`` access tokens of one user, each the first of its own refresh family."""
    service = app.state.service
    user = await service.register("profile_user", PASSWORD, client="127.0.0.1")
    flows = service._tokens  # the TokenFlows (login minus argon2)
    tokens = [(await flows.start_family(user)).access_token for _ in range(count)]
    assert len(set(tokens)) == count
    return tokens


class Cycle:
    """The scopes of one path taken in turn, carried on from one run to the next: a cold run never
    starts again at a token a previous run just left in the verified-token cache."""

    def __init__(self, scopes: list[Message]) -> None:
        self.scopes = scopes
        self.position = 0


async def run_path(app: ASGI, cycle: Cycle, requests: int) -> tuple[float, float]:
    """CPU and wall seconds for ``requests`` requests taking ``cycle``'s scopes in turn."""
    sink = Sink()
    scopes, n, start = cycle.scopes, len(cycle.scopes), cycle.position
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(start, start + requests):
        await app(scopes[i % n], receive, sink)
        await asyncio.sleep(0)  # back to the loop, as a server does between requests (the feed's poll runs)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    cycle.position = (start + requests) % n
    if sink.status != 200:
        raise RuntimeError(f"{scopes[0]['path']} answered {sink.status}")
    return cpu, wall


def cacheless_verifier(app: Any) -> Callable[[str], object]:
    """The ring's ``Verifier`` without its token cache: what a cold request cannot avoid."""
    from jwtkit.auth.keyring import REQUIRED_CLAIMS
    from jwtkit.core.keyset import KeySet
    from jwtkit.core.tokens import Verifier

    ring = app.state.service._tokens._keys.ring
    return Verifier(KeySet(key for key, _ in ring.published), algorithms=sorted({r.alg for _, r in ring.published}),
                    required=REQUIRED_CLAIMS).verify


def run_verify(verify: Callable[[str], object], tokens: list[str], requests: int) -> float:
    """CPU seconds for ``requests`` verifications cycling through ``tokens``."""
    n = len(tokens)
    gc.collect()
    cpu = time.process_time()
    for i in range(requests):
        verify(tokens[i % n])
    return time.process_time() - cpu


async def run_health_then_verify(app: ASGI, health: Cycle, verify: Callable[[str], object], tokens: list[str],
                                 requests: int) -> float:
    """CPU seconds for ``requests`` rounds of one ``/health`` request followed by one cache-less verification
    (the cold tokens in turn): the verification where a server runs it, between two pieces of HTTP work that
    take the CPU's caches, instead of in a tight loop that keeps them."""
    sink, scope, n = Sink(), health.scopes[0], len(tokens)
    gc.collect()
    cpu = time.process_time()
    for i in range(requests):
        await app(scope, receive, sink)
        await asyncio.sleep(0)
        verify(tokens[i % n])
    return time.process_time() - cpu


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings(database_url=f"sqlite:///{Path(tmp) / 'profile.sqlite3'}", access_ttl=3600,
                                  register_max_per_client=10**6, revocation_max_staleness=60.0)
        app = build_app(settings)
        stop = await start(app)
        try:
            tokens = await mint(app, args.tokens)
            paths = {
                "health": Cycle([http_scope("/health", None)]),
                "me_hot": Cycle([http_scope("/auth/me", tokens[0])]),
                "me_cold": Cycle([http_scope("/auth/me", token) for token in tokens]),
            }
            for scopes in paths.values():  # warm every path (and fill the cache for the hot one)
                await run_path(app, scopes, min(len(scopes.scopes), 2000))
            verify = cacheless_verifier(app)
            cpu: dict[str, float] = {name: float("inf") for name in paths}
            wall: dict[str, float] = {name: float("inf") for name in paths}
            verify_us = between_us = float("inf")
            for _ in range(args.repeats):  # interleaved: a noisy neighbour hurts every path alike
                for name, scopes in paths.items():
                    c, w = await run_path(app, scopes, args.requests)
                    cpu[name] = min(cpu[name], c / args.requests * 1e6)
                    wall[name] = min(wall[name], w / args.requests * 1e6)
                verify_us = min(verify_us, run_verify(verify, tokens, args.requests) / args.requests * 1e6)
                both = await run_health_then_verify(app, paths["health"], verify, tokens, args.requests)
                between_us = min(between_us, both / args.requests * 1e6)
            result: dict[str, Any] = {"cpu_us": cpu, "wall_us": wall, "verify_us": verify_us,
                                      "health_then_verify_us": between_us}
            if args.profile:
                result["profiles"] = {}
                for name, scopes in paths.items():
                    stats, out = await profiled(lambda scopes=scopes: run_path(app, scopes, args.requests))
                    stats.sort_stats(args.sort).print_stats(args.lines)
                    shares = breakdown(stats)
                    out.write("share of profiled time: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()) + "\n")
                    result["profiles"][name] = out.getvalue()
                    result.setdefault("shares", {})[name] = shares
            return result
        finally:
            await stop()


GROUPS = (("jwtkit/core", "jwtkit core"), ("jwtkit/auth", "jwtkit auth"), ("jwtkit/web", "jwtkit web"),
          ("jwtkit/", "jwtkit other"), ("fastapi", "FastAPI"), ("starlette", "Starlette"),
          ("opentelemetry", "OpenTelemetry API (FastAPI's)"), ("asyncio", "asyncio"), ("selectors", "asyncio"),
          ("profile_auth_me", "harness"))


async def profiled(run: Callable[[], Awaitable[object]]) -> tuple[pstats.Stats, io.StringIO]:
    """A cProfile of ``await run()``: its stats, which print to the returned buffer."""
    profiler = cProfile.Profile()
    profiler.enable()
    await run()
    profiler.disable()
    out = io.StringIO()
    return pstats.Stats(profiler, stream=out), out


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Share of the profiled time (``tottime``) by where the code lives; a C function counts for
    the package that called it most (so the ECDSA verify counts as cryptography)."""
    shares: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    for (filename, _, name), (_, _, tottime, _, callers) in raw.items():
        where = filename
        if filename == "~":  # a built-in: name it after its heaviest caller's file
            where = max(callers.items(), key=lambda item: item[1][2])[0][0] if callers else "~"
        if "cryptography" in name or "cryptography" in where:
            group = "cryptography (ECDSA)"
        else:
            group = next((label for needle, label in GROUPS if needle in where), "other (stdlib, builtins)")
        shares[group] = shares.get(group, 0.0) + tottime / total
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def report(result: dict[str, Any]) -> str:
    cpu, wall, verify = result["cpu_us"], result["wall_us"], result["verify_us"]
    in_situ = result["health_then_verify_us"] - cpu["health"]
    rows = [f"{'path':<26}{'CPU µs/req':>12}{'wall µs/req':>13}{'÷ health':>10}",
            *(f"{name:<26}{cpu[name]:>12.1f}{wall[name]:>13.1f}{cpu['health'] / cpu[name]:>10.2f}"
              for name in cpu),
            f"{'ES256 verify alone':<26}{verify:>12.1f}",
            f"{'/health, then a verify':<26}{result['health_then_verify_us']:>12.1f}",
            "",
            f"hot  − health          = {cpu['me_hot'] - cpu['health']:6.1f} µs",
            f"cold − health          = {cpu['me_cold'] - cpu['health']:6.1f} µs",
            f"cold − health − verify = {cpu['me_cold'] - cpu['health'] - verify:6.1f} µs  (ours: neither the "
            "framework's floor nor the cryptography)",
            f"verify between requests = {in_situ:6.1f} µs  ((/health, then a verify) − health: "
            f"{in_situ / verify:.2f}× the tight loop's)",
            f"cold − health − that    = {cpu['me_cold'] - cpu['health'] - in_situ:6.1f} µs",
            f"cold ceiling ÷ health  = {cpu['health'] / (cpu['health'] + verify):6.2f}  "
            "(health + verify alone, in process)",
            f"                       = {cpu['health'] / (cpu['health'] + in_situ):6.2f}  "
            "(health + verify between requests)"]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=5000, help="distinct tokens of the cold path (default 5000)")
    parser.add_argument("--requests", type=int, default=10000, help="requests per run (default 10000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per path; the best counts (default 5)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each path")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (default tottime)")
    parser.add_argument("--lines", type=int, default=30, help="cProfile lines per path (default 30)")
    parser.add_argument("--json", type=Path, help="write the figures (and profiles) here")
    args = parser.parse_args(argv)
    from jwtkit.auth.settings import AuthSettings

    if args.tokens <= AuthSettings().verified_token_cache:
        parser.error(f"--tokens must exceed the verified-token cache ({AuthSettings().verified_token_cache}) "
                     "for the cold path to miss it")
    result = asyncio.run(measure(args))
    print(report(result))
    for name, text in result.get("profiles", {}).items():
        print(f"\n======== cProfile: {name} ({args.requests} requests)\n{text}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
