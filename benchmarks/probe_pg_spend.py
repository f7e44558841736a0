#!/usr/bin/env python3
"""What PostgreSQL itself costs a refresh, and what a one-row spend would save (issue 10).

    .venv/bin/python benchmarks/probe_pg_spend.py [--repeats 2400] [--async-commit]

On one asyncpg connection to the benchmarks' PostgreSQL (``bench_scaleout.POSTGRES_URL``, a fresh schema,
dropped at the end), the three statements below one after the other, ``--repeats`` times; p50 and mean of each:

- ``three-row``: the store's own refresh statement (``_SPEND_FOR_USER``: the user read, the token
  marked spent, its family extended, the successor inserted), on a chain of tokens as a client spends them;
- ``one-row``: the same decision on a sketched table where the family row holds its current token
  (one conditional UPDATE: the redesign the README weighs);
- ``SELECT 1``: the round trip alone.

Then, for reference, ``harness.ceilings.postgres_commit_ms``: a durable autocommitted one-row INSERT (what
``bench_stateful`` reports as the commit's ceiling).

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
from bench_scaleout import POSTGRES_URL, postgres_dsn, postgres_schema
from harness.ceilings import postgres_commit_ms

from jwtkit.auth.models import RefreshRecord
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.postgres_direct import _SPEND_FOR_USER
from jwtkit.storage.sql.store import USER_COLUMNS

ONE_ROW_TABLE = """
CREATE TABLE fam1 (family_id varchar(64) PRIMARY KEY,
    user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at double precision NOT NULL,
    current_jti varchar(64) NOT NULL, issued_at double precision NOT NULL, expires_at double precision NOT NULL,
    access_jti varchar(64), access_expires_at double precision, prev_jti varchar(64),
    prev_spent_at double precision, revoked_at double precision, kid varchar(64));
CREATE INDEX ON fam1 (expires_at); CREATE INDEX ON fam1 (kid)
"""
ONE_ROW_SPEND = f"""
WITH alive AS (SELECT {', '.join(USER_COLUMNS)} FROM users WHERE id = $1),
live AS (SELECT 1 FROM alive WHERE disabled_at IS NULL),
spent AS (
    UPDATE fam1 SET current_jti = $4, prev_jti = current_jti, prev_spent_at = $3, issued_at = $3,
        expires_at = $5, access_jti = $6, access_expires_at = $7, kid = COALESCE($8, kid)
    WHERE family_id = $2 AND current_jti = $9 AND revoked_at IS NULL AND expires_at > $3
          AND EXISTS (SELECT 1 FROM live)
    RETURNING 1)
SELECT alive.*, EXISTS (SELECT 1 FROM spent) AS stored FROM (SELECT 1) AS one LEFT JOIN alive ON true
"""  # built from module constants only


def new_id() -> str:
    return uuid.uuid4().hex


async def measure(schema: str, repeats: int, async_commit: bool) -> dict[str, list[float]]:
    """Each statement's wall seconds, ``repeats`` of each, interleaved."""
    stores = await open_sql_stores(POSTGRES_URL, schema=schema)
    settings = {"search_path": schema, "synchronous_commit": "off" if async_commit else "on"}
    conn = await asyncpg.connect(**postgres_dsn(), server_settings=settings)
    try:
        now = time.time()
        user = await stores.users.create_user("probe", "x", now=now)
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
        for _ in range(repeats):
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
        return times
    finally:
        await conn.close()
        await stores.close()


def main(repeats: int, async_commit: bool) -> None:
    with postgres_schema() as schema:
        times = asyncio.run(measure(schema, repeats, async_commit))
    print(f"synchronous_commit {'off' if async_commit else 'on'}")
    for name, values in times.items():
        print(f"{name:10} p50 {statistics.median(values) * 1e6:7.1f} µs  mean {statistics.fmean(values) * 1e6:7.1f} µs")
    print(f"a durable one-row INSERT (harness.ceilings.postgres_commit_ms, synchronous_commit as the server's): "
          f"p50 {postgres_commit_ms(postgres_dsn()) * 1e3:.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2400, help="statements of each kind (default 2400)")
    parser.add_argument("--async-commit", action="store_true", help="synchronous_commit off (no WAL flush wait)")
    args = parser.parse_args()
    main(args.repeats, args.async_commit)
