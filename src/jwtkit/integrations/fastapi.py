"""FastAPI: ``JWTBearer``, a security dependency that verifies bearer access tokens.

Example::

    from fastapi import Depends, FastAPI, Security
    from jwtkit.integrations.fastapi import JWTBearer

    app = FastAPI()
    auth = JWTBearer(jwks_url="https://auth.example/.well-known/jwks.json", algorithms=["ES256"])

    @app.get("/me")
    async def me(claims: dict = Depends(auth)):
        return {"user": claims["sub"]}

    @app.get("/items")
    async def items(claims: dict = Security(auth, scopes=["items:read"])):
        ...

    @app.get("/hello")
    async def hello(claims: dict | None = Depends(auth.optional)):
        ...

It is an OpenAPI bearer security scheme (``/docs`` can authorize), async end to end: keys come
from an :class:`jwtkit.AsyncJWKSClient`, so the event loop never waits on the issuer.
Needs ``pip install 'jwtkit[fastapi]'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase

from . import bearer

__all__ = ["JWTBearer"]


def _http_error(refusal: bearer.BearerRefused) -> HTTPException:
    denial = refusal.denial
    return HTTPException(denial.status, detail=denial.description, headers=denial.headers)


class JWTBearer(SecurityBase):
    """Verifies ``Authorization: Bearer`` access tokens; the dependency's value is the claims.

    Args:
        jwks_url: the issuer's JWKS URL (an :class:`jwtkit.AsyncJWKSClient` is built for it), or
        key: a :class:`jwtkit.Key`, :class:`jwtkit.KeySet` or your own ``AsyncJWKSClient``.
        algorithms: the allowed ``alg`` values (mandatory).
        audience, issuer, leeway: as for :class:`jwtkit.Verifier`; ``exp`` is required.
        cache_size: tokens remembered after their signature verified (0 for none); claims are
            checked on every request, and a refetched key set empties the cache.
        scheme_name, description: the OpenAPI security scheme's.

    Answers: 401 ``WWW-Authenticate: Bearer`` without a token; 401 ``invalid_token`` for a bad
    one (a refresh token included: ``token_type`` must be ``"access"`` when present); 403
    ``insufficient_scope`` when ``Security(auth, scopes=[...])`` asks for a scope the token's
    ``scope``/``scp`` lacks; 503 with ``Retry-After`` when the keys cannot be had.

    Raises:
        TypeError, ValueError: misuse, when built.
    """

    def __init__(
        self,
        *,
        jwks_url: str | None = None,
        key: Any = None,
        algorithms: Iterable[str],
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        cache_size: int = bearer.CACHE_SIZE,
        scheme_name: str | None = None,
        description: str | None = None,
    ) -> None:
        opts = bearer.options(jwks_url=jwks_url, key=key, algorithms=algorithms, audience=audience,
                              issuer=issuer, leeway=leeway, cache_size=cache_size)
        self.verifier = bearer.async_verifier(opts)
        self.model = HTTPBearerModel(bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name or "JWTBearer"
        self.optional = _OptionalJWTBearer(self)

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> dict[str, Any]:
        try:
            claims = await bearer.claims_of(self.verifier, request.scope["headers"], security_scopes.scopes)
        except bearer.BearerRefused as refusal:
            raise _http_error(refusal) from None
        if claims is None:
            raise _http_error(bearer.BearerRefused(bearer.missing()))
        return claims


class _OptionalJWTBearer(SecurityBase):
    """``Depends(auth.optional)``: the claims, or None without a token (a bad token is still a 401)."""

    def __init__(self, required: JWTBearer) -> None:
        self.verifier = required.verifier
        self.model = required.model
        self.scheme_name = required.scheme_name

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> dict[str, Any] | None:
        try:
            return await bearer.claims_of(self.verifier, request.scope["headers"], security_scopes.scopes)
        except bearer.BearerRefused as refusal:
            raise _http_error(refusal) from None
