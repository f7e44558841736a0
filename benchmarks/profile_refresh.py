#!/usr/bin/env python3
"""Where a refresh (``POST /auth/token/refresh``) spends its time, in process, on SQLite and on PostgreSQL
+ Redis: no sockets, no load generator. Issue 10 asks that a refresh's sequential latency be at most 4×
``/health``'s, or that a profile show why the physics does not allow it; this is that profile.

    .venv/bin/python benchmarks/profile_refresh.py                          # both backends, ~2 min
    .venv/bin/python benchmarks/profile_refresh.py --backends sqlite --profile --lines 25

The app is the one ``jwtkit serve`` runs (``jwtkit.wiring.build_app``, its lifespan run as uvicorn runs
it) over an SQLite file in a temporary directory, or over PostgreSQL on 127.0.0.1:5432 (a fresh schema,
dropped at the end) + the Redis on 127.0.0.1:6379 (a fresh key prefix, deleted at the end); when either
cannot be reached, it says so and profiles SQLite only. One user registers; then, sequentially on one event
loop, interleaved over ``--repeats`` runs of ``--requests`` each (the run with the least wall counts):

- ``/health`` through the ASGI app: the framework's floor;
- the refresh through the ASGI app: a JSON body ``{"refresh_token": …}``, each answer's refresh token the
  next request's (a refresh chain, as a client runs it), each answer checked (200);
- ``service.refresh(token)`` alone: the same chain without HTTP;
- the store's call alone, ``spend_refresh_for_user`` (the successor records made before the clock starts);
- the primitives in a tight loop with the server's own keys: one HS256 verification of a refresh token (the
  ring's refresh ``Verifier``, which has no token cache) and the pair's two signatures (``jwtkit.encode`` of
  the access claims, ES256, and of the refresh claims, HS256 with the key derived from the signing key);
- the store's call, then the verification and the two signatures: the primitives where a refresh runs them,
  right after the loop waited for the store (caches cold), less the store call: their cost in situ;
- on PostgreSQL, a durable one-row autocommitted ``INSERT`` (``harness/ceilings.py``, p50 of 300).

CPU is the process's (``time.process_time``: every thread) and the event loop thread's (``time.thread_time``);
wall is ``time.perf_counter``. The store's wall − CPU is what the loop waited for: on PostgreSQL the round trip
and the commit's WAL flush (PostgreSQL's own CPU is in another process). Printed per backend: the figures;
the refresh broken down (``/health`` + the HTTP work over it + verify + 2 signs in a tight loop + what they
cost more in situ + the store + the rest of the service; on PostgreSQL the two signatures run during the
store's wait, ``jwtkit.auth.overlap``, so they are counted with the rest of the service); the *physics floor*
of a sequential refresh, ``/health`` + verify + 2 signs on SQLite, ``/health`` + verify + the commit (or the
signatures, were they longer) on PostgreSQL, as a multiple of ``/health`` beside the measured one.
``--profile`` adds a cProfile of the HTTP refresh (the loop's waits on the selector left out).

What this cannot see: uvicorn's per-request work (parsing, the transport, the access log line), which a
server adds to ``/health`` and to a refresh alike, so a multiple measured over sockets is lower than the one
here (``(refresh + u) ÷ (health + u)``); the network between client and server; PostgreSQL's CPU. The
revocation feed's staleness bound is raised to 60 s, as in ``profile_auth_me.py`` (a refresh does not check it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from bench_scaleout import POSTGRES_URL, postgres_dsn, postgres_schema
from harness.ceilings import postgres_commit_ms
from profile_auth_me import Sink, cacheless_verifier, http_scope, profiled, receive, start
from profile_login import without_waits
from starlette.types import ASGIApp as ASGI
from starlette.types import Message

from jwtkit import encode
from jwtkit.auth.ports import SpendResult
from jwtkit.auth.tokens import new_refresh_record
from jwtkit.wiring import ServerSettings, build_app

PASSWORD = "profile password 1"
REDIS_URL = "redis://127.0.0.1:6379/0"
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL + Redis"}


class Cost(NamedTuple):
    """µs per operation: the process's CPU, the event loop thread's CPU, wall."""

    cpu: float
    loop: float
    wall: float


def clocks() -> Cost:
    return Cost(time.process_time(), time.thread_time(), time.perf_counter())


def per_op(started: Cost, n: int) -> Cost:
    return Cost(*((now - then) / n * 1e6 for then, now in zip(started, clocks(), strict=True)))


def best(a: Cost | None, b: Cost) -> Cost:
    """The better of two runs (the lower wall), its three clocks together: wall − CPU stays one run's."""
    return b if a is None or b.wall < a.wall else a


class BodySink(Sink):
    """``send`` that also keeps the last answer's body (the refresh answer is one body message)."""

    __slots__ = ("body",)

    def __init__(self) -> None:
        super().__init__()
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            self.body = message.get("body", b"")
        else:
            await super().__call__(message)


def refresh_request(token: str) -> tuple[Message, Message]:
    """The scope and body message uvicorn would hand the app for a JSON refresh."""
    body = b'{"refresh_token":"%s"}' % token.encode()
    scope = http_scope("/auth/token/refresh", None)
    scope["method"] = "POST"
    scope["headers"] = [*scope["headers"], (b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(body))]
    return scope, {"type": "http.request", "body": body, "more_body": False}


def next_refresh(body: bytes) -> str:
    """The refresh token of a pair answer (a compact JWS: nothing escaped; cheaper than ``json.loads``)."""
    return body.split(b'"refresh_token":"', 1)[1].split(b'"', 1)[0].decode()


async def run_health(app: ASGI, n: int) -> Cost:
    sink = Sink()
    gc.collect()
    started = clocks()
    for _ in range(n):
        await app(http_scope("/health", None), receive, sink)  # a new scope each time, as for the refresh
        await asyncio.sleep(0)  # back to the loop, as a server does between requests
    cost = per_op(started, n)
    if sink.status != 200:
        raise RuntimeError(f"/health answered {sink.status}")
    return cost


async def run_http(app: ASGI, chain: list[str], n: int) -> Cost:
    """``n`` refreshes through the app, each spending the token the previous answer gave (``chain[0]``)."""
    sink, token = BodySink(), chain[0]
    message: Message = {}

    async def receive_body() -> Message:
        return message

    gc.collect()
    started = clocks()
    for _ in range(n):
        scope, message = refresh_request(token)
        await app(scope, receive_body, sink)
        if sink.status != 200:
            raise RuntimeError(f"refresh answered {sink.status}: {sink.body!r}")
        token = next_refresh(sink.body)
        await asyncio.sleep(0)
    cost = per_op(started, n)
    chain[0] = token
    return cost


async def run_service(service: Any, chain: list[str], n: int, collect: list[str] | None = None) -> Cost:
    """``n`` refreshes by ``service.refresh``, chained from ``chain[0]``; each pair kept in ``collect``."""
    token = chain[0]
    gc.collect()
    started = clocks()
    for _ in range(n):
        pair = await service.refresh(token)
        token = pair.refresh_token
        if collect is not None:
            collect += (pair.access_token, token)
        await asyncio.sleep(0)
    cost = per_op(started, n)
    chain[0] = token
    return cost


@dataclass
class StoreChain:
    """Where the store-only chain stands: its user, family and the live token's ``jti``."""

    user_id: int
    family_id: str
    jti: str


async def run_store(flows: Any, chain: StoreChain, n: int, after: Callable[[int], object] | None = None) -> Cost:
    """``n`` calls of ``spend_refresh_for_user``, as ``TokenFlows.refresh`` makes it, each spending the
    successor the previous one stored (the records are made before the clock starts); ``after(i)`` run
    after each call (the verify and signatures where a refresh runs them, right after a store call)."""
    store, now = flows._tokens, time.time()
    successors = [new_refresh_record(flows._keys.active, flows._settings, chain.user_id, chain.family_id, now)
                  for _ in range(n)]
    jti = chain.jti
    gc.collect()
    started = clocks()
    for i, successor in enumerate(successors):
        spend = await store.spend_refresh_for_user(chain.user_id, jti, now=now, successor=successor)
        if spend.result is not SpendResult.SPENT:
            raise RuntimeError(f"the store answered {spend.result}")
        jti = successor.jti
        if after is not None:
            after(i)
        await asyncio.sleep(0)
    cost = per_op(started, n)
    chain.jti = jti
    return cost


def run_sync(step: Callable[[int], object], n: int) -> Cost:
    gc.collect()
    started = clocks()
    for i in range(n):
        step(i)
    return per_op(started, n)


async def measure(settings: ServerSettings, args: argparse.Namespace) -> dict[str, Any]:
    app: Any = build_app(settings)
    stop = await start(app)
    try:
        service = app.state.service
        flows = service._tokens  # the TokenFlows: its store, key ring and settings
        user = await service.register("profile_user", PASSWORD, client="127.0.0.1")
        http_chain = [(await flows.start_family(user)).refresh_token]
        service_chain = [(await flows.start_family(user)).refresh_token]
        first = flows.claims((await flows.start_family(user)).refresh_token, "refresh")
        store_chain = StoreChain(user.id, first.family_id, first.jti)
        minted: list[str] = []  # access and refresh tokens in turn, signed by the ring's active key
        warm = min(args.requests, 200)
        await run_health(app, warm)
        await run_http(app, http_chain, warm)
        await run_service(service, service_chain, warm, minted)
        await run_store(flows, store_chain, warm)
        ring = flows._keys.ring
        verifier, key, refresh_key = ring.refresh_verifier.verify, ring.active, ring.refresh_signer
        refresh_tokens = minted[1::2]
        claims = [cast(dict[str, Any], cacheless_verifier(app)(minted[0])), verifier(minted[1])]

        def verify(i: int) -> object:
            return verifier(refresh_tokens[i % len(refresh_tokens)])

        def sign_pair(_: int) -> object:
            return encode(claims[0], key), encode(claims[1], refresh_key)  # the access token, then the refresh token

        def crypto(i: int) -> object:
            return verify(i), sign_pair(i)

        figures: dict[str, Cost | None] = dict.fromkeys(("health", "http", "service", "store", "verify", "signs",
                                                                 "store_crypto"))
        for _ in range(args.repeats):  # interleaved: a noisy neighbour hurts every path alike
            figures["health"] = best(figures["health"], await run_health(app, args.requests))
            figures["http"] = best(figures["http"], await run_http(app, http_chain, args.requests))
            figures["service"] = best(figures["service"], await run_service(service, service_chain, args.requests))
            figures["store"] = best(figures["store"], await run_store(flows, store_chain, args.requests))
            figures["verify"] = best(figures["verify"], run_sync(verify, args.requests))
            figures["signs"] = best(figures["signs"], run_sync(sign_pair, args.requests))
            figures["store_crypto"] = best(figures["store_crypto"],
                                           await run_store(flows, store_chain, args.requests, after=crypto))
        result: dict[str, Any] = {"figures": figures}
        if args.profile:
            stats, out = await profiled(lambda: run_http(app, http_chain, args.requests))
            for entry in [k for k in stats.stats if "gc.collect" in k[2]]:  # type: ignore[attr-defined]
                del stats.stats[entry]  # type: ignore[attr-defined]  # run_http's, before its clock starts
            without_waits(stats).sort_stats("tottime").print_stats(args.lines)
            result["profile"] = out.getvalue()
        return result
    finally:
        await stop()


def report(name: str, figures: dict[str, Cost], commit_us: float | None) -> str:
    health, http, service, store = figures["health"], figures["http"], figures["service"], figures["store"]
    verify, signs, store_crypto = figures["verify"], figures["signs"], figures["store_crypto"]
    labels = {"health": "/health (ASGI)", "http": "refresh (ASGI)", "service": "service.refresh()",
              "store": "store.spend_refresh_for_user()", "verify": "HS256 verify (refresh token)",
              "signs": "2 signs (access ES256, refresh HS256)",
              "store_crypto": "store call, then verify + 2 signs"}
    head = f"{'':<38}{'CPU µs':>10}{'loop CPU µs':>13}{'wall µs':>10}"
    rows = [f"==== {name}", head, *(f"{labels[k]:<38}{c.cpu:>10.1f}{c.loop:>13.1f}{c.wall:>10.1f}"
                                    for k, c in figures.items())]
    if commit_us is not None:
        rows.append(f"{'durable 1-row commit (p50, asyncpg)':<38}{'':>10}{'':>13}{commit_us:>10.1f}")
    head_parts = [("/health floor", health.cpu, health.wall),
                  ("HTTP work over /health", http.cpu - service.cpu - health.cpu,
                   http.wall - service.wall - health.wall),
                  ("HS256 verify", verify.cpu, verify.wall)]
    if commit_us is None:  # the store answers at once: the pair is signed after it
        parts = [*head_parts,
                 ("ES256 + HS256 signs", signs.cpu, signs.wall),
                 ("verify + signs: in situ over tight loop", store_crypto.cpu - store.cpu - verify.cpu - signs.cpu,
                  store_crypto.wall - store.wall - verify.wall - signs.wall),
                 ("store: its CPU", store.cpu, store.cpu),
                 ("store: its wait, wall − CPU", 0.0, store.wall - store.cpu),
                 ("rest of the service", service.cpu - store_crypto.cpu, service.wall - store_crypto.wall)]
        floor = health.wall + verify.wall + signs.wall
        terms = "/health + verify + 2 signs"
    else:  # the pair is signed while the store waits (jwtkit.auth.overlap): its CPU, not its wall, counts
        parts = [*head_parts,
                 ("store: its CPU", store.cpu, store.cpu),
                 ("store: its wait, wall − CPU (trip + commit)", 0.0, store.wall - store.cpu),
                 ("signs (in the wait) + the rest of the service", service.cpu - store.cpu - verify.cpu,
                  service.wall - store.wall - verify.wall)]
        floor = health.wall + verify.wall + max(commit_us, signs.wall)
        terms = "/health + verify + commit (2 signs in it)"
    rows += ["", f"{'refresh (ASGI), broken down':<48}{'CPU µs':>10}{'wall µs':>10}{'of wall':>9}",
             *(f"  {label:<46}{cpu:>10.1f}{wall:>10.1f}{wall / http.wall:>9.0%}" for label, cpu, wall in parts),
             f"  {'= refresh (ASGI)':<46}{http.cpu:>10.1f}{http.wall:>10.1f}"]
    rows += ["", f"physics floor of a sequential refresh ({terms}): {floor:7.1f} µs = "
             f"{floor / health.wall:5.2f}× /health",
             f"{'measured refresh (ASGI), wall':<{len(terms) + 39}}: {http.wall:7.1f} µs = "
             f"{http.wall / health.wall:5.2f}× /health  (CPU: {http.cpu / health.cpu:.2f}×; issue 10: ≤ 4×)",
             f"{'measured ÷ physics floor':<{len(terms) + 39}}: {http.wall / floor:7.2f}",
             f"verify + 2 signs right after a store call: {store_crypto.cpu - store.cpu:.1f} µs of CPU, "
             f"{(store_crypto.cpu - store.cpu) / (verify.cpu + signs.cpu):.2f}× the tight loop's"]
    return "\n".join(rows)


def postgres_unreachable() -> str | None:
    """Why PostgreSQL + Redis cannot be profiled here, or None when both answer."""
    import asyncpg  # type: ignore[import-untyped]  # (no type information shipped)
    import redis

    async def ping_postgres() -> None:
        conn = await asyncpg.connect(**postgres_dsn(), timeout=3)
        await conn.close()

    try:
        asyncio.run(ping_postgres())
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL ({POSTGRES_URL}): {exc!r}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis ({REDIS_URL}): {exc!r}"
    return None


def drop_redis_prefix(prefix: str) -> None:
    """Delete the keys this run left under its own ``prefix`` (never anything else)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def profile_backend(backend: str, args: argparse.Namespace) -> tuple[dict[str, Any], float | None]:
    """The figures of one backend (and, on PostgreSQL, the commit's p50 in µs); everything made is removed."""
    common: dict[str, Any] = {"register_max_per_client": 10**6, "revocation_max_staleness": 60.0}
    with ExitStack() as stack:
        if backend == "sqlite":
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            settings = ServerSettings(database_url=f"sqlite:///{Path(tmp) / 'profile.sqlite3'}", **common)
            return asyncio.run(measure(settings, args)), None
        schema = stack.enter_context(postgres_schema())
        prefix = f"{schema}_{secrets.token_hex(2)}:"
        stack.callback(drop_redis_prefix, prefix)
        settings = ServerSettings(database_url=POSTGRES_URL, database_schema=schema, redis_url=REDIS_URL,
                                  redis_prefix=prefix, **common)
        result = asyncio.run(measure(settings, args))
        return result, postgres_commit_ms(postgres_dsn()) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per run (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per path; the best counts (default 5)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the HTTP refresh")
    parser.add_argument("--lines", type=int, default=20, help="cProfile lines per backend (default 20)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"unknown backends: {', '.join(sorted(unknown))} (known: {', '.join(BACKENDS)})")
    if "postgres" in backends and (why := postgres_unreachable()) is not None:
        print(f"PostgreSQL + Redis not reachable, SQLite only: {why}", file=sys.stderr)
        backends = [b for b in backends if b != "postgres"] or ["sqlite"]
    print(f"{args.repeats} runs of {args.requests} requests per path, the best (least wall) counts; µs per request\n")
    for backend in backends:
        result, commit_us = profile_backend(backend, args)
        print(report(BACKENDS[backend], result["figures"], commit_us), end="\n\n")
        if "profile" in result:
            print(f"======== cProfile: refresh (ASGI) on {BACKENDS[backend]}, {args.requests} requests, "
                  f"selector waits left out\n{result['profile']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
