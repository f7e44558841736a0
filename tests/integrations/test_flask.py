"""``jwtkit.integrations.flask`` in a real Flask app: flask-jwt-extended's names, the config
keys and ``init_app``, scopes, ``optional``, RFC 6750 answers, 503, and the flow against a real
``jwtkit serve``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

import jwtkit
from jwks.server import FakeClock, JWKSServer
from jwtkit.integrations.flask import JWTAuth, get_jwt, get_jwt_identity, jwt_required, verify_jwt_in_request

from .issuer import Issuer, bearer, signed


def add_routes(app: Flask) -> Flask:
    @app.get("/me")
    @jwt_required()
    def me() -> dict[str, Any]:
        return {"identity": get_jwt_identity(), "username": get_jwt().get("username")}

    @app.get("/items")
    @jwt_required(scopes=["items:read"])
    def items() -> dict[str, Any]:
        return {"items": []}

    @app.get("/hello")
    @jwt_required(optional=True)
    def hello() -> dict[str, Any]:
        return {"identity": get_jwt_identity(), "claims": get_jwt()}

    @app.get("/inside")
    def inside() -> dict[str, Any]:
        verify_jwt_in_request(scopes=["items:read"])
        return {"identity": get_jwt_identity()}

    @app.get("/unprotected")
    def unprotected() -> dict[str, Any]:
        return {"claims": get_jwt()}

    return app


def app_with(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    return add_routes(app)


@pytest.fixture
def http(key: jwtkit.Key) -> Any:
    app = app_with()
    JWTAuth(app, key=key.public_key(), algorithms=["ES256"])
    return app.test_client()


def test_a_valid_token_gives_the_view_its_claims_and_identity(http, key):
    answer = http.get("/me", headers=bearer(signed(key, username="alice")))
    assert answer.status_code == 200
    assert answer.json == {"identity": "alice", "username": "alice"}


def test_identity_falls_back_to_user_id(http, key):
    assert http.get("/me", headers=bearer(signed(key, sub=None, user_id=7))).json["identity"] == 7


def test_no_token_is_a_401_with_a_bare_bearer_challenge(http):
    answer = http.get("/me")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_bad_token_is_a_401_invalid_token(http, key):
    answer = http.get("/me", headers=bearer(signed(key, exp=1_000_000_000)))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert answer.json == {"error": "invalid_token", "error_description": "The access token has expired."}


def test_a_refresh_token_is_refused(http, key):
    assert http.get("/me", headers=bearer(signed(key, token_type="refresh"))).status_code == 401


def test_scopes_from_scope_or_scp(http, key):
    assert http.get("/items", headers=bearer(signed(key, scope="items:read"))).status_code == 200
    assert http.get("/items", headers=bearer(signed(key, scp=["items:read"]))).status_code == 200


def test_a_missing_scope_is_a_403_insufficient_scope_naming_it(http, key):
    answer = http.get("/items", headers=bearer(signed(key)))
    assert answer.status_code == 403
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="insufficient_scope", scope="items:read"')


def test_optional_lets_a_request_without_a_token_through(http):
    assert http.get("/hello").json == {"identity": None, "claims": {}}


def test_optional_still_refuses_a_bad_token(http):
    assert http.get("/hello", headers=bearer("junk")).status_code == 401


def test_verify_jwt_in_request_inside_a_view(http, key):
    assert http.get("/inside").status_code == 401
    assert http.get("/inside", headers=bearer(signed(key))).status_code == 403
    answer = http.get("/inside", headers=bearer(signed(key, scope="items:read")))
    assert answer.json == {"identity": "alice"}


def test_get_jwt_outside_a_protected_view_is_a_programming_error(key):
    app = app_with()
    JWTAuth(app, key=key.public_key(), algorithms=["ES256"])
    app.testing = True
    with pytest.raises(RuntimeError, match="jwt_required"):
        app.test_client().get("/unprotected")


def test_config_keys_and_init_app_for_factories(jwks_server: JWKSServer, key):
    auth = JWTAuth()
    app = app_with(JWTKIT_JWKS_URL=jwks_server.url, JWTKIT_ALGORITHMS="ES256, RS256",
                   JWTKIT_AUDIENCE="api", JWTKIT_ISSUER="https://auth.example")
    auth.init_app(app)
    http = app.test_client()
    good = signed(key, aud="api", iss="https://auth.example")
    assert http.get("/me", headers=bearer(good)).status_code == 200
    assert http.get("/me", headers=bearer(signed(key, aud="api", iss="https://evil"))).status_code == 401
    assert http.get("/me", headers=bearer(signed(key, iss="https://auth.example"))).status_code == 401
    assert jwks_server.fetches == 1


def test_arguments_win_over_config(key):
    app = app_with(JWTKIT_JWKS_URL="https://ignored.example/jwks", JWTKIT_ALGORITHMS=["RS256"])
    JWTAuth(app, key=key.public_key(), algorithms=["ES256"])
    assert app.test_client().get("/me", headers=bearer(signed(key))).status_code == 200


def test_no_keys_to_be_had_is_a_503_with_retry_after(jwks_server: JWKSServer, key):
    jwks_server.mode = "html"
    app = app_with(JWTKIT_JWKS_URL=jwks_server.url, JWTKIT_ALGORITHMS=["ES256"])
    JWTAuth(app)
    answer = app.test_client().get("/me", headers=bearer(signed(key)))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"


def test_missing_config_is_refused_at_init():
    with pytest.raises(TypeError, match="jwks_url"):
        JWTAuth(app_with(JWTKIT_ALGORITHMS=["ES256"]))
    with pytest.raises(TypeError, match="algorithms"):
        JWTAuth(app_with(JWTKIT_JWKS_URL="https://auth.example/jwks"))


def test_a_view_before_init_is_a_programming_error(key):
    app = app_with()
    app.testing = True
    with pytest.raises(RuntimeError, match="JWTAuth"):
        app.test_client().get("/me", headers=bearer(signed(key)))


@pytest.mark.slow
def test_against_a_real_jwtkit_serve(issuer: Issuer):
    clock = FakeClock()
    app = app_with()
    JWTAuth(app, key=jwtkit.JWKSClient(issuer.jwks_url, clock=clock), algorithms=["ES256"])
    http = app.test_client()
    pair = issuer.login()
    assert http.get("/me", headers=bearer(pair["access_token"])).json == {"identity": "1", "username": "alice"}
    assert http.get("/me", headers=bearer(pair["refresh_token"])).status_code == 401
    issuer.logout(pair)  # stateless here: the access token lives to its exp
    assert http.get("/me", headers=bearer(pair["access_token"])).status_code == 200
    issuer.rotate_keys()
    rotated = issuer.login()
    assert http.get("/me", headers=bearer(rotated["access_token"])).status_code == 200
    issuer.stop()
    clock.advance(3600)
    assert http.get("/me", headers=bearer(rotated["access_token"])).status_code == 200
