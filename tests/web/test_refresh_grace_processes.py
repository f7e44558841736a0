"""``jwtkit serve --workers 2 --refresh-reuse-grace`` with real processes, on SQLite (revocations
polled from the database) and on PostgreSQL + Redis: 20 concurrent refreshes of one token spread
over the workers all get the same pair (same jtis), the family stays alive, and exactly one
successor is stored; a replay after the grace revokes the family as without a grace. Every
process started here is stopped by the test."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import jwtkit

from .conftest import PASSWORD
from .processes import PrivateRedis, free_port, jwtkit_serve

pytestmark = pytest.mark.slow

GRACE = 5
RACERS = 20


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def deployment(request, tmp_path: Path) -> Iterator[tuple[list[str], Callable[[str], int]]]:
    """The flags that put the server on this test's database, and ``count(family_id)``: how many
    refresh tokens that family has in the database."""
    if request.param == "sqlite":
        database = tmp_path / "auth.db"

        def count_sqlite(family_id: str) -> int:
            with sqlite3.connect(database) as conn:
                return int(conn.execute("SELECT count(*) FROM refresh_tokens WHERE family_id = ?",
                                        (family_id,)).fetchone()[0])

        yield ["--database", f"sqlite:///{database}"], count_sqlite
        return
    postgres_url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()

    def count_postgresql(family_id: str) -> int:
        import asyncpg
        from sqlalchemy import make_url

        async def count() -> int:
            url = make_url(postgres_url)
            conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                         password=url.password, database=url.database)
            try:
                return int(await conn.fetchval(f'SELECT count(*) FROM "{schema}".refresh_tokens WHERE family_id = $1',
                                               family_id))
            finally:
                await conn.close()

        return asyncio.run(count())

    try:
        yield ["--database", postgres_url, "--database-schema", schema, "--redis", redis.url], count_postgresql
    finally:
        redis.stop()


def claims(token: str) -> dict:
    return jwtkit.decode_unverified(token)[1]


def refresh(url: str, refresh_token: str) -> httpx.Response:
    """One refresh on a connection of its own (so the workers share the race)."""
    return httpx.post(url + "/auth/token/refresh", json={"refresh_token": refresh_token}, timeout=60)


def me_status(url: str, access_token: str) -> int:
    return httpx.get(url + "/auth/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=30).status_code


def test_a_refresh_race_over_two_workers_within_the_grace_gets_one_pair_and_keeps_the_family(deployment, tmp_path):
    flags, family_tokens = deployment
    with jwtkit_serve(tmp_path / "serve.log", *flags, "--workers", "2", "--refresh-reuse-grace", str(GRACE),
                      port=free_port()) as server:
        httpx.post(server.url + "/auth/register", json={"username": "alice", "password": PASSWORD}, timeout=60)
        pair = httpx.post(server.url + "/auth/token", json={"username": "alice", "password": PASSWORD},
                          timeout=60).json()

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            answers = list(pool.map(lambda _: refresh(server.url, pair["refresh_token"]), range(RACERS)))
        spent_by = time.monotonic()

        assert [answer.status_code for answer in answers] == [200] * RACERS
        pairs = [answer.json() for answer in answers]
        assert len({claims(p["refresh_token"])["jti"] for p in pairs}) == 1
        assert len({claims(p["access_token"])["jti"] for p in pairs}) == 1
        assert family_tokens(claims(pair["refresh_token"])["fid"]) == 2  # the login's token and one successor
        assert all(me_status(server.url, p["access_token"]) == 200 for p in pairs[:5])
        assert "reuse (" not in server.log_text()

        time.sleep(max(0.0, spent_by + GRACE + 0.5 - time.monotonic()))
        assert refresh(server.url, pair["refresh_token"]).status_code == 401  # reuse after the grace
        deadline = time.monotonic() + 10
        while me_status(server.url, pairs[0]["access_token"]) != 401:  # the family is revoked on both workers
            assert time.monotonic() < deadline, "the family was not revoked after the grace"
            time.sleep(0.05)
        assert refresh(server.url, pairs[0]["refresh_token"]).status_code == 401
