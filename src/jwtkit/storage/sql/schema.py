"""The SQL schema, versioned: a fresh database gets ``create_all`` and the current version in
``schema_version``; an older one runs the migration steps after its version, in order.

Identical on SQLite and PostgreSQL (portable types only; times are Unix seconds as doubles).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jwtkit.auth.models import username_key

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp()),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(150), nullable=False, unique=True),  # as registered (shown)
    sa.Column("password_hash", sa.String(512), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    # Version 5: the name a user is unique by and found by (NFKC + casefold, ``username_key``);
    # NULL only on an SQLite database upgraded from version 4 (the store always writes it).
    sa.Column("username_key", sa.String(600), nullable=False),
    sa.Index("ux_users_username_key", "username_key", unique=True),
    # Version 8 (NULL before): when an operator disabled the account (`jwtkit users disable`), and
    # when the user last logged in with the password.
    sa.Column("disabled_at", sa.Double, nullable=True),
    sa.Column("last_login_at", sa.Double, nullable=True),
)

# One family per login; every refresh token of it shares the fate of the family (RFC 9700 §4.14).
refresh_families = sa.Table(
    "refresh_families",
    metadata,
    sa.Column("family_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False, index=True),  # exp of its newest refresh token
    sa.Column("revoked_at", sa.Double, nullable=True),
    # exp of its latest access token (version 3; NULL before): how long a revocation must deny it.
    sa.Column("access_expires_at", sa.Double, nullable=True),
    # kid of the key that signed its latest tokens (version 6; NULL before): the sessions that
    # `jwtkit keys retire KID` ends.
    sa.Column("kid", sa.String(64), nullable=True, index=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column(
        "family_id",
        sa.String(64),
        sa.ForeignKey("refresh_families.family_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("issued_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False, index=True),
    sa.Column("spent_at", sa.Double, nullable=True),
    # Version 7 (NULL before): the access token issued with this one (its jti and exp), and the token
    # that spending this one stored. Enough to re-sign the pair a replay within the reuse grace is
    # answered with; never a token itself.
    sa.Column("access_jti", sa.String(64), nullable=True),
    sa.Column("access_expires_at", sa.Double, nullable=True),
    sa.Column("successor_jti", sa.String(64), nullable=True),
)

# Denied access tokens, by jti (kind "jti") or by refresh family (kind "family"); never token text.
denylist = sa.Table(
    "denylist",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("exp", sa.Double, nullable=False, index=True),
    # When the entry was last written (the revoker's clock), for polling feeds; NULL before version 2.
    sa.Column("created_at", sa.Double, nullable=True, index=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_key", sa.String(64), primary_key=True),  # SHA-256 hex of the cookie value
    sa.Column("session_data", sa.Text, nullable=False),  # JSON
    sa.Column("expire_date", sa.Double, nullable=False, index=True),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("private_jwk", sa.Text, nullable=False),  # AES-GCM sealed, or plaintext JSON
    sa.Column("encrypted", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("retired_at", sa.Double, nullable=True),
    sa.Column("not_after", sa.Double, nullable=True),
)

# The shared login rate limiter (version 4, :class:`~jwtkit.storage.sql.SqlRateLimiter`): one row
# per attempt. ``key`` is the limiter key as given (``user:…``, ``client:…``) or, for one that is
# long or not storable as text, its digest; ``expires_at`` (= at + window) is what purging goes by.
# A 64-bit id: a sustained spray of attempts must not run a 32-bit sequence out.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False, index=True),
    sa.Index("ix_login_attempts_key_at", "key", "at"),  # one key's events, in time order
)

# Secrets shared by every process on the database (version 5), by name: the device-cookie key's
# seed (``KeyStore.server_secret``), base64. Insert-if-absent, so concurrent starts agree.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

Migration = Callable[[AsyncConnection], Awaitable[None]]


async def _denylist_write_time(conn: AsyncConnection) -> None:
    """Version 2: ``denylist.created_at`` (indexed), so other processes can poll for new entries."""
    await conn.execute(sa.text("ALTER TABLE denylist ADD COLUMN created_at DOUBLE PRECISION"))
    await conn.execute(sa.text("CREATE INDEX ix_denylist_created_at ON denylist (created_at)"))


async def _family_access_expiry(conn: AsyncConnection) -> None:
    """Version 3: ``refresh_families.access_expires_at``, so a revoked family is denied until its
    latest access token expires even when that token was issued under a longer access TTL."""
    await conn.execute(sa.text("ALTER TABLE refresh_families ADD COLUMN access_expires_at DOUBLE PRECISION"))


async def _login_attempts(conn: AsyncConnection) -> None:
    """Version 4: the ``login_attempts`` table, so processes sharing the database without Redis
    share the login rate limiter too. Created from its definition above (the same DDL as a fresh
    database gets): a later change to that table must come with its own step, and freeze this one."""
    await conn.run_sync(lambda sync: login_attempts.create(sync, checkfirst=True))


async def _refresh_successors(conn: AsyncConnection) -> None:
    """Version 7: ``refresh_tokens.access_jti``, ``.access_expires_at`` and ``.successor_jti``, so a
    second spend of a refresh token within ``--refresh-reuse-grace`` can be answered with the pair the
    first spend issued (re-signed from these, in any worker). One self-contained step: it depends on
    no other step, and adds only the columns it finds missing."""
    existing = await conn.run_sync(lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("refresh_tokens")})
    for name, sql_type in (("access_jti", "VARCHAR(64)"), ("access_expires_at", "DOUBLE PRECISION"),
                           ("successor_jti", "VARCHAR(64)")):
        if name not in existing:
            await conn.execute(sa.text(f"ALTER TABLE refresh_tokens ADD COLUMN {name} {sql_type}"))


class UsernameCollisionError(RuntimeError):
    """Existing usernames that would become one account under case-insensitive uniqueness: the
    upgrade to version 5 stops (nothing changes) rather than merge accounts. ``groups`` holds the
    colliding usernames, one sorted tuple per account-to-be."""

    def __init__(self, groups: list[tuple[str, ...]]) -> None:
        self.groups = groups
        listed = "; ".join(", ".join(repr(name) for name in group) for group in groups)
        super().__init__(
            f"cannot upgrade the database to schema version 5: usernames are now unique regardless of "
            f"case and Unicode form, and these existing users would collide: {listed}. Rename or remove "
            f"all but one user of each group, then start again (no account was changed)."
        )


async def _username_keys(conn: AsyncConnection) -> None:
    """Version 5: ``users.username_key`` with a unique index (usernames unique case-insensitively,
    NFKC + casefold), filled for every existing user, and the ``server_secrets`` table. Stops with
    :class:`UsernameCollisionError` naming them when existing usernames collide."""
    rows = (await conn.execute(sa.text("SELECT id, username FROM users ORDER BY id"))).all()
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(username_key(row.username), []).append(row.username)
    collisions = sorted(tuple(sorted(names)) for names in groups.values() if len(names) > 1)
    if collisions:
        raise UsernameCollisionError(collisions)
    await conn.execute(sa.text("ALTER TABLE users ADD COLUMN username_key VARCHAR(600)"))
    if rows:
        await conn.execute(sa.text("UPDATE users SET username_key = :key WHERE id = :id"),
                           [{"key": username_key(row.username), "id": row.id} for row in rows])
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("ALTER TABLE users ALTER COLUMN username_key SET NOT NULL"))
    await conn.execute(sa.text("CREATE UNIQUE INDEX ux_users_username_key ON users (username_key)"))
    await conn.run_sync(lambda sync: server_secrets.create(sync, checkfirst=True))


async def _family_signing_kid(conn: AsyncConnection) -> None:
    """Version 6: ``refresh_families.kid`` (indexed), the key that signed a family's latest tokens,
    so retiring a leaked key can end (and count) the sessions it signed. Families from before
    have NULL. Skips what exists: it must apply whether or not version 5 ran before it."""
    columns = await conn.run_sync(lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("refresh_families")})
    if "kid" not in columns:
        await conn.execute(sa.text("ALTER TABLE refresh_families ADD COLUMN kid VARCHAR(64)"))
        await conn.execute(sa.text("CREATE INDEX ix_refresh_families_kid ON refresh_families (kid)"))


async def _account_state(conn: AsyncConnection) -> None:
    """Version 8: ``users.disabled_at`` and ``users.last_login_at`` (nullable), for the admin CLI
    (`jwtkit users`). Self-contained: adds only the columns it finds missing."""
    existing = await conn.run_sync(lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("users")})
    for name in ("disabled_at", "last_login_at"):
        if name not in existing:
            await conn.execute(sa.text(f"ALTER TABLE users ADD COLUMN {name} DOUBLE PRECISION"))


# (version, step) in ascending order: step upgrades a database at version-1 to version (the
# runner applies each step above the database's version, in order, so a gap is harmless).
# Version 1 is the create_all of the first release; add later steps here, and bump SCHEMA_VERSION.
MIGRATIONS: list[tuple[int, Migration]] = [
    (2, _denylist_write_time), (3, _family_access_expiry), (4, _login_attempts), (5, _username_keys),
    (6, _family_signing_kid), (7, _refresh_successors), (8, _account_state),
]
SCHEMA_VERSION = 8


class SchemaTooNewError(RuntimeError):
    """The database was created by a newer jwtkit."""


async def ensure_schema(conn: AsyncConnection, *, pg_schema: str | None = None) -> int:
    """Create or upgrade the schema inside the caller's transaction; return the version.

    On PostgreSQL an advisory lock serializes concurrent starts of several processes.
    """
    if conn.dialect.name == "postgresql":
        if pg_schema is not None:
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{pg_schema}"'))
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7411046001)"))
    elif conn.dialect.name == "sqlite":
        # The driver runs DDL outside any transaction, so servers starting together on one file
        # would race to create or upgrade it. BEGIN IMMEDIATE takes the write lock first (waiting
        # up to busy_timeout): the DDL then runs in this transaction, one server at a time.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    await conn.run_sync(lambda sync: schema_version.create(sync, checkfirst=True))
    version = (await conn.execute(sa.select(sa.func.max(schema_version.c.version)))).scalar()
    if version is None:
        await conn.run_sync(lambda sync: metadata.create_all(sync, checkfirst=True))
        await conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(f"database schema version {version} is newer than this jwtkit's ({SCHEMA_VERSION})")
    for step_version, step in MIGRATIONS:
        if step_version > version:
            await step(conn)
            await conn.execute(schema_version.insert().values(version=step_version))
            version = step_version
    return int(version)
