"""The in-process denylist: revoked access ``jti``\\ s and revoked families, with no query per request.

The table :class:`~.models.RevokedAccess` is the truth. Each process keeps a copy in memory,
kept current by a daemon thread that reads the rows created since its last read (minus a
``_LOOKBACK`` overlap, so a row whose transaction committed late is still seen) every
``DENYLIST_POLL_INTERVAL`` seconds (the overlap assumes the processes' clocks agree within a minute).
A revocation made by this process is in its copy at once.

Staleness bound: another process's revocation takes effect here within ``DENYLIST_POLL_INTERVAL``
(+ the time of one read). If reads fail (database down), the copy ages; once it is older than
``DENYLIST_MAX_STALENESS`` each request reads the table itself before it is let through, and a
failing read fails the request (503), never lets a revoked token pass.

With ``DENYLIST_POLL_INTERVAL = 0`` no thread is started: the copy is re-read on a request once it
is older than ``DENYLIST_MAX_STALENESS`` (for tests and one-off scripts).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from .conf import JWTSettings

logger = logging.getLogger("jwtkit.integrations.django")
_LOOKBACK = timedelta(seconds=60)


class Denylist:
    """A process-wide set of denied access jtis and families, each with the time it may be forgotten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jtis: dict[str, float] = {}
        self._families: dict[str, float] = {}
        self._since: datetime | None = None
        self._fresh_at = float("-inf")
        self._thread_pid: int | None = None
        self._stop = threading.Event()

    # -------------------------------------------------------------- the hot path
    def is_denied(self, jti: object, family: object, settings: JWTSettings) -> bool:
        """Is this access token revoked? No database query unless the copy is too old."""
        if settings.denylist_poll_interval > 0 and self._thread_pid != os.getpid():
            self._start(settings)
        if time.monotonic() - self._fresh_at > settings.denylist_max_staleness:
            self.refresh(older_than=settings.denylist_max_staleness)
        now = time.time()
        if type(jti) is str:
            until = self._jtis.get(jti)
            if until is not None and until > now:
                return True
        if type(family) is str:
            until = self._families.get(family)
            if until is not None and until > now:
                return True
        return False

    # -------------------------------------------------------------- writes
    def deny(self, kind: str, value: str, expires_at: datetime) -> None:
        """Record a revocation in the table and in this process's copy."""
        from .models import RevokedAccess

        RevokedAccess.objects.create(kind=kind, value=value, expires_at=expires_at, created_at=timezone.now())
        self._remember(kind, value, expires_at.timestamp())

    def _remember(self, kind: str, value: str, until: float) -> None:
        target = self._families if kind == "family" else self._jtis
        if target.get(value, 0.0) < until:
            target[value] = until

    # -------------------------------------------------------------- reads
    def refresh(self, older_than: float = 0.0) -> None:
        """Read the revocations created since the last read (all live ones the first time); with
        ``older_than``, only if no other thread has read within that many seconds meanwhile."""
        from .models import RevokedAccess

        with self._lock:
            started = time.monotonic()
            if older_than and started - self._fresh_at <= older_than:
                return
            now = timezone.now()
            rows = RevokedAccess.objects.filter(expires_at__gt=now)
            if self._since is not None:
                rows = rows.filter(created_at__gte=self._since - _LOOKBACK)
            for kind, value, expires_at in rows.values_list("kind", "value", "expires_at").iterator():
                self._remember(kind, value, expires_at.timestamp())
            self._since = now
            self._forget_expired()
            self._fresh_at = started

    def _forget_expired(self) -> None:
        now = time.time()
        for table in (self._jtis, self._families):
            for value in [value for value, until in table.items() if until <= now]:
                table.pop(value, None)

    def reset(self) -> None:
        """Forget everything (tests); the next check reads the table."""
        with self._lock:
            self._jtis.clear()
            self._families.clear()
            self._since = None
            self._fresh_at = float("-inf")

    # -------------------------------------------------------------- the poller
    def _start(self, settings: JWTSettings) -> None:
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()  # a forked worker starts its own
        interval = settings.denylist_poll_interval
        thread = threading.Thread(target=self._poll, args=(interval,), name="jwtkit-denylist", daemon=True)
        thread.start()

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.refresh()
            except Exception:  # a failed read leaves the copy aging; requests fall back past the bound
                logger.warning("jwtkit denylist: reading the revocation table failed", exc_info=True)
            finally:
                close_old_connections()


denylist = Denylist()
