"""Flask: ``JWTAuth``, ``jwt_required``, ``verify_jwt_in_request``, ``get_jwt``, ``get_jwt_identity``
(flask-jwt-extended's names, so an app can switch by changing its imports).

Example::

    from flask import Flask
    from jwtkit.integrations.flask import JWTAuth, get_jwt, get_jwt_identity, jwt_required

    app = Flask(__name__)
    app.config["JWTKIT_JWKS_URL"] = "https://auth.example/.well-known/jwks.json"
    app.config["JWTKIT_ALGORITHMS"] = ["ES256"]
    JWTAuth(app)

    @app.get("/me")
    @jwt_required()
    def me():
        return {"user": get_jwt_identity(), "claims": get_jwt()}

Config keys: ``JWTKIT_JWKS_URL``, ``JWTKIT_ALGORITHMS`` (a list, or names separated by commas
or spaces), ``JWTKIT_AUDIENCE``, ``JWTKIT_ISSUER``, ``JWTKIT_LEEWAY``; arguments to
:class:`JWTAuth` win over them. Keys come from a :class:`jwtkit.JWKSClient` (stdlib HTTP, one
fetch shared by the threads that miss). Needs ``pip install 'jwtkit[flask]'``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, g, jsonify, request

from jwtkit.core.tokens import Verifier

from . import bearer

__all__ = ["JWTAuth", "get_jwt", "get_jwt_identity", "jwt_required", "verify_jwt_in_request"]

_EXTENSION = "jwtkit"
_UNSET: Any = object()
F = TypeVar("F", bound=Callable[..., Any])


class JWTAuth:
    """Bearer access-token verification for a Flask app (or several, with :meth:`init_app`).

    Args:
        app: the app, or None to call :meth:`init_app` later (application factories).
        jwks_url: the issuer's JWKS URL (default ``JWTKIT_JWKS_URL``), or
        key: a :class:`jwtkit.Key`, :class:`jwtkit.KeySet` or your own :class:`jwtkit.JWKSClient`.
        algorithms: the allowed ``alg`` values (default ``JWTKIT_ALGORITHMS``; mandatory).
        audience, issuer, leeway: as for :class:`jwtkit.Verifier` (defaults ``JWTKIT_AUDIENCE``,
            ``JWTKIT_ISSUER``, ``JWTKIT_LEEWAY``); ``exp`` is required.
        cache_size: tokens remembered after their signature verified (0 for none); claims are
            checked on every request, and a refetched key set empties the cache.

    Raises:
        TypeError, ValueError: misuse or bad config, when the app is initialised.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        jwks_url: str | None = None,
        key: Any = None,
        algorithms: Iterable[str] | None = None,
        audience: str | Iterable[str] | None = _UNSET,
        issuer: str | Iterable[str] | None = _UNSET,
        leeway: float | timedelta = _UNSET,
        cache_size: int = bearer.CACHE_SIZE,
    ) -> None:
        self._arguments = {"jwks_url": jwks_url, "key": key, "algorithms": algorithms,
                           "audience": audience, "issuer": issuer, "leeway": leeway, "cache_size": cache_size}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the app's config and attach a verifier to it."""
        given = self._arguments
        config = app.config
        key = given["key"]
        jwks_url = given["jwks_url"] if given["jwks_url"] is not None or key is not None \
            else config.get("JWTKIT_JWKS_URL")
        algorithms = given["algorithms"] if given["algorithms"] is not None \
            else _names(config.get("JWTKIT_ALGORITHMS"))
        opts = bearer.options(
            jwks_url=jwks_url, key=key, algorithms=algorithms,
            audience=config.get("JWTKIT_AUDIENCE") if given["audience"] is _UNSET else given["audience"],
            issuer=config.get("JWTKIT_ISSUER") if given["issuer"] is _UNSET else given["issuer"],
            leeway=config.get("JWTKIT_LEEWAY", 0) if given["leeway"] is _UNSET else given["leeway"],
            cache_size=given["cache_size"],
        )
        app.extensions[_EXTENSION] = bearer.sync_verifier(opts)


def _names(value: Any) -> Iterable[str] | None:
    if isinstance(value, str):
        return [name for name in value.replace(",", " ").split() if name]
    return cast("Iterable[str] | None", value)


def _verifier() -> Verifier:
    verifier = current_app.extensions.get(_EXTENSION)
    if verifier is None:
        raise RuntimeError("jwt_required needs JWTAuth(app) (or JWTAuth().init_app(app)) first")
    return cast(Verifier, verifier)


def _answer(denial: bearer.Denial) -> Response:
    response = jsonify(denial.body)
    response.status_code = denial.status
    response.headers.update(denial.headers)
    return response


def jwt_required(optional: bool = False, scopes: Sequence[str] = ()) -> Callable[[F], F]:
    """Protect a view: it runs only with a valid access token (and ``scopes`` in its ``scope``/``scp``).

    ``optional=True`` lets a request without a token through (``get_jwt()`` is then ``{}``); a
    bad token is refused all the same. Answers 401 ``Bearer``/``invalid_token``, 403
    ``insufficient_scope``, 503 with ``Retry-After`` when the keys cannot be had.

    Example::

        @app.get("/items")
        @jwt_required(scopes=["items:read"])
        def items(): ...
    """
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request(optional=optional, scopes=scopes)
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(F, checked)

    return decorate


def verify_jwt_in_request(optional: bool = False, scopes: Sequence[str] = ()) -> None:
    """What :func:`jwt_required` checks, for code that decides inside the view (or in a
    ``before_request`` hook), as in flask-jwt-extended; afterwards :func:`get_jwt` works.

    Raises:
        werkzeug.exceptions.HTTPException: carrying the 401/403/503 answer (Flask sends it).
    """
    needed = (scopes,) if isinstance(scopes, str) else tuple(scopes)
    try:
        token = bearer.bearer_token(request.headers.get("Authorization"))
        if token is None:
            if not optional:
                raise bearer.BearerRefused(bearer.missing())
            claims: dict[str, Any] = {}
        else:
            claims = bearer.verify_sync(_verifier(), token)
            bearer.require_scopes(claims, needed)
    except bearer.BearerRefused as refusal:
        abort(_answer(refusal.denial))
    g._jwtkit_claims = claims


def get_jwt() -> dict[str, Any]:
    """The claims of the request's access token (``{}`` under ``jwt_required(optional=True)``
    without a token).

    Raises:
        RuntimeError: outside a view protected by :func:`jwt_required`.
    """
    claims = g.get("_jwtkit_claims")
    if claims is None:
        raise RuntimeError("get_jwt() is for views decorated with @jwt_required()")
    return cast("dict[str, Any]", claims)


def get_jwt_identity() -> Any:
    """``sub`` (else ``user_id``) of the request's access token, or None without one.

    Raises:
        RuntimeError: outside a view protected by :func:`jwt_required`.
    """
    return bearer.identity_of(get_jwt())
