#!/usr/bin/env python3
"""What PostgreSQL itself costs a refresh, and what a one-row spend would save (issue 10).

    .venv/bin/python benchmarks/probe_pg_spend.py [--rounds 6]

On one asyncpg connection to PostgreSQL on 127.0.0.1:5432 (a scratch schema, dropped at the end),
interleaved, p50 and mean of 400 per round:

- ``three-row``: the store's own refresh statement (``_SPEND_FOR_USER``: the user read, the token
  marked spent, its family extended, the successor inserted), on a chain of tokens as a client spends them;
- ``one-row``: the same decision on a sketched table where the family row holds its current token
  (one conditional UPDATE: the redesign the README weighs);
- ``SELECT 1``: the round trip alone.

Run it once as is (``synchronous_commit`` on: each spend waits for its WAL flush) and once with
``--async-commit`` (off): the difference is the flush.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg  # type: ignore[import-untyped]

from jwtkit.auth.models import RefreshRecord
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.postgres_direct import _SPEND_FOR_USER

DSN = "postgresql://postgres@127.0.0.1/test"
SCHEMA = "exp_probe_pg_spend"
ONE_ROW_TABLE = """
CREATE TABLE fam1 (family_id varchar(64) PRIMARY KEY,
    user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at double precision NOT NULL,
    current_jti varchar(64) NOT NULL, issued_at double precision NOT NULL, expires_at double precision NOT NULL,
    access_jti varchar(64), access_expires_at double precision, prev_jti varchar(64),
    prev_spent_at double precision, revoked_at double precision, kid varchar(64));
CREATE INDEX ON fam1 (expires_at); CREATE INDEX ON fam1 (kid)
"""
ONE_ROW_SPEND = """
WITH alive AS (SELECT id, username, password_hash, disabled_at, last_login_at FROM users WHERE id = $1),
live AS (SELECT 1 FROM alive WHERE disabled_at IS NULL),
spent AS (
    UPDATE fam1 SET current_jti = $4, prev_jti = current_jti, prev_spent_at = $3, issued_at = $3,
        expires_at = $5, access_jti = $6, access_expires_at = $7, kid = COALESCE($8, kid)
    WHERE family_id = $2 AND current_jti = $9 AND revoked_at IS NULL AND expires_at > $3
          AND EXISTS (SELECT 1 FROM live)
    RETURNING 1)
SELECT alive.*, EXISTS (SELECT 1 FROM spent) AS stored FROM (SELECT 1) AS one LEFT JOIN alive ON true
"""


def new_id() -> str:
    return uuid.uuid4().hex


async def main(rounds: int, async_commit: bool) -> None:
    admin = await asyncpg.connect(DSN)
    await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    stores = await open_sql_stores("postgresql+asyncpg://postgres@127.0.0.1/test", schema=SCHEMA)
    try:
        now = time.time()
        user = await stores.users.create_user("probe", "x", now=now)
        settings = {"search_path": SCHEMA, "synchronous_commit": "off" if async_commit else "on"}
        conn = await asyncpg.connect(DSN, server_settings=settings)
        await conn.execute(ONE_ROW_TABLE)
        family, jti = new_id(), new_id()
        await stores.tokens.start_family(RefreshRecord(
            jti=jti, family_id=family, user_id=user.id, issued_at=now, expires_at=now + 86400,
            access_expires_at=now + 300, access_jti=new_id(), spent_at=None, revoked_at=None, kid="k1"))
        family1, current1 = new_id(), new_id()
        await conn.execute("INSERT INTO fam1 VALUES ($1, $2, $3, $4, $3, $5, NULL, NULL, NULL, NULL, NULL, 'k1')",
                           family1, user.id, now, current1, now + 86400)
        three, one, select1 = [await conn.prepare(q) for q in (_SPEND_FOR_USER, ONE_ROW_SPEND, "SELECT 1")]
        times: dict[str, list[float]] = {"three-row": [], "one-row": [], "SELECT 1": []}
        for _ in range(rounds * 400):
            t, successor = time.time(), new_id()
            start = time.perf_counter()
            row = await three.fetchrow(jti, t, successor, family, user.id, t, t + 86400, new_id(), t + 300, "k1",
                                       user.id)
            times["three-row"].append(time.perf_counter() - start)
            assert row["stored"]
            jti, successor = successor, new_id()
            start = time.perf_counter()
            row = await one.fetchrow(user.id, family1, t, successor, t + 86400, new_id(), t + 300, "k1", current1)
            times["one-row"].append(time.perf_counter() - start)
            assert row["stored"]
            current1 = successor
            start = time.perf_counter()
            await select1.fetchval()
            times["SELECT 1"].append(time.perf_counter() - start)
        await conn.close()
        print(f"synchronous_commit {'off' if async_commit else 'on'}")
        for name, values in times.items():
            print(f"{name:10} p50 {statistics.median(values) * 1e6:7.1f} µs  mean {statistics.fmean(values) * 1e6:7.1f} µs")
    finally:
        await stores.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--async-commit", action="store_true", help="synchronous_commit off (no WAL flush wait)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.async_commit))
