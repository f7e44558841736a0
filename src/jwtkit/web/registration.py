"""Closing public registration (``jwtkit serve --no-register``): ``POST /auth/register`` answers
403 ``registration_closed``, and the OpenAPI description says so instead of offering the route.

403, not 404: the route exists on every jwtkit server (its OpenAPI says so), so hiding it protects
nothing, while a clear "closed, ask the operator" tells a client and a person what to do; a 404
would read as a wrong URL or an old server.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from jwtkit.auth.errors import RegistrationClosedError

from .openapi import errors

__all__ = ["REGISTER_PATH", "close_registration"]

REGISTER_PATH = "/auth/register"

closed = APIRouter(tags=["tokens"])


@closed.post(REGISTER_PATH, status_code=403, operation_id="register", summary="Create a user (closed here)",
             responses=errors(403, s403="`registration_closed`: this server's accounts are made by its operator "
                                        "(`jwtkit users create`)"))
async def register_closed() -> None:
    """Registration is closed on this server (`jwtkit serve --no-register`): always 403."""
    raise RegistrationClosedError()


def close_registration(app: FastAPI) -> None:
    """Replace ``app``'s registration route by one that answers 403 (call after the routers are included)."""
    app.router.routes[:] = [route for route in app.router.routes
                            if not (isinstance(route, APIRoute) and route.path == REGISTER_PATH)]
    app.include_router(closed)
