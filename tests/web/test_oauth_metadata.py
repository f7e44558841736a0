"""RFC 8414 metadata at /.well-known/oauth-authorization-server, and junk bodies on the /oauth
endpoints: always a 4xx with an RFC 6749 §5.2 body (or the API's 413/405), never 422 or 5xx."""

import random
from urllib.parse import quote_from_bytes

import pytest

from .conftest import PASSWORD, register
from .oauth_helpers import BASIC, oauth_settings

pytestmark = pytest.mark.anyio
BACKENDS_HERE = ["memory"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
METADATA = "/.well-known/oauth-authorization-server"


@pytest.fixture
def settings():
    return oauth_settings()


async def test_metadata_without_an_issuer_names_the_server_it_was_fetched_from(client):
    response = await client.get(METADATA)
    assert response.status_code == 200
    meta = response.json()
    base = "http://testserver"
    assert meta == {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": ["none"],
        "introspection_endpoint": f"{base}/oauth/introspect",
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
        "service_documentation": f"{base}/docs",
        "access_token_profile": "simple",
    }
    assert (await client.get(meta["jwks_uri"])).status_code == 200


@pytest.mark.parametrize("settings", [oauth_settings(access_token_profile="rfc9068", issuer="https://auth.example/",
                                                     audience="https://api.example", access_token_scope="read write")])
async def test_metadata_of_an_rfc9068_issuer(client):
    meta = (await client.get(METADATA)).json()
    assert meta["issuer"] == "https://auth.example/"  # exactly the configured one (RFC 8414 §3.3)
    assert meta["token_endpoint"] == "https://auth.example/auth/token"
    assert meta["revocation_endpoint"] == "https://auth.example/oauth/revoke"
    assert meta["access_token_profile"] == "rfc9068"
    assert meta["scopes_supported"] == ["read", "write"]


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize(("headers", "body"), [
    ({"Content-Type": "application/json"}, b'{"token": "x"}'),
    ({}, b"token=x"),
    ({"Content-Type": "text/plain"}, b"token=x"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\n\r\n--x--"),
    (FORM, b"token=\xff\xfe"),
    (FORM, b"token=%ff%fe"),
    (FORM, b"token=a&token=b"),
    (FORM, b"&".join(b"f%d=1" % i for i in range(40)) + b"&token=x"),
    (FORM, b""),
    (FORM, b"token="),
    (FORM, b"tok\x00en=x"),
    (FORM, b"=&=&&;;%%"),
])
async def test_junk_bodies_are_400_invalid_request(client, path, headers, body):
    response = await client.post(path, content=body, headers=headers, auth=BASIC)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert set(response.json()) == {"error", "error_description"}


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
async def test_a_body_over_64_kib_is_413_and_get_is_405(client, path):
    response = await client.post(path, content=b"token=" + b"a" * 70_000, headers=FORM, auth=BASIC)
    assert response.status_code == 413
    assert (await client.get(path)).status_code == 405


async def test_unknown_parameters_are_ignored(client):
    # RFC 6749 §3.1; repeated unknown parameters too
    response = await client.post("/oauth/revoke", content=b"token=junk&foo=1&foo=2&token_type_hints=x", headers=FORM)
    assert response.status_code == 200


async def test_the_oauth_operations_are_documented_with_their_bodies(client):
    schema = (await client.get("/openapi.json")).json()
    for path in ("/oauth/revoke", "/oauth/introspect"):
        operation = schema["paths"][path]["post"]
        form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert form["required"] == ["token"]
        assert form["properties"]["token_type_hint"]["enum"] == ["access_token", "refresh_token"]
        assert {"400", "413", "503"} <= set(operation["responses"])
    introspect = schema["paths"]["/oauth/introspect"]["post"]
    assert introspect["security"] == [{"IntrospectionClient": []}, {}]
    assert "401" in introspect["responses"]
    assert schema["components"]["securitySchemes"]["IntrospectionClient"]["scheme"] == "basic"
    assert schema["paths"][METADATA]["get"]["operationId"] == "authorizationServerMetadata"


async def test_the_token_endpoint_takes_both_advertised_grants(client):
    # grant_types_supported says password and refresh_token at token_endpoint: both work there
    await register(client)
    endpoint = (await client.get(METADATA)).json()["token_endpoint"]
    pair = await client.post(endpoint, data={"grant_type": "password", "username": "alice", "password": PASSWORD})
    assert pair.status_code == 200
    refreshed = await client.post(endpoint, data={"grant_type": "refresh_token",
                                                  "refresh_token": pair.json()["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"
    assert set(refreshed.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    reused = await client.post(endpoint, data={"grant_type": "refresh_token",
                                               "refresh_token": pair.json()["refresh_token"]})
    assert reused.status_code == 401  # reuse: the family is revoked, as at /auth/token/refresh


async def test_random_forms_and_bytes_are_200_or_400_never_422_or_5xx(client):
    await register(client)
    pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    rng = random.Random(14)  # deterministic junk: a seed, not a timing
    alphabet = b"=&%+.;token_type_hint" + bytes(range(256))
    tokens = [pair["access_token"], pair["refresh_token"]]
    for _ in range(150):
        kind = rng.randrange(3)
        if kind == 0:
            body = bytes(rng.choice(alphabet) for _ in range(rng.randrange(80)))
        else:  # a real token, mutated at one place, with a hint that may be junk
            token = bytearray(rng.choice(tokens).encode())
            token[rng.randrange(len(token))] = rng.randrange(256)
            hint = rng.choice([b"access_token", b"refresh_token", b"", b"%ff", b"x"])
            body = b"token=" + quote_from_bytes(bytes(token)).encode() + b"&token_type_hint=" + hint
        for path in ("/oauth/introspect", "/oauth/revoke"):
            response = await client.post(path, content=body, headers=FORM, auth=BASIC)
            assert response.status_code in (200, 400), (body, response.text)
            if response.status_code == 400:
                assert response.json()["error"] in ("invalid_request", "unsupported_token_type")
            elif path == "/oauth/introspect":
                assert isinstance(response.json()["active"], bool)
