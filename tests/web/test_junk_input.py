"""Bad input and faults: junk JSON, wrong content types, oversized bodies (413), huge or binary
Authorization headers, wrong methods and paths. Always a 4xx with a JSON error body, never a 500
(the ASGI transport re-raises any unhandled exception, so a bug here fails the test loudly)."""

import pytest

from .conftest import PASSWORD, login, register

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "postgresql"])
def backend(request):
    """Junk should never reach storage, but when it does, PostgreSQL is the strictest about it (a NUL
    in a text parameter is an error there): the reference store and PostgreSQL."""
    return request.param

JSON = {"Content-Type": "application/json"}

JUNK_BODIES = [
    # (content type, body, expected status, expected error code)
    ("application/json", b"not json", 400, "invalid_json"),
    ("application/json", b'{"username": "alice", "password":', 400, "invalid_json"),
    ("application/json", b"\xff\xfe\x00junk", 400, "invalid_json"),  # not UTF-8
    ("application/json", b"[" * 60_000, 400, "invalid_json"),  # nested too deep
    ("application/json", b'{"username": 1e400, "password": "x"}', 422, "invalid_input"),
    ("application/json", b"[]", 422, "invalid_input"),
    ("application/json", b'"a string"', 422, "invalid_input"),
    ("application/json", b"null", 422, "invalid_input"),
    ("application/json", b"", 422, "invalid_input"),
    ("application/json", b'{"username": {"$ne": null}, "password": "x"}', 422, "invalid_input"),
    ("text/plain", b'{"username": "alice", "password": "correct horse"}', 415, "unsupported_media_type"),
    ("application/xml", b"<user/>", 415, "unsupported_media_type"),
    ("", b'{"username": "alice", "password": "correct horse"}', 415, "unsupported_media_type"),
]
JSON_ENDPOINTS = ["/auth/register", "/auth/token", "/auth/token/refresh", "/auth/token/verify", "/session/login"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize(("content_type", "body", "status", "code"), JUNK_BODIES)
async def test_junk_bodies_are_a_4xx_json_error(client, path, content_type, body, status, code):
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) <= {"error", "message", "fields"}
    if code is not None:
        assert payload["error"] == code


@pytest.mark.parametrize("body", [b"{junk", b"\xff\xfe\x00junk", b"[" * 60_000])
async def test_a_body_that_does_not_parse_is_invalid_json_on_logout_too(client, body):
    await register(client)
    token = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    headers = {**JSON, "Authorization": f"Bearer {token['access_token']}"}
    response = await client.post("/auth/logout", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


async def test_a_form_field_sent_as_a_file_is_422(client):
    files = {"username": ("name.txt", b"alice"), "password": (None, PASSWORD)}
    response = await client.post("/auth/token", files=files)
    assert response.status_code == 422


@pytest.mark.parametrize("username", ["ålice", "al\x00ice", "alice\n", " alice", "<script>"])
async def test_usernames_outside_the_charset_are_422(client, username):
    response = await client.post("/auth/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 422


@pytest.mark.parametrize("username", ["al\x00ice", "\x00", "alice\x00", "x" * 10_000])
@pytest.mark.parametrize("path", ["/auth/token", "/session/login"])
async def test_logins_with_junk_usernames_are_the_plain_401(client, path, username):
    await register(client)
    response = await client.post(path, json={"username": username, "password": PASSWORD})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_credentials"


async def test_a_nul_in_the_password_is_just_a_wrong_password(client):
    await register(client)
    response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD + "\x00"})
    assert response.status_code == 401, response.text
    assert (await login(client))["access_token"]


async def test_a_body_over_64_kib_is_413(client):
    body = b'{"username": "alice", "password": "' + b"x" * 70_000 + b'"}'
    response = await client.post("/auth/register", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_a_chunked_body_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(100):
            yield b"x" * 1024

    response = await client.post("/auth/register", content=chunks(), headers=JSON)
    assert response.status_code == 413


async def test_a_body_at_the_limit_is_read(client):
    padding = 64 * 1024 - len(b'{"username": "alice", "password": "' + b'"}')
    body = b'{"username": "alice", "password": "' + b"x" * padding + b'"}'
    assert len(body) == 64 * 1024
    response = await client.post("/auth/register", content=body, headers=JSON)
    assert response.status_code == 422  # past the service's 1024-character password limit, not 413


async def test_a_non_numeric_content_length_is_400(client):
    response = await client.post("/auth/register", content=b"{}", headers={**JSON, "Content-Length": "12abc"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer " + b"A" * 1_000_000, b"Bearer \xff\xfe\xfd", b"\x00\x01", b"Bearer a\tb", b"Bearer  " + b"x." * 5000],
)
async def test_huge_or_binary_authorization_headers_are_401(client, authorization):
    response = await client.get("/auth/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"] in {"invalid_token", "missing_credentials"}


async def test_an_unknown_path_is_a_json_404(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_a_wrong_method_is_a_json_405(client):
    response = await client.get("/auth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


async def test_junk_json_on_logout_with_a_valid_token_is_4xx(client):
    await register(client)
    token = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    headers = {**JSON, "Authorization": f"Bearer {token['access_token']}"}
    response = await client.post("/auth/logout", content=b"{junk", headers=headers)
    assert response.status_code == 400


async def test_docs_and_openapi_are_served(client):
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    paths = set(schema["paths"])
    assert {"/auth/register", "/auth/token", "/auth/token/refresh", "/auth/token/verify", "/auth/logout",
            "/auth/me", "/.well-known/jwks.json", "/session/login", "/session/me", "/session/logout",
            "/health"} <= paths
