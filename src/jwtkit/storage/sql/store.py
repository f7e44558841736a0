"""``SqlStore``: the user, token, session and key ports over one SQLAlchemy async engine.

Every multi-row change runs in one transaction. ``spend_refresh`` decides by the row count of
one conditional ``UPDATE … WHERE spent_at IS NULL``: concurrent spends of one token serialize on
its row (PostgreSQL row lock, SQLite's single writer) and exactly one sees a count of 1.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.auth.models import (
    Denial,
    RefreshRecord,
    SessionRecord,
    SigningKeyRecord,
    UserRecord,
    username_key,
)
from jwtkit.auth.ports import SpendResult, UserSpend
from jwtkit.storage.denials import until_access_expiry

from .accounts import SqlAccounts
from .engine import rowcount, unavailable_on_failure
from .schema import denylist, refresh_families, refresh_tokens, server_secrets, sessions, signing_keys, users


class SqlStore(SqlAccounts):
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock  # stamps denylist writes (denylist.created_at) once the locks are held
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    # ---- UserStore
    async def create_user(self, username: str, password_hash: str, *, now: float) -> UserRecord:
        async with unavailable_on_failure("create_user"):
            try:
                async with self.engine.begin() as conn:
                    result = await conn.execute(
                        users.insert().values(username=username, username_key=username_key(username),
                                              password_hash=password_hash, created_at=now)
                    )
            except sa_exc.IntegrityError:
                raise UsernameTakenError() from None
        assert result.inserted_primary_key is not None
        return UserRecord(id=int(result.inserted_primary_key[0]), username=username, password_hash=password_hash)

    async def _one_user(self, where: sa.ColumnElement[bool]) -> UserRecord | None:
        async with unavailable_on_failure("get_user"), self.engine.connect() as conn:
            row = (await conn.execute(_user_query(where))).first()
        return None if row is None else user_record(row)

    async def get_user_by_name(self, username: str) -> UserRecord | None:
        return await self._one_user(users.c.username_key == username_key(username))

    async def get_user(self, user_id: int) -> UserRecord | None:
        return await self._one_user(users.c.id == user_id)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        async with unavailable_on_failure("set_password_hash"), self.engine.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))

    # ---- TokenStore
    async def start_family(self, first: RefreshRecord) -> None:
        async with unavailable_on_failure("start_family"), self.engine.begin() as conn:
            await conn.execute(
                refresh_families.insert().values(
                    family_id=first.family_id, user_id=first.user_id, created_at=first.issued_at,
                    expires_at=first.expires_at, revoked_at=None, access_expires_at=first.access_expires_at,
                    kid=first.kid,
                )
            )
            await conn.execute(refresh_tokens.insert().values(_token_row(first)))

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        query = (
            sa.select(refresh_tokens, refresh_families.c.revoked_at)
            .select_from(refresh_tokens.join(refresh_families))
            .where(refresh_tokens.c.jti == jti)
        )
        async with unavailable_on_failure("get_refresh"), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return _refresh_record(row, revoked_at=row.revoked_at)

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        async with unavailable_on_failure("spend_refresh"), self.engine.connect() as conn, conn.begin() as tx:
            return await self._spend(conn, tx, jti, now=now, successor=successor)

    async def spend_refresh_for_user(self, user_id: int, jti: str, *, now: float,
                                     successor: RefreshRecord) -> UserSpend:
        async with unavailable_on_failure("spend_refresh"), self.engine.connect() as conn, conn.begin() as tx:
            row = (await conn.execute(_user_query(users.c.id == user_id))).first()
            user = None if row is None else user_record(row)
            if user is None or user.disabled_at is not None:
                await tx.rollback()
                return UserSpend(user, None)
            return UserSpend(user, await self._spend(conn, tx, jti, now=now, successor=successor))

    @staticmethod
    async def _spend(conn: AsyncConnection, tx: AsyncTransaction, jti: str, *, now: float,
                     successor: RefreshRecord) -> SpendResult:
        """``spend_refresh`` inside the transaction ``tx`` of ``conn`` (rolled back unless ``SPENT``)."""
        token, family = refresh_tokens.c, refresh_families.c
        spent = await conn.execute(
            refresh_tokens.update()
            .where(token.jti == jti, token.spent_at.is_(None), token.expires_at > now)
            .values(spent_at=now, successor_jti=successor.jti)
        )
        if rowcount(spent) == 1:
            live = await conn.execute(
                refresh_families.update()
                .where(family.family_id == successor.family_id, family.revoked_at.is_(None))
                .values(**_extended(successor))
            )
            if rowcount(live) != 1:
                await tx.rollback()
                return SpendResult.REVOKED
            await conn.execute(refresh_tokens.insert().values(_token_row(successor)))
            return SpendResult.SPENT
        row = (
            await conn.execute(
                sa.select(token.spent_at, token.expires_at, family.revoked_at)
                .select_from(refresh_tokens.join(refresh_families))
                .where(token.jti == jti)
            )
        ).first()
        await tx.rollback()
        if row is None or row.expires_at <= now:
            return SpendResult.UNKNOWN
        if row.revoked_at is not None:
            return SpendResult.REVOKED
        return SpendResult.REUSED

    async def spent_successor(self, jti: str, *, spent_since: float) -> RefreshRecord | None:
        spent, successor, family = refresh_tokens.alias("spent"), refresh_tokens, refresh_families.c
        query = (
            sa.select(successor)
            .select_from(spent.join(successor, successor.c.jti == spent.c.successor_jti)
                         .join(refresh_families, family.family_id == spent.c.family_id))
            .where(spent.c.jti == jti, spent.c.spent_at >= spent_since, family.revoked_at.is_(None))
        )
        async with unavailable_on_failure("spent_successor"), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _refresh_record(row, revoked_at=None)

    async def revoke(self, *, family_ids: Sequence[str], denials: Sequence[Denial], now: float) -> list[Denial]:
        family = refresh_families.c
        async with unavailable_on_failure("revoke"), self.engine.begin() as conn:
            # One lock order (families, then denylist keys, each sorted) so concurrent revocations cannot deadlock.
            for family_id in sorted(set(family_ids)):
                await conn.execute(
                    refresh_families.update()
                    .where(family.family_id == family_id, family.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
            access_expiry: dict[str, float | None] = {}
            if family_ids:
                rows = await conn.execute(
                    sa.select(family.family_id, family.access_expires_at).where(family.family_id.in_(set(family_ids)))
                )
                access_expiry = {row.family_id: row.access_expires_at for row in rows}
            denials = [until_access_expiry(denial, access_expiry) for denial in denials]
            for denial in sorted(denials, key=lambda d: (d.kind, d.value)):
                insert = self._insert(denylist).values(
                    kind=denial.kind, jti=denial.value, exp=denial.expires_at, created_at=now
                )
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[denylist.c.kind, denylist.c.jti],
                        set_={"exp": sa.case((denylist.c.exp < insert.excluded.exp, insert.excluded.exp),
                                             else_=denylist.c.exp),
                              "created_at": insert.excluded.created_at},
                    )
                )
            # Stamp the write time now that this transaction holds every lock it needs (on SQLite
            # a writer may have waited up to busy_timeout for the database lock; on PostgreSQL for
            # the rows): the stamp is then at most one statement older than the commit, which a
            # polling feed's look-back covers. Stamped at the revoker's ``now`` if that is later.
            written_at = max(now, self._clock())
            for denial in denials:
                await conn.execute(
                    denylist.update()
                    .where(denylist.c.kind == denial.kind, denylist.c.jti == denial.value)
                    .values(created_at=written_at)
                )
        return list(denials)

    async def live_denials(self, *, now: float) -> list[Denial]:
        async with unavailable_on_failure("live_denials"), self.engine.connect() as conn:
            query = sa.select(denylist.c.kind, denylist.c.jti, denylist.c.exp).where(denylist.c.exp > now)
            rows = (await conn.execute(query)).all()
        return [Denial(kind=row.kind, value=row.jti, expires_at=row.exp) for row in rows]

    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        query = sa.select(denylist.c.kind, denylist.c.jti, denylist.c.exp).where(
            denylist.c.created_at >= since, denylist.c.exp > now
        )
        async with unavailable_on_failure("denials_since"), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Denial(kind=row.kind, value=row.jti, expires_at=row.exp) for row in rows]

    async def purge_tokens(self, *, now: float) -> int:
        async with unavailable_on_failure("purge_tokens"), self.engine.begin() as conn:
            deleted = rowcount(await conn.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at <= now)))
            deleted += rowcount(
                await conn.execute(refresh_families.delete().where(refresh_families.c.expires_at <= now))
            )
            deleted += rowcount(await conn.execute(denylist.delete().where(denylist.c.exp <= now)))
        return deleted

    # ---- SessionStore
    async def add_session(self, record: SessionRecord) -> None:
        async with unavailable_on_failure("add_session"), self.engine.begin() as conn:
            await conn.execute(
                sessions.insert().values(
                    session_key=record.key_hash, session_data=json.dumps(record.data), expire_date=record.expires_at
                )
            )

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        async with unavailable_on_failure("get_session"), self.engine.connect() as conn:
            row = (await conn.execute(sa.select(sessions).where(sessions.c.session_key == key_hash))).first()
        if row is None:
            return None
        return SessionRecord(key_hash=row.session_key, data=json.loads(row.session_data), expires_at=row.expire_date)

    async def delete_session(self, key_hash: str) -> None:
        async with unavailable_on_failure("delete_session"), self.engine.begin() as conn:
            await conn.execute(sessions.delete().where(sessions.c.session_key == key_hash))

    async def purge_sessions(self, *, now: float) -> int:
        async with unavailable_on_failure("purge_sessions"), self.engine.begin() as conn:
            return rowcount(await conn.execute(sessions.delete().where(sessions.c.expire_date <= now)))

    # ---- KeyStore
    async def signing_keys(self) -> list[SigningKeyRecord]:
        query = sa.select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid)
        async with unavailable_on_failure("signing_keys"), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [signing_key_record(row) for row in rows]

    async def add_signing_key(
        self, record: SigningKeyRecord, *, retire_others_at: float | None, not_after: float | None
    ) -> None:
        async with unavailable_on_failure("add_signing_key"), self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # Serialize key changes: under READ COMMITTED two concurrent rotations each retire
                # only the keys committed before they started, leaving both new keys active.
                # (SQLite has one writer at a time already.)
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7411046002)"))
            if retire_others_at is not None:
                await conn.execute(
                    signing_keys.update()
                    .where(signing_keys.c.retired_at.is_(None))
                    .values(retired_at=retire_others_at, not_after=not_after)
                )
            await conn.execute(
                signing_keys.insert().values(
                    kid=record.kid, alg=record.alg, private_jwk=record.private_jwk, encrypted=record.encrypted,
                    created_at=record.created_at, retired_at=record.retired_at, not_after=record.not_after,
                )
            )

    async def retire_signing_key(self, kid: str, *, now: float) -> int | None:
        key, family = signing_keys.c, refresh_families.c
        async with unavailable_on_failure("retire_signing_key"), self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7411046002)"))  # as add_signing_key
            retired = await conn.execute(
                signing_keys.update()
                .where(key.kid == kid, sa.or_(key.not_after.is_(None), key.not_after > now))
                .values(retired_at=sa.func.coalesce(key.retired_at, now), not_after=now)
            )
            if rowcount(retired) != 1:
                return None
            ended = await conn.execute(
                refresh_families.update()
                .where(family.kid == kid, family.revoked_at.is_(None), family.expires_at > now)
                .values(revoked_at=now)
            )
            return rowcount(ended)

    async def purge_signing_keys(self, *, now: float) -> int:
        async with unavailable_on_failure("purge_signing_keys"), self.engine.begin() as conn:
            return rowcount(
                await conn.execute(
                    signing_keys.delete().where(signing_keys.c.not_after.is_not(None), signing_keys.c.not_after <= now)
                )
            )

    async def server_secret(self, name: str, *, candidate: bytes, now: float) -> bytes:
        insert = self._insert(server_secrets).values(
            name=name, value=base64.b64encode(candidate).decode("ascii"), created_at=now
        )
        async with unavailable_on_failure("server_secret"), self.engine.begin() as conn:
            await conn.execute(insert.on_conflict_do_nothing(index_elements=[server_secrets.c.name]))
            stored = (await conn.execute(
                sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
            )).scalar_one()
        return base64.b64decode(stored)


#: ``signing_keys`` oldest first, the columns in the table's order: the text the direct stores (``sqlite3``,
#: asyncpg) send, and the row shape :func:`signing_key_record` reads (``sa.select(signing_keys)``'s too).
SIGNING_KEYS_SQL = ("SELECT kid, alg, private_jwk, encrypted, created_at, retired_at, not_after FROM signing_keys "
                    "ORDER BY created_at, kid")


USER_COLUMNS = ("id", "username", "password_hash", "disabled_at", "last_login_at")


def user_record(row: Sequence[Any]) -> UserRecord:
    """A row whose first columns are :data:`USER_COLUMNS`, in that order, as a record (an ``sqlite3`` tuple,
    an SQLAlchemy ``Row`` or an asyncpg ``Record`` alike; columns after them are the caller's)."""
    # (Spelt out rather than a mapping of USER_COLUMNS splatted into it: every refresh builds one.)
    return UserRecord(id=row[0], username=row[1], password_hash=row[2], disabled_at=row[3], last_login_at=row[4])


def signing_key_record(row: Sequence[Any]) -> SigningKeyRecord:
    """A ``signing_keys`` row (its columns in the table's order) as a record."""
    kid, alg, private_jwk, encrypted, created_at, retired_at, not_after = row
    return SigningKeyRecord(kid=kid, alg=alg, private_jwk=private_jwk, encrypted=bool(encrypted),
                            created_at=created_at, retired_at=retired_at, not_after=not_after)


def _extended(successor: RefreshRecord) -> dict[str, Any]:
    """The family's expiry and latest access-token expiry, raised to the successor's."""
    family = refresh_families.c
    values: dict[str, Any] = {
        "expires_at": sa.case((family.expires_at < successor.expires_at, successor.expires_at),
                              else_=family.expires_at)
    }
    if successor.kid is not None:
        values["kid"] = successor.kid
    if successor.access_expires_at is not None:
        values["access_expires_at"] = sa.case(
            (sa.or_(family.access_expires_at.is_(None), family.access_expires_at < successor.access_expires_at),
             successor.access_expires_at),
            else_=family.access_expires_at,
        )
    return values


def _token_row(record: RefreshRecord) -> dict[str, Any]:
    return {
        "jti": record.jti, "family_id": record.family_id, "user_id": record.user_id,
        "issued_at": record.issued_at, "expires_at": record.expires_at, "spent_at": None,
        "access_jti": record.access_jti, "access_expires_at": record.access_expires_at,
    }


def _refresh_record(row: Any, *, revoked_at: float | None) -> RefreshRecord:
    return RefreshRecord(
        jti=row.jti, family_id=row.family_id, user_id=row.user_id, issued_at=row.issued_at,
        expires_at=row.expires_at, access_expires_at=row.access_expires_at, access_jti=row.access_jti,
        spent_at=row.spent_at, revoked_at=revoked_at,
    )


def _user_query(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(*(users.c[name] for name in USER_COLUMNS)).where(where)
