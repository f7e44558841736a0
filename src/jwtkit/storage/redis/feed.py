"""``RedisRevocationFeed``: the :class:`~jwtkit.auth.ports.RevocationFeed` port across
processes, over Redis pub/sub.

The database stays the source of truth. Redis pub/sub is at-most-once: a message published
while a subscriber is disconnected is lost to it. So after every reconnection the feed asks
its listeners to resynchronise from the database (``on_resync``), and it reports its health
(``last_healthy_at``, ``is_fresh``) so the service can fail closed when it may be missing
revocations.

Wire format (one compact JSON object per message on channel ``{prefix}feed``)::

    {"v":1,"o":"<origin>","t":"deny","d":[["jti","<jti>",1700000300.0],["family","<fid>",...]]}
    {"v":1,"o":"<origin>","t":"keys"}

``o`` identifies the publishing feed instance, which has already told its own listeners.
No denial is stored in Redis: a starting or resynchronising worker reads the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from jwtkit.auth.background import cancel_until_done
from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import Denial, DenialKind
from jwtkit.auth.ports import FeedListener
from jwtkit.storage.listeners import ListenerSet

from .errors import REDIS_ERRORS, unavailable_on_redis_error

__all__ = ["RedisRevocationFeed"]

log = logging.getLogger(__name__)

_VERSION = 1
_KINDS: dict[str, DenialKind] = {"jti": "jti", "family": "family"}


class RedisRevocationFeed:
    """Revocations and key rotations, told to every worker through Redis pub/sub.

    ``start()`` runs a background task that subscribes to the channel, PINGs every
    ``ping_interval`` seconds (each reply refreshes ``last_healthy_at``), treats
    ``dead_after`` seconds without any reply as a lost connection, and reconnects with
    exponential backoff (``backoff_initial`` doubling up to ``backoff_max``). After each
    reconnection it calls the listeners' optional ``on_resync()`` (awaited if it returns an
    awaitable) before it reports itself healthy again; if a resync raises, the feed stays
    stale and reconnects and retries.

    Call ``start()`` before the service loads its state from the database, so that every
    revocation is either in what it loads or in a message it receives.

    Example::

        feed = RedisRevocationFeed(Redis.from_url("redis://127.0.0.1:6379/0"))
        await feed.start()
        unsubscribe = feed.subscribe(listener)
        await feed.publish_denials([Denial(kind="jti", value=jti, expires_at=exp)])
        feed.is_fresh(1.0)   # False once no reply has come from Redis for a second
        await feed.close()
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "jwtkit:",
        ping_interval: float = 0.25,
        dead_after: float | None = None,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ping_interval <= 0 or backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ValueError("ping_interval and backoff_initial must be > 0, backoff_max >= backoff_initial")
        self._client = client
        self._prefix = prefix
        self.channel = f"{prefix}feed"
        self._origin = secrets.token_hex(8)
        self._listeners = ListenerSet()
        self._ping_interval = ping_interval
        self._dead_after = max(4 * ping_interval, 1.0) if dead_after is None else dead_after
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._first_subscription = asyncio.Event()
        self._connected = False
        self._closed = False
        self._last_healthy_at: float | None = None
        self._last_error: BaseException | None = None
        self._reconnects = 0

    # ---- health -----------------------------------------------------------------------------

    @property
    def last_healthy_at(self) -> float | None:
        """``clock()`` time of the last reply from Redis while subscribed and in sync; ``None``
        before the first subscription."""
        return self._last_healthy_at

    @property
    def reconnects(self) -> int:
        """How many times the feed subscribed again after having been subscribed."""
        return self._reconnects

    def is_fresh(self, max_staleness: float) -> bool:
        """True when the feed heard from Redis, subscribed and in sync, within ``max_staleness``
        seconds: only then may the service trust that its in-memory denylist is current."""
        if self._closed or self._last_healthy_at is None:
            return False
        return self._clock() - self._last_healthy_at <= max_staleness

    # ---- the port ---------------------------------------------------------------------------

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    async def publish_denials(self, denials: Sequence[Denial]) -> None:
        """Tell this process's listeners at once, and the other processes through Redis.

        Raises:
            ServiceUnavailableError: Redis failed (this process's listeners were told anyway).
        """
        if not denials:
            return
        self._listeners.deliver_denials(denials)
        message = {
            "v": _VERSION,
            "o": self._origin,
            "t": "deny",
            "d": [[denial.kind, denial.value, denial.expires_at] for denial in denials],
        }
        with unavailable_on_redis_error():
            await self._client.publish(self.channel, _dumps(message))

    async def publish_keys_changed(self) -> None:
        """Tell this process's listeners at once, and the other processes through Redis.

        Raises:
            ServiceUnavailableError: Redis failed (this process's listeners were told anyway).
        """
        self._listeners.deliver_keys_changed()
        with unavailable_on_redis_error():
            await self._client.publish(self.channel, _dumps({"v": _VERSION, "o": self._origin, "t": "keys"}))

    # ---- the subscriber task ----------------------------------------------------------------

    async def start(self, *, timeout: float | None = 5.0) -> None:
        """Start the subscriber task; wait up to ``timeout`` seconds for the first subscription
        (``None``: don't wait; the feed then reports stale until it connects).

        Raises:
            ServiceUnavailableError: not subscribed within ``timeout`` (the task is stopped).
            RuntimeError: started twice, or after ``close()``.
        """
        if self._task is not None or self._closed:
            raise RuntimeError("RedisRevocationFeed.start() called twice or after close()")
        self._task = asyncio.create_task(self._run(), name=f"jwtkit-redis-feed-{self._origin}")
        if timeout is None:
            return
        try:
            await asyncio.wait_for(self._first_subscription.wait(), timeout)
        except TimeoutError:
            error = self._last_error
            await self.close()
            raise ServiceUnavailableError() from error

    async def close(self) -> None:
        """Stop the subscriber task and forget the listeners. Idempotent."""
        self._closed = True
        self._listeners.clear()
        task, self._task = self._task, None
        if task is not None:
            # redis-py may swallow a cancellation; the task also checks ``_closed`` at least
            # every ``ping_interval``.
            await cancel_until_done(task)

    async def _run(self) -> None:
        delay = self._backoff_initial
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._pump(pubsub)
            except Exception as exc:  # any failure: reconnect (the task must never die)
                self._last_error = exc
                if self._connected:
                    log.warning("revocation feed: lost Redis (%r); reconnecting", exc)
                    delay = self._backoff_initial
                elif isinstance(exc, _ResyncFailedError):
                    log.warning("revocation feed: a listener failed to resynchronise (%r); stale until it does",
                                exc.__cause__)
                elif isinstance(exc, REDIS_ERRORS):
                    log.debug("revocation feed: Redis still unreachable (%r)", exc)
                else:
                    log.error("revocation feed: %r; reconnecting", exc, exc_info=exc)
            finally:
                self._connected = False
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
            await asyncio.sleep(delay * (0.5 + secrets.randbelow(1000) / 1000))  # jitter: 0.5x..1.5x
            delay = min(delay * 2, self._backoff_max)

    async def _pump(self, pubsub: PubSub) -> None:
        """Read messages and PING until the connection fails (raises) or the feed is closed."""
        last_heard = self._clock()
        next_ping = last_heard + self._ping_interval
        while not self._closed:
            message = await pubsub.get_message(timeout=max(0.0, next_ping - self._clock()))
            now = self._clock()
            if message is not None:
                last_heard = now
                kind = message.get("type")
                if kind == "subscribe":
                    await self._on_subscribed()
                elif kind == "message":
                    self._dispatch(message.get("data"))
                if self._connected:
                    self._last_healthy_at = now
            if now >= next_ping:
                if now - last_heard > self._dead_after:
                    raise RedisConnectionError(f"no reply from Redis for {now - last_heard:.2f} s")
                await pubsub.ping()
                next_ping = now + self._ping_interval

    async def _on_subscribed(self) -> None:
        # A subscription confirmation after the first one means the connection was re-made
        # (by this loop or by redis-py's own retry): messages may have been lost meanwhile.
        self._connected = False
        if self._first_subscription.is_set():
            self._reconnects += 1
            log.info("revocation feed: resubscribed to Redis; resynchronising listeners")
            try:
                await self._listeners.resync()
            except Exception as exc:
                raise _ResyncFailedError() from exc
        self._connected = True
        self._first_subscription.set()

    # ---- delivery ---------------------------------------------------------------------------

    def _dispatch(self, data: object) -> None:
        try:
            message = json.loads(data)  # type: ignore[arg-type]  # bytes or str; junk is caught
            if not isinstance(message, dict) or message.get("v") != _VERSION:
                raise ValueError("not a version-1 object")
            if message.get("o") == self._origin:
                return  # ours: this process's listeners were told when it was published
            if message.get("t") == "keys":
                self._listeners.deliver_keys_changed()
            elif message.get("t") == "deny":
                self._listeners.deliver_denials([_denial(entry) for entry in message["d"]])
            else:
                raise ValueError(f"unknown type {message.get('t')!r}")
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("revocation feed: ignored a malformed message on %s (%s)", self.channel, exc)


class _ResyncFailedError(Exception):
    """A listener's ``on_resync`` raised (its ``__cause__``): reconnect, then try again."""


def _denial(entry: object) -> Denial:
    if not isinstance(entry, list) or len(entry) != 3:
        raise ValueError("a denial is [kind, value, expires_at]")
    kind, value, expires_at = entry
    if kind not in _KINDS or not isinstance(value, str):
        raise ValueError("bad denial kind or value")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float) or not math.isfinite(expires_at):
        raise ValueError("bad denial expires_at")
    return Denial(kind=_KINDS[kind], value=value, expires_at=float(expires_at))


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)

