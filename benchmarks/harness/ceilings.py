"""What the physics leaves a stateful path, measured on this machine in the same run as the servers: the
cost of the one primitive a path cannot skip, so a ratio can be read against its ceiling.

- an ES256 signature check (pyca ``cryptography``, through jwtkit's ``Verifier`` without its token cache,
  which sits at the library floor): every cold ``/auth/me`` pays it, so the cold ratio can be at most
  ``/health``'s CPU ÷ (``/health``'s CPU + this);
- a refresh's cryptography (``jwtkit.encode``, the ring's refresh ``Verifier``): it checks the refresh
  token (HS256, the key derived from the signing key) and signs the new pair (the access token ES256,
  the refresh token HS256), so its sequential latency is at least ``/health``'s plus these;
- a durable one-row commit on PostgreSQL (asyncpg, ``synchronous_commit`` as the server has it): every
  refresh writes one, so its sequential latency is at least ``/health``'s plus this (its signatures are
  made while the commit is awaited: the longer of the two counts).
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from typing import Any, NamedTuple


def es256_verify_us(tokens: int = 500, rounds: int = 11) -> float:
    """µs per ES256 verification of distinct tokens (the median over rounds of each round's mean)."""
    import jwtkit

    key = jwtkit.Key.generate("ES256", kid="ceiling")
    exp = int(time.time()) + 3600
    minted = [jwtkit.encode({"sub": str(i), "exp": exp, "jti": secrets.token_hex(8)}, key) for i in range(tokens)]
    verifier = jwtkit.Verifier(key.public_key(), algorithms=["ES256"], required=["exp"], cache_size=0)
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for token in minted:
            verifier.verify(token)
        per_round.append((time.perf_counter() - started) / tokens * 1e6)
    return statistics.median(per_round)


class RefreshCrypto(NamedTuple):
    """µs of a refresh's cryptography: the check of the refresh token, and the new pair's signatures."""

    check_us: float
    signs_us: float

    @property
    def total_us(self) -> float:
        return self.check_us + self.signs_us


def refresh_crypto_us(tokens: int = 500, rounds: int = 11) -> RefreshCrypto:
    """µs per refresh's cryptography, as ``jwtkit serve`` does it: an HS256 check of a refresh token (the
    key derived from an ES256 signing key, no token cache), then an ES256 signature of access claims and an
    HS256 signature of refresh claims (each the median over rounds of each round's mean). Apart, because on
    PostgreSQL the signatures run during the commit's wait and the check does not."""
    import jwtkit
    from jwtkit.auth.keyring import REFRESH_ALG, refresh_key_of

    key = jwtkit.Key.generate("ES256", kid="ceiling")
    refresh_key = refresh_key_of(key)
    exp = int(time.time()) + 3600
    common = [{"sub": str(i), "user_id": i, "fid": secrets.token_urlsafe(16), "iat": exp - 3600}
              for i in range(tokens)]
    refresh = [c | {"token_type": "refresh", "jti": secrets.token_urlsafe(16), "exp": exp} for c in common]
    access = [c | {"token_type": "access", "jti": secrets.token_urlsafe(16), "exp": exp, "username": "user"}
              for c in common]
    minted = [jwtkit.encode(claims, refresh_key) for claims in refresh]
    verifier = jwtkit.Verifier(refresh_key, algorithms=[REFRESH_ALG], required=["exp"])
    checks, signs = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for token in minted:
            verifier.verify(token)
        checked = time.perf_counter()
        for access_claims, refresh_claims in zip(access, refresh, strict=True):
            jwtkit.encode(access_claims, key)
            jwtkit.encode(refresh_claims, refresh_key)
        checks.append((checked - started) / tokens * 1e6)
        signs.append((time.perf_counter() - checked) / tokens * 1e6)
    return RefreshCrypto(statistics.median(checks), statistics.median(signs))


def postgres_commit_ms(dsn: dict[str, Any], commits: int = 300) -> float:
    """p50 ms of one autocommitted one-row ``INSERT`` in a table of its own (dropped after): a durable
    write's round trip and WAL flush, the least a refresh can cost on this PostgreSQL (its spend is one
    statement too)."""
    import asyncpg

    table = f"jwtkit_ceiling_{secrets.token_hex(4)}"

    async def measure() -> float:
        conn = await asyncpg.connect(**dsn)
        try:
            await conn.execute(f'CREATE TABLE "{table}" (id bigserial PRIMARY KEY, at double precision)')
            insert = await conn.prepare(f'INSERT INTO "{table}" (at) VALUES ($1)')
            timings = []
            for _ in range(commits):
                started = time.perf_counter()
                await insert.fetch(time.time())  # one statement, autocommit: one round trip, as a refresh's spend
                timings.append((time.perf_counter() - started) * 1e3)
            return statistics.median(timings)
        finally:
            await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            await conn.close()

    return asyncio.run(measure())
