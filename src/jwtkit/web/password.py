"""``POST /auth/password``: a user changes their password with an access token and the current
password, and gets a fresh pair; every other session of theirs ends (``AuthService.change_password``).

A wrong current password is answered 400 ``wrong_password`` (not 401: the access token is fine, and
a client must not react by refreshing or logging out) and counted as a failed login, so the login
throttle's 429 applies here too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jwtkit.auth.models import Principal

from .credentials import client_address
from .deps import bearer_principal, service_of
from .headers import NO_STORE
from .openapi import errors
from .schemas import TokenPairOut

__all__ = ["PasswordChangeIn", "router"]

router = APIRouter(prefix="/auth", tags=["accounts"])



class PasswordChangeIn(BaseModel):
    """The current password, the new one (the registration policy applies), and whether the session
    making the change survives it."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    current_password: str = Field(examples=["correct horse battery staple"])
    new_password: str = Field(examples=["a new and longer passphrase"])
    keep_current_session: bool = Field(
        default=False,
        description="false (default): every session of the user ends, the one making the change included "
                    "(continue with the pair in the answer); true: the session of this access token "
                    "lives on as well",
    )


@router.post("/password", response_model=TokenPairOut, operation_id="changePassword",
             summary="Change the password: every other session ends, a fresh pair is returned",
             responses=errors(400, 401, 413, 415, 422, 429, 503,
                              s400="`wrong_password`: the current password is wrong (counted as a failed login); "
                                   "`invalid_json`: the body is not JSON",
                              s422="`invalid_input`: `fields` names `new_password` when it breaks the password "
                                   "policy (as at registration)",
                              s429="`throttled`: too many failed logins (or wrong current passwords) for this "
                                   "user or address; wait `Retry-After` seconds"))
async def change_password(body: PasswordChangeIn, request: Request, response: Response,
                          principal: Annotated[Principal, Depends(bearer_principal)]) -> TokenPairOut:
    """Change the password of the access token's user. Every refresh family of the user is revoked
    and its access tokens denied (as at logout), cookie sessions end, and the answer is a fresh
    access/refresh pair (a new session). Throttled like a login."""
    pair = await service_of(request).change_password(
        principal, body.current_password, body.new_password, client=client_address(request),
        keep_current_session=body.keep_current_session,
    )
    response.headers.update(NO_STORE)
    return TokenPairOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                        token_type=pair.token_type, expires_in=pair.expires_in)
