"""``GET /health/ready``: readiness, as Keycloak and Ory Hydra name it (``/health`` stays the
cheap liveness check: no storage, no Redis).

It reports each part separately and answers 200 when every part is ready, else 503 with the
parts that are not::

    {"status": "ready", "checks": {"storage": "ok", "redis": "ok"}}
    {"error": "not_ready", "message": "not ready: storage unavailable",
     "status": "unavailable", "checks": {"storage": "unavailable", "redis": "ok"}}

- ``storage``: one read of the user store (a primary-key lookup), bounded by
  :data:`READINESS_TIMEOUT` seconds: a hung database answers ``timeout``, it never hangs the probe.
- ``redis`` (with ``--redis``) or ``revocation_feed`` (without): whether the revocation feed is in
  sync within ``revocation_max_staleness``. The Redis feed PINGs Redis every 0.25 s and is out of
  sync one second after Redis stops answering; the polling feed is out of sync when its database
  polls fail. While it is, access tokens are refused with 503 (fail closed), so the process is not
  ready. An in-memory check: no I/O.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from jwtkit.auth.service import AuthService

from .deps import service_of
from .openapi import errors
from .schemas import error_body

__all__ = ["READINESS_TIMEOUT", "ReadinessOut", "readiness_router", "storage_status"]

log = logging.getLogger(__name__)

READINESS_TIMEOUT = 2.0
"""Seconds the storage check may take before it reports ``timeout``."""


class ReadinessOut(BaseModel):
    """Ready: every part ``"ok"``. (Not ready is a 503 ``{error: "not_ready", message, status, checks}``.)"""

    status: str
    checks: dict[str, str]


async def storage_status(service: AuthService, *, timeout: float = READINESS_TIMEOUT) -> str:
    """``"ok"``, ``"timeout"`` or ``"unavailable"``: one bounded read of the user store."""
    try:
        await asyncio.wait_for(service.stores.users.get_user(0), timeout)
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # whatever the adapter raised: the part is down, say so, keep answering
        log.warning("readiness: storage check failed: %s", type(exc).__name__)
        # A store that bounds its own statements (asyncpg's timeout) may give up before our cap: a hung
        # database is still a "timeout", whichever layer's clock ran out.
        return "timeout" if isinstance(exc.__cause__, TimeoutError) else "unavailable"
    return "ok"


def readiness_router(*, feed_check: str = "revocation_feed", timeout: float = READINESS_TIMEOUT) -> APIRouter:
    """The readiness route; ``feed_check`` names the revocation feed's part (``"redis"`` with Redis)."""
    router = APIRouter(tags=["meta"])

    @router.get("/health/ready", operation_id="ready", summary="Readiness: storage and Redis",
                response_model=ReadinessOut, responses=errors(503))
    async def ready(request: Request) -> JSONResponse:
        """200 when storage answers (within a bound) and the revocation feed is in sync; 503 and
        the failing part otherwise. ``/health`` is liveness and touches neither."""
        service = service_of(request)
        settings = service.settings
        feed = "ok" if service.stores.feed.is_fresh(settings.revocation_max_staleness) else "stale"
        checks = {"storage": await storage_status(service, timeout=timeout), feed_check: feed}
        failed = [f"{part} {state}" for part, state in checks.items() if state != "ok"]
        if not failed:
            return JSONResponse({"status": "ready", "checks": checks}, headers={"Cache-Control": "no-store"})
        body = error_body("not_ready", "not ready: " + ", ".join(failed)) | {"status": "unavailable", "checks": checks}
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "1"})

    return router
