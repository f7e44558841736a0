"""``access_token_profile="rfc9068"``: access tokens as RFC 9068 §2 says (``typ: at+jwt``; ``iss``,
``aud``, ``sub``, ``client_id``, ``scope``, ``iat``, ``exp``, ``jti``), verified by other libraries
(PyJWT, joserfc) from our JWKS, and refused by our own verification without ``typ: at+jwt`` (§4)."""

import time

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet as JoseKeySet

import jwtkit
from jwtkit.auth.settings import AuthSettings

from .conftest import FAST_HASHING, Clock, bearer, login, register
from .oauth_helpers import introspect, oauth_settings

pytestmark = pytest.mark.anyio
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


@pytest.fixture
def clock():
    return Clock(time.time())  # PyJWT and joserfc check the tokens against the real time


@pytest.fixture
def settings():
    return oauth_settings(access_token_profile="rfc9068", issuer=ISSUER, audience=AUDIENCE,
                          access_token_client_id="web-app", access_token_scope="read write")


async def test_access_tokens_follow_rfc_9068(client, clock):
    user = await register(client)
    pair = await login(client)
    header, claims = jwtkit.decode_unverified(pair["access_token"])
    assert header["typ"] == "at+jwt"
    assert {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user["id"]), "client_id": "web-app",
            "scope": "read write"}.items() <= claims.items()
    assert {"iat", "exp", "jti"} <= set(claims)
    refresh_header, _ = jwtkit.decode_unverified(pair["refresh_token"])
    assert refresh_header.get("typ") != "at+jwt"  # a refresh token is no access token
    assert (await client.get("/auth/me", headers=bearer(pair["access_token"]))).status_code == 200
    refreshed = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert jwtkit.decode_unverified(refreshed.json()["access_token"])[0]["typ"] == "at+jwt"


async def test_introspection_shows_the_rfc_9068_claims(client):
    await register(client)
    pair = await login(client)
    body = await introspect(client, pair["access_token"])
    assert body["active"] is True
    assert (body["client_id"], body["scope"], body["iss"], body["aud"]) == ("web-app", "read write", ISSUER, AUDIENCE)


async def test_pyjwt_and_joserfc_verify_our_access_tokens_from_the_jwks(client):
    await register(client)
    pair = await login(client)
    token = pair["access_token"]
    jwks = (await client.get("/.well-known/jwks.json")).json()

    # PyJWT: the key by kid from the JWKS; the typ checked by hand (PyJWT does not check it)
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in pyjwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    claims = pyjwt.decode(token, key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER,
                          options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "client_id"]})
    assert claims["client_id"] == "web-app"
    assert pyjwt.get_unverified_header(token)["typ"] == "at+jwt"

    # joserfc: the whole key set; the header as RFC 9068 §4 asks
    decoded = jose_jwt.decode(token, JoseKeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    registry = jose_jwt.JWTClaimsRegistry(
        now=claims["iat"], iss={"essential": True, "value": ISSUER}, aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True}, client_id={"essential": True}, jti={"essential": True})
    registry.validate(decoded.claims)

    # and a resource server on jwtkit itself, typ enforced
    verifier = jwtkit.Verifier(jwtkit.KeySet.from_jwks(jwks), algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE,
                               typ="at+jwt")
    assert verifier.verify(token, now=claims["iat"])["sub"] == claims["sub"]


async def test_our_verification_refuses_access_tokens_without_at_jwt(client, app):
    await register(client)
    pair = await login(client)
    _, claims = jwtkit.decode_unverified(pair["access_token"])
    service = app.state.service
    key = service.keys.active  # signed by our own key: only the typ is wrong
    for typ in ("JWT", None, "application/jwt"):
        token = jwtkit.encode(claims, key, headers={"typ": typ})
        assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401
        assert (await client.post("/auth/token/verify", json={"token": token})).status_code == 401
        assert await introspect(client, token) == {"active": False}
    accepted = jwtkit.encode(claims, key, headers={"typ": "application/at+jwt"})  # the same media type
    assert (await client.get("/auth/me", headers=bearer(accepted))).status_code == 200


@pytest.mark.parametrize("changes", [{}, {"issuer": ISSUER}, {"audience": AUDIENCE}])
def test_the_profile_needs_an_issuer_and_an_audience(changes):
    with pytest.raises(ValueError, match="issuer and an audience"):
        AuthSettings(**FAST_HASHING, access_token_profile="rfc9068", **changes)


@pytest.mark.parametrize("changes", [
    {"access_token_profile": "rfc9999"}, {"access_token_scope": ""}, {"access_token_scope": "a  b"},
    {"access_token_scope": 'quote"'}, {"access_token_client_id": ""}, {"introspection_client_secret": "short"},
])
def test_bad_oauth_settings_are_refused(changes):
    with pytest.raises(ValueError, match="AuthSettings"):
        AuthSettings(**FAST_HASHING, **changes)


def test_the_introspection_secret_never_prints():
    settings = oauth_settings()
    assert "s3cret" not in repr(settings)
