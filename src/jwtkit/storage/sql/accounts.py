"""``SqlAccounts``: the account-lifecycle queries of :class:`~jwtkit.storage.sql.store.SqlStore`
(schema version 8): login times, disabling, deleting, listing users with their live families, and
ending a user's cookie sessions. What ``jwtkit users`` and ``POST /auth/password`` need; none of it is
on a per-request path, so it stays on SQLAlchemy for every database.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from jwtkit.auth.models import UserAccount

from .engine import rowcount, unavailable_on_failure
from .schema import refresh_families, refresh_tokens, sessions, users

__all__ = ["SqlAccounts"]


class SqlAccounts:
    """Mixed into ``SqlStore``, which provides ``engine``."""

    engine: AsyncEngine

    async def record_login(self, user_id: int, *, now: float) -> None:
        async with unavailable_on_failure("record_login"), self.engine.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(last_login_at=now))

    async def set_disabled(self, user_id: int, *, disabled_at: float | None) -> bool:
        async with unavailable_on_failure("set_disabled"), self.engine.begin() as conn:
            changed = await conn.execute(users.update().where(users.c.id == user_id).values(disabled_at=disabled_at))
        return rowcount(changed) == 1

    async def delete_user(self, user_id: int) -> bool:
        async with unavailable_on_failure("delete_user"), self.engine.begin() as conn:
            await conn.execute(refresh_tokens.delete().where(refresh_tokens.c.user_id == user_id))
            await conn.execute(refresh_families.delete().where(refresh_families.c.user_id == user_id))
            deleted = await conn.execute(users.delete().where(users.c.id == user_id))
        return rowcount(deleted) == 1

    async def list_users(self, *, now: float) -> list[UserAccount]:
        family = refresh_families.c
        live = (
            sa.select(family.user_id, sa.func.count().label("live"))
            .where(family.revoked_at.is_(None), family.expires_at > now)
            .group_by(family.user_id)
            .subquery()
        )
        query = (
            sa.select(users.c.id, users.c.username, users.c.created_at, users.c.last_login_at, users.c.disabled_at,
                      sa.func.coalesce(live.c.live, 0).label("live"))
            .select_from(users.outerjoin(live, live.c.user_id == users.c.id))
            .order_by(users.c.id)
        )
        async with unavailable_on_failure("list_users"), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [UserAccount(id=row.id, username=row.username, created_at=row.created_at,
                            last_login_at=row.last_login_at, disabled_at=row.disabled_at, live_families=int(row.live))
                for row in rows]

    async def live_families(self, user_id: int, *, now: float) -> list[str]:
        family = refresh_families.c
        query = (
            sa.select(family.family_id)
            .where(family.user_id == user_id, family.revoked_at.is_(None), family.expires_at > now)
            .order_by(family.family_id)
        )
        async with unavailable_on_failure("live_families"), self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def delete_user_sessions(self, user_id: int) -> int:
        # session_data is JSON text: narrow with LIKE, then decide on the parsed value
        pattern = f'%"user_id": {int(user_id)}%'
        async with unavailable_on_failure("delete_user_sessions"), self.engine.begin() as conn:
            rows = (await conn.execute(
                sa.select(sessions.c.session_key, sessions.c.session_data).where(sessions.c.session_data.like(pattern))
            )).all()
            keys = [row.session_key for row in rows if _session_user(row.session_data) == user_id]
            if keys:
                await conn.execute(sessions.delete().where(sessions.c.session_key.in_(keys)))
        return len(keys)


def _session_user(data: str) -> object:
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed.get("user_id") if isinstance(parsed, dict) else None
