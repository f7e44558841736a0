"""Schema version 7 (the refresh-reuse grace): a refresh token's row records the access token
issued with it and the successor its spend stored. One self-contained migration step."""

import pytest
import sqlalchemy as sa

from jwtkit.auth.models import RefreshRecord
from jwtkit.auth.ports import SpendResult
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.schema import MIGRATIONS

pytestmark = pytest.mark.anyio

V7_COLUMNS = ("access_jti", "access_expires_at", "successor_jti")
BEFORE_V7 = max(version for version, _ in MIGRATIONS if version < 7)


def record(jti, user_id, *, family, issued_at):
    return RefreshRecord(jti=jti, family_id=family, user_id=user_id, issued_at=issued_at, expires_at=9e9,
                         access_expires_at=issued_at + 300, access_jti=f"a-{jti}")


async def test_a_database_from_before_version_7_is_upgraded_with_the_refresh_successor_columns(database):
    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    user = await stores.users.create_user("alice", "h", now=1.0)
    # make it what the version before 7 created, with a token spent then
    async with stores.tokens.engine.begin() as conn:
        for column in V7_COLUMNS:
            await conn.execute(sa.text(f"ALTER TABLE refresh_tokens DROP COLUMN {column}"))
        await conn.execute(sa.text("DELETE FROM schema_version"))
        await conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": BEFORE_V7})
        await conn.execute(sa.text(
            "INSERT INTO refresh_families (family_id, user_id, created_at, expires_at) VALUES ('fam', :u, 1, 9e9)"
        ), {"u": user.id})
        await conn.execute(sa.text(
            "INSERT INTO refresh_tokens (jti, family_id, user_id, issued_at, expires_at, spent_at) "
            "VALUES ('old', 'fam', :u, 1, 9e9, 2)"
        ), {"u": user.id})
    await stores.close()

    stores = await open_sql_stores(url, schema=schema)
    try:
        async with stores.tokens.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))).all()
            columns = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("refresh_tokens"))
        assert set(V7_COLUMNS) <= {column["name"] for column in columns}
        assert [row[0] for row in versions] == [BEFORE_V7, *(step for step, _ in MIGRATIONS if step >= 7)]
        # Spent before the upgrade: no successor on record, so a replay is reuse whatever the grace.
        assert await stores.tokens.spent_successor("old", spent_since=0.0) is None
        await stores.tokens.start_family(record("r1", user.id, family="new", issued_at=3.0))
        successor = record("r2", user.id, family="new", issued_at=4.0)
        assert await stores.tokens.spend_refresh("r1", now=4.0, successor=successor) is SpendResult.SPENT
        assert await stores.tokens.spent_successor("r1", spent_since=4.0) == successor
    finally:
        await stores.close()
