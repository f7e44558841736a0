"""``RedisSessionStore``: the :class:`~jwtkit.auth.ports.SessionStore` port in Redis, one key per
session that Redis itself deletes when the session expires.

What ``jwtkit serve --redis`` keeps its cookie sessions in (:func:`jwtkit.wiring.open_stores`): a
session lookup is one ``GET`` instead of a database read. The database stays the source of truth
for users, refresh tokens and revocations; sessions live in Redis only, so losing Redis's data
(a restart without persistence, a flush, eviction under ``maxmemory`` with an evicting policy)
logs every session user out (they log in again: nothing else is lost), and while Redis is down
the session endpoints answer 503. Give Redis persistence and ``maxmemory-policy noeviction``
(or ``volatile-*``: every session key has a TTL) if that matters.

Reading a session is the hot path (every ``/session/me``): with a ``reader``
(:class:`~.resp.RespGet`, what :func:`~jwtkit.storage.redis.open_redis` passes for a ``redis://`` URL)
its one ``GET`` goes over a lean pipelined connection instead of redis-py's pool, and with the
reader's tracked cache (:mod:`.tracking`, on by default in ``open_redis``) a session read again is
served from this process's memory, Redis invalidating it when any client changes or deletes the
key (or it expires). The store's own writes drop their keys from the cache at once (a logout here
is effective here immediately; other servers learn of it by Redis's invalidation, normally within
a round trip, at worst ``max_lag``), and a cached session past its ``expires_at`` (by this
process's clock) is read from Redis again rather than served.

A session is ``{prefix}session:{key_hash}`` → JSON ``{"data": …, "expires_at": …}``, written with
``PXAT`` = ``expires_at`` (Redis's clock; the service still checks ``expires_at`` with its own).
A sorted set ``{prefix}sessions:expiry`` (member the key hash, score ``expires_at``) lets
``purge_sessions`` delete by the service's ``now`` as the port says (and forget the entries of
sessions Redis expired itself); reading a session never touches it. A set per user,
``{prefix}sessions:user:{user_id}`` (the user's key hashes, kept until their last session expires),
lets ``delete_user_sessions`` end them all (password change, ``jwtkit users revoke``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from redis.asyncio import Redis

from jwtkit.auth.models import SessionRecord

from .errors import unavailable_on_redis_error
from .resp import RespGet

__all__ = ["RedisSessionStore"]


class RedisSessionStore:
    """Cookie sessions in Redis, keyed by the SHA-256 of the session id (never the id itself).

    Example::

        sessions = RedisSessionStore(Redis.from_url("redis://127.0.0.1:6379/0"), prefix="jwtkit:")
        await sessions.add_session(SessionRecord(key_hash=h, data={"user_id": 1}, expires_at=time.time() + 3600))

    Raises (every method):
        ServiceUnavailableError: Redis is unreachable or failing.
    """

    PURGE_BATCH = 1000

    def __init__(self, client: Redis, *, prefix: str = "jwtkit:", reader: RespGet | None = None) -> None:
        # ``reader``: the lean client the hot read (``get_session``, one GET) goes through
        # (:mod:`.resp`: ~100 µs of CPU less per lookup than redis-py's); writes use ``client``.
        self._client = client
        self._reader = reader
        self._prefix = f"{prefix}session:"
        self._expiry = f"{prefix}sessions:expiry"
        self._by_user = f"{prefix}sessions:user:"
        # The parse of each value read from the reader's cache (which hands out the same bytes again):
        # value -> (data, expires_at), for data without lists or objects; the oldest (first in the
        # dict's insertion order) leave first.
        self._parsed: dict[bytes, tuple[dict[str, Any], float]] = {}
        self._parsed_max = reader.cache.max_entries if reader is not None and reader.cache is not None else 0

    def redis_key(self, key_hash: str) -> str:
        """The Redis key holding the session ``key_hash``."""
        return self._prefix + key_hash

    async def add_session(self, record: SessionRecord) -> None:
        value = json.dumps({"data": record.data, "expires_at": record.expires_at})
        # At least 1 ms: a time already past makes Redis delete the key at once, which is right.
        expires_ms = max(1, math.floor(record.expires_at * 1000))  # never past the session's own expiry
        user_id = record.data.get("user_id")
        with unavailable_on_redis_error(), self._forgetting([self.redis_key(record.key_hash).encode()]):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(self.redis_key(record.key_hash), value, pxat=expires_ms)
                pipe.zadd(self._expiry, {record.key_hash: record.expires_at})
                if isinstance(user_id, int) and not isinstance(user_id, bool):
                    users_set = f"{self._by_user}{user_id}"
                    pipe.sadd(users_set, record.key_hash)
                    pipe.pexpireat(users_set, expires_ms, gt=True)  # the set lives as long as its last session
                    pipe.pexpireat(users_set, expires_ms, nx=True)  # (GT alone never sets a first expiry)
                await pipe.execute()

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        key = self.redis_key(key_hash)
        reader = self._reader
        with unavailable_on_redis_error():
            value = await (self._client.get(key) if reader is None else reader.get_cached(key.encode()))
            if value is None:
                return None
            record = self._parse(key_hash, value) if self._parsed_max else _record(key_hash, value)
            if reader is not None and reader.cache is not None and record.expires_at <= time.time():
                # Perhaps a cached copy Redis has not expired yet (by its clock): what Redis says now.
                reader.forget([key.encode()])
                value = await reader.get(key.encode())
                return None if value is None else _record(key_hash, value)
        return record

    async def delete_session(self, key_hash: str) -> None:
        with unavailable_on_redis_error(), self._forgetting([self.redis_key(key_hash).encode()]):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(self.redis_key(key_hash))
                pipe.zrem(self._expiry, key_hash)
                await pipe.execute()

    async def purge_sessions(self, *, now: float) -> int:
        """Delete the sessions whose ``expires_at`` is ``now`` or earlier (Redis deletes each at its
        expiry by its own clock too); return how many were still there."""
        deleted = 0
        with unavailable_on_redis_error():
            while True:
                members = cast("list[bytes]", await self._client.zrangebyscore(
                    self._expiry, "-inf", now, start=0, num=self.PURGE_BATCH))
                if not members:
                    return deleted
                keys = [self._prefix.encode() + member for member in members]
                with self._forgetting(keys):
                    async with self._client.pipeline(transaction=True) as pipe:
                        pipe.delete(*keys)
                        pipe.zrem(self._expiry, *members)
                        gone, _ = await pipe.execute()
                deleted += int(gone)

    async def delete_user_sessions(self, user_id: int) -> int:
        """Delete every session of the user (those added with ``data["user_id"]``); return how
        many were still there."""
        users_set = f"{self._by_user}{int(user_id)}"
        with unavailable_on_redis_error():
            members = cast("list[bytes]", await self._client.smembers(users_set))
            if not members:
                return 0
            keys = [self._prefix.encode() + member for member in members]
            with self._forgetting(keys):
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.delete(*keys)
                    pipe.zrem(self._expiry, *members)
                    pipe.srem(users_set, *members)
                    gone, _, _ = await pipe.execute()
        return int(gone)

    def _parse(self, key_hash: str, value: bytes | str) -> SessionRecord:
        """``_record(key_hash, value)``, the JSON decoded once per distinct value: ~15k instructions
        less on a session read from the cache. Every call gets its own record and ``data`` dict."""
        parsed = self._parsed.get(value) if type(value) is bytes else None
        if parsed is not None:
            return SessionRecord(key_hash=key_hash, data=dict(parsed[0]), expires_at=parsed[1])
        record = _record(key_hash, value)
        if type(value) is bytes and not any(type(item) in (dict, list) for item in record.data.values()):
            remembered = self._parsed
            while len(remembered) >= self._parsed_max:
                del remembered[next(iter(remembered))]
            remembered[value] = (dict(record.data), record.expires_at)
        return record

    @contextmanager
    def _forgetting(self, keys: list[bytes]) -> Iterator[None]:
        """Around a write of ``keys``: the reader's cache drops them once it is done (or failed: its
        outcome is unknown), so no copy read before it is served after it."""
        try:
            yield
        finally:
            if self._reader is not None:
                self._reader.forget(keys)


_DECODER = json.JSONDecoder()  # (json.loads on bytes first sniffs the encoding: ~half its cost on a session)


def _record(key_hash: str, value: bytes | str) -> SessionRecord:
    stored = _DECODER.decode(value.decode() if isinstance(value, bytes) else value)
    return SessionRecord(key_hash=key_hash, data=stored["data"], expires_at=float(stored["expires_at"]))
