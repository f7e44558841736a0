"""The apps ``bench_integrations.py`` loads, each with an unprotected ``/open`` and a
``/protected`` route that returns the token's ``sub``; the issuer's JWKS URL comes from
``BENCH_JWKS_URL``. Factories, so a server builds each in its own worker:

    uvicorn --factory _integration_apps:fastapi_jwtkit       jwtkit's JWTBearer (AsyncJWKSClient)
    uvicorn --factory _integration_apps:fastapi_jwtkit_uncached   the same with cache_size=0: every request
                                                             checks the signature
    uvicorn --factory _integration_apps:fastapi_jwtkit_middleware   jwtkit's JWTAuthBackend middleware + requires in
                                                             FastAPI (no Depends: request.user)
    uvicorn --factory _integration_apps:fastapi_floor        a FastAPI dependency that checks nothing: what any
                                                             dependency costs FastAPI, the ceiling of every ratio
    uvicorn --factory _integration_apps:fastapi_pyjwt        the FastAPI tutorial's dependency, PyJWT + PyJWKClient
                                                             with its documented per-kid key cache (cache_keys=True)
    uvicorn --factory _integration_apps:starlette_jwtkit     jwtkit's JWTAuthBackend + requires (AsyncJWKSClient)
    uvicorn --factory _integration_apps:fastapi_verify_only  a FastAPI route that verifies the bearer token's ES256
                                                             signature every time and does nothing else:
                                                             bench_stateful's in-server ceiling for cold /auth/me;
                                                             with BENCH_PG_DSN, also POST /write: one durable
                                                             PostgreSQL INSERT, the ceiling for a refresh
    gunicorn '_integration_apps:flask_jwtkit()'              jwtkit's JWTAuth + jwt_required (JWKSClient)
    gunicorn '_integration_apps:flask_jwt_extended()'        flask-jwt-extended (no JWKS support: the public key
                                                             is read from the JWKS once, at start)

No ``from __future__ import annotations`` here: the routes' ``Annotated`` dependencies name locals of
the factories, which FastAPI could not resolve from strings.
"""

import json
import os
import time
import urllib.request
from typing import Annotated, Any


def _jwks_url() -> str:
    return os.environ["BENCH_JWKS_URL"]


def _fastapi_app(claims_of: Any) -> Any:
    """The FastAPI app every FastAPI cell serves: ``/open``, and ``/protected`` behind ``Depends(claims_of)``."""
    from fastapi import Depends, FastAPI

    app = FastAPI()

    @app.get("/open")
    async def open_route() -> dict[str, Any]:
        return {"sub": None}

    @app.get("/protected")
    async def protected(claims: Annotated[dict[str, Any], Depends(claims_of)]) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    return app


def fastapi_jwtkit(cache_size: int | None = None) -> Any:
    from jwtkit.integrations.fastapi import JWTBearer

    options = {} if cache_size is None else {"cache_size": cache_size}
    return _fastapi_app(JWTBearer(jwks_url=_jwks_url(), algorithms=["ES256"], **options))


def fastapi_jwtkit_uncached() -> Any:
    return fastapi_jwtkit(cache_size=0)


def fastapi_jwtkit_middleware() -> Any:
    from fastapi import FastAPI, Request

    from jwtkit.integrations.starlette import JWTAuthBackend, requires

    auth = JWTAuthBackend(jwks_url=_jwks_url(), algorithms=["ES256"])
    app = FastAPI(middleware=[auth.middleware()])  # it runs on /open too (it finds no token there)

    @app.get("/open")
    async def open_route() -> dict[str, Any]:
        return {"sub": None}

    @app.get("/protected")
    @requires()
    async def protected(request: Request) -> dict[str, Any]:
        return {"sub": request.user.identity}

    return app


def fastapi_floor() -> Any:
    from fastapi import Request

    async def nothing_checked(request: Request) -> dict[str, Any]:  # the shape of JWTBearer, without the work
        return {"sub": "floor"}

    return _fastapi_app(nothing_checked)


def fastapi_pyjwt() -> Any:
    import jwt
    from fastapi import Depends, HTTPException
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    # PyJWT's best: the JWK Set cached (the default) and the parsed key per kid too (its documented
    # ``cache_keys``; without it every request rebuilds the keys from the cached JWK Set).
    jwks_client = jwt.PyJWKClient(_jwks_url(), cache_keys=True)
    bearer = HTTPBearer()

    async def current_claims(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> dict[str, Any]:
        try:
            signing_key = jwks_client.get_signing_key_from_jwt(credentials.credentials)
            claims: dict[str, Any] = jwt.decode(credentials.credentials, signing_key.key, algorithms=["ES256"],
                                                options={"require": ["exp"]})
        except jwt.PyJWTError:
            raise HTTPException(401, "Could not validate credentials", headers={"WWW-Authenticate": "Bearer"}) from None
        if claims.get("token_type", "access") != "access":
            raise HTTPException(401, "Could not validate credentials", headers={"WWW-Authenticate": "Bearer"})
        return claims

    return _fastapi_app(current_claims)


def starlette_jwtkit() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from jwtkit.integrations.starlette import JWTAuthBackend, requires

    auth = JWTAuthBackend(jwks_url=_jwks_url(), algorithms=["ES256"])

    async def open_route(request: Request) -> JSONResponse:
        return JSONResponse({"sub": None})

    @requires()
    async def protected(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.user.identity})

    # The middleware runs on /open too (it finds no token there): the ratio is what requiring one costs.
    return Starlette(routes=[Route("/open", open_route), Route("/protected", protected)],
                     middleware=[auth.middleware()])


def fastapi_verify_only() -> Any:
    import contextlib

    from fastapi import FastAPI, Request

    import jwtkit

    verifier = jwtkit.Verifier(jwtkit.JWKSClient(_jwks_url()), algorithms=["ES256"])  # no cache: every time
    dsn = os.environ.get("BENCH_PG_DSN")  # JSON of asyncpg.connect()'s keywords, with "schema"
    writes: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        if dsn is None:
            yield
            return
        import asyncpg

        params = json.loads(dsn)
        schema = params.pop("schema")
        table = f'"{schema}".ceiling_writes'
        conn = await asyncpg.connect(**params)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, token text, at float8)")
        writes["insert"] = await conn.prepare(f"INSERT INTO {table} (token, at) VALUES ($1, $2) RETURNING id")
        yield
        await conn.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/open")
    async def open_route() -> dict[str, Any]:
        return {"sub": None}

    @app.get("/verify")
    async def verify(request: Request) -> dict[str, Any]:  # a bad token is a 500 here: bench_stateful sends none
        return {"sub": verifier.verify(request.headers["authorization"][7:])["sub"]}

    @app.post("/write")
    async def write(request: Request) -> dict[str, Any]:
        """One durable one-row INSERT (autocommit) of the JSON body's token, on one bare connection."""
        token = (await request.json())["token"]
        return {"id": await writes["insert"].fetchval(token, time.time())}

    return app


def _flask_routes(app: Any, jwt_required: Any, get_jwt_identity: Any) -> Any:
    """``/open`` and ``/protected`` with either library's decorator: the same names, so the same code."""

    @app.get("/open")
    def open_route() -> dict[str, Any]:
        return {"sub": None}

    @app.get("/protected")
    @jwt_required()
    def protected() -> dict[str, Any]:
        return {"sub": get_jwt_identity()}

    return app


def flask_jwtkit() -> Any:
    from flask import Flask

    from jwtkit.integrations.flask import JWTAuth, get_jwt_identity, jwt_required

    app = Flask(__name__)
    app.config.update(JWTKIT_JWKS_URL=_jwks_url(), JWTKIT_ALGORITHMS=["ES256"])
    JWTAuth(app)
    return _flask_routes(app, jwt_required, get_jwt_identity)


def flask_jwt_extended() -> Any:
    from cryptography.hazmat.primitives import serialization
    from flask import Flask
    from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
    from jwt.algorithms import ECAlgorithm

    with urllib.request.urlopen(_jwks_url(), timeout=10) as answer:  # flask-jwt-extended takes one fixed key
        jwk = json.loads(answer.read())["keys"][0]
    public_pem = ECAlgorithm.from_jwk(jwk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    app = Flask(__name__)
    app.config.update(JWT_ALGORITHM="ES256", JWT_DECODE_ALGORITHMS=["ES256"], JWT_PUBLIC_KEY=public_pem,
                      JWT_IDENTITY_CLAIM="sub", JWT_TOKEN_LOCATION=["headers"])
    JWTManager(app)
    return _flask_routes(app, jwt_required, get_jwt_identity)
