"""The OpenAPI description says what the API does: the OAuth 2 password flow (so
Swagger's "Authorize" logs in), the bearer and cookie schemes, stable operation ids with one
summary each, and the error answers each operation really gives, in their real shape."""

import json

import pytest

from .conftest import PASSWORD, register

pytestmark = pytest.mark.anyio

OPERATION_IDS = {
    ("get", "/health"): "health",
    ("get", "/health/ready"): "ready",
    ("get", "/.well-known/jwks.json"): "jwks",
    ("get", "/auth/me"): "getMe",
    ("post", "/auth/register"): "register",
    ("post", "/auth/token"): "issueToken",
    ("post", "/auth/token/refresh"): "refreshToken",
    ("post", "/auth/token/verify"): "verifyToken",
    ("post", "/auth/logout"): "logout",
    ("post", "/auth/password"): "changePassword",
    ("get", "/session/me"): "sessionMe",
    ("post", "/session/login"): "sessionLogin",
    ("post", "/session/logout"): "sessionLogout",
    ("post", "/oauth/revoke"): "revokeToken",
    ("post", "/oauth/introspect"): "introspectToken",
    ("get", "/.well-known/oauth-authorization-server"): "authorizationServerMetadata",
}


@pytest.fixture
def backend():
    return "memory"


@pytest.fixture
async def schema(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    return {(method, path): op for path, ops in schema["paths"].items() for method, op in ops.items()}


async def test_the_password_flow_points_at_the_token_endpoint(schema):
    scheme = schema["components"]["securitySchemes"]["OAuth2Password"]
    assert scheme["type"] == "oauth2"
    token_url = scheme["flows"]["password"]["tokenUrl"]
    assert token_url == "/auth/token"
    assert "post" in schema["paths"][token_url]


async def test_bearer_stays_and_the_session_cookie_is_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerJWT"] == {**schemes["BearerJWT"], "type": "http", "scheme": "bearer"}
    assert schemes["SessionCookie"] == {**schemes["SessionCookie"], "type": "apiKey", "in": "cookie",
                                        "name": "sessionid"}


async def test_token_operations_accept_either_bearer_scheme_and_session_ones_the_cookie(schema):
    ops = operations(schema)
    for key in [("get", "/auth/me"), ("post", "/auth/logout"), ("post", "/auth/password")]:
        assert ops[key]["security"] == [{"OAuth2Password": []}, {"BearerJWT": []}]
    for key in [("get", "/session/me"), ("post", "/session/logout")]:
        assert ops[key]["security"] == [{"SessionCookie": []}]


async def test_what_swagger_authorize_posts_logs_in(client):
    await register(client)
    response = await client.post("/auth/token", data={"grant_type": "password", "username": "alice",
                                                      "password": PASSWORD, "scope": ""})
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def test_operation_ids_are_stable_and_each_operation_has_one_summary(schema):
    ops = operations(schema)
    assert {key: op["operationId"] for key, op in ops.items()} == OPERATION_IDS
    assert all(isinstance(op.get("summary"), str) and op["summary"] for op in ops.values())


async def test_no_error_is_documented_in_fastapis_shape(schema):
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text
    assert '"detail"' not in text


async def test_every_error_answer_is_documented_as_error_out(schema):
    for (_, path), op in operations(schema).items():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                oauth = path.startswith("/oauth/") and status not in ("404", "413")  # RFC 6749 §5.2 bodies
                assert ref == "#/components/schemas/" + ("OAuthErrorOut" if oauth else "ErrorOut")
    fields = schema["components"]["schemas"]["ErrorOut"]["properties"]
    assert {"error", "message", "fields"} <= set(fields)


async def test_challenges_and_retry_after_are_declared_with_their_statuses(schema):
    for op in operations(schema).values():
        responses = op["responses"]
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"]
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in responses[status]["headers"]


async def test_refresh_documents_both_bodies(schema):
    body = schema["paths"]["/auth/token/refresh"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
    form = body["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grant_type"]["enum"] == ["refresh_token"]


async def test_the_token_endpoint_documents_the_password_and_the_refresh_grant_forms(schema):
    body = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    forms = body["application/x-www-form-urlencoded"]["schema"]["oneOf"]
    assert [form["properties"]["grant_type"]["enum"] for form in forms] == [["password"], ["refresh_token"]]
    assert [form["required"] for form in forms] == [["username", "password"], ["grant_type", "refresh_token"]]
    assert body["application/json"]["schema"]["required"] == ["username", "password"]


async def test_session_login_documents_the_password_form_alone(schema):
    form = schema["paths"]["/session/login"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"]["properties"]["grant_type"]["enum"] == ["password"]


JSON = {"Content-Type": "application/json"}
# (method, path, request, the status the server answers): each must be documented on its operation
REAL_ERRORS = [
    ("post", "/auth/register", {"content": b"{junk", "headers": JSON}, 400),
    ("post", "/auth/register", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
    ("post", "/auth/register", {"json": {"username": "alice"}}, 422),
    ("post", "/auth/register", {"content": b"x" * 70_000, "headers": JSON}, 413),
    ("post", "/auth/register", {"json": {"username": "alice", "password": PASSWORD}}, 409),
    ("post", "/auth/token", {"json": {"username": "alice", "password": "wrong password"}}, 401),
    ("post", "/auth/token", {"data": {"grant_type": "client_credentials"}}, 400),
    ("post", "/auth/token/refresh", {"json": {"refresh_token": "junk"}}, 401),
    ("post", "/auth/token/refresh", {"json": {}}, 422),
    ("post", "/auth/token/verify", {"content": b"{junk", "headers": JSON}, 400),
    ("post", "/auth/logout", {"json": {"refresh_token": "junk"}}, 401),
    ("get", "/auth/me", {}, 401),
    ("post", "/auth/password", {"json": {"current_password": PASSWORD, "new_password": "another password"}}, 401),
    ("get", "/session/me", {}, 401),
    ("post", "/session/login", {"data": {"username": "alice", "password": PASSWORD},
                                "headers": {"Origin": "https://evil.example"}}, 403),
    ("post", "/session/logout", {}, 401),
]


@pytest.mark.parametrize(("method", "path", "request_kwargs", "status"), REAL_ERRORS)
async def test_real_error_answers_are_documented_in_their_real_shape(client, schema, method, path, request_kwargs,
                                                                     status):
    await register(client)
    response = await client.request(method.upper(), path, **request_kwargs)
    assert response.status_code == status, response.text
    assert str(status) in operations(schema)[(method, path)]["responses"]
    body = response.json()
    assert set(body) <= {"error", "message", "fields", "expired_at"}
    assert isinstance(body["error"], str)
    assert isinstance(body["message"], str)
    if status == 422:
        assert all(set(field) == {"field", "reason"} for field in body["fields"])
    if status == 401:
        assert "www-authenticate" in response.headers
