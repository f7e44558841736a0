"""Closing public registration (``jwtkit serve --no-register``): ``POST /auth/register`` answers
403 ``registration_closed``, and the OpenAPI description says so instead of offering the route.

403, not 404: the route exists on every jwtkit server (its OpenAPI says so), so hiding it protects
nothing, while a clear "closed, ask the operator" tells a client and a person what to do; a 404
would read as a wrong URL or an old server.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from jwtkit.auth.errors import RegistrationClosedError

from .openapi import errors

__all__ = ["REGISTER_PATH", "close_registration"]

REGISTER_PATH = "/auth/register"

closed = APIRouter(tags=["tokens"])


@closed.post(REGISTER_PATH, status_code=403, operation_id="registerClosed", summary="Create a user (closed here)",
             responses=errors(403, s403="`registration_closed`: this server's accounts are made by its operator "
                                        "(`jwtkit users create`)"))
async def register_closed() -> None:
    """Registration is closed on this server (`jwtkit serve --no-register`): always 403."""
    raise RegistrationClosedError()


def close_registration(app: FastAPI) -> None:
    """Put the closed route in front of ``app``'s registration route (routes match in order) and in
    its place in the OpenAPI description. Call after :func:`.openapi.install_openapi`."""
    route = closed.routes[0]
    app.router.routes.insert(0, route)
    describe = app.openapi
    operation = get_openapi(title=app.title, version=app.version, routes=[route])["paths"][REGISTER_PATH]["post"]
    operation["operationId"] = "register"  # the route's own id, documented as closed

    def openapi() -> dict[str, Any]:
        schema = describe()
        schema["paths"][REGISTER_PATH]["post"] = operation
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
