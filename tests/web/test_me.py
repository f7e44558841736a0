"""GET /auth/me: 200 {id, username} for a live access token; 401 with an RFC 6750 challenge otherwise.
A refresh token is never accepted as an access token."""

import asyncio

import pytest

import jwtkit
from jwtkit.web import deps
from jwtkit.web.batching import LoopBatch

from .conftest import bearer, login, register

pytestmark = pytest.mark.anyio

GENERIC = "The token is not valid: log in again"
CHALLENGE = f'Bearer realm="jwtkit", error="invalid_token", error_description="{GENERIC}"'


async def test_me_answers_the_tokens_user(client):
    user = await register(client)
    pair = await login(client)
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"id": user["id"], "username": "alice"}


async def test_me_answers_compact_json_as_jsonresponse_would(client):
    user = await register(client)
    pair = await login(client)
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.content == f'{{"id":{user["id"]},"username":"alice"}}'.encode()
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))


async def test_of_two_authorization_headers_the_first_counts(client):
    await register(client)
    token = (await login(client))["access_token"]
    first_good = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x.y.z")]
    assert (await client.get("/auth/me", headers=first_good)).status_code == 200
    first_bad = [("Authorization", "Bearer x.y.z"), ("Authorization", f"Bearer {token}")]
    assert (await client.get("/auth/me", headers=first_bad)).status_code == 401


async def test_the_bearer_scheme_name_is_case_insensitive(client):
    await register(client)
    token = (await login(client))["access_token"]
    response = await client.get("/auth/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


async def test_without_credentials_the_challenge_carries_no_error_code(client):
    # RFC 6750 §3.1: a request without credentials gets the bare challenge
    response = await client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="jwtkit"'
    assert response.json()["error"] == "missing_credentials"


async def test_another_scheme_is_treated_as_no_credentials(client):
    response = await client.get("/auth/me", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="jwtkit"'


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.",
        "Bearer " + "A" * 100_000,
        "Bearer \x00\x01\x02",
        "Bearer ÿþý",
    ],
)
async def test_a_bad_token_is_401_invalid_token_with_a_generic_description(client, authorization):
    response = await client.get("/auth/me", headers={"Authorization": authorization.encode("latin-1")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.json() == {"error": "invalid_token", "message": GENERIC}


async def test_a_refresh_token_is_not_an_access_token(client):
    await register(client)
    pair = await login(client)
    response = await client.get("/auth/me", headers=bearer(pair["refresh_token"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_an_expired_access_token_is_401(client, clock, settings):
    await register(client)
    pair = await login(client)
    clock.advance(settings.access_ttl + 1)
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token", error_description="The token expired at ' in response.headers["www-authenticate"]


async def test_tampered_forged_and_expired_forged_tokens_get_identical_answers(client, clock, settings):
    # an expired token is told so (test_token_failures.py), but only once its signature verified
    await register(client)
    token = (await login(client))["access_token"]
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    forged = jwtkit.encode(jwtkit.decode_unverified(token)[1], jwtkit.Key.generate("ES256", kid="evil"))
    answers = []
    for bad in (tampered, forged):
        answers.append(await client.get("/auth/me", headers=bearer(bad)))
    clock.advance(settings.access_ttl + 1)
    answers.append(await client.get("/auth/me", headers=bearer(forged)))
    assert {a.status_code for a in answers} == {401}
    assert len({(a.content, a.headers["www-authenticate"]) for a in answers}) == 1


async def test_a_token_signed_by_a_foreign_key_with_our_kid_is_refused(client):
    await register(client)
    token = (await login(client))["access_token"]
    header, claims = jwtkit.decode_unverified(token)
    forged = jwtkit.encode(claims, jwtkit.Key.generate("ES256", kid=header["kid"]))
    assert (await client.get("/auth/me", headers=bearer(forged))).status_code == 401


async def test_openapi_marks_auth_me_as_bearer_protected(client):
    schema = (await client.get("/openapi.json")).json()
    # either scheme: the OAuth 2 password flow (Swagger's Authorize) or a pasted token (test_openapi.py)
    assert {"BearerJWT": []} in schema["paths"]["/auth/me"]["get"]["security"]
    assert schema["components"]["securitySchemes"]["BearerJWT"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token from POST /auth/token or POST /auth/token/refresh.",
    }


async def test_openapi_documents_401_and_the_retryable_503_of_auth_me(client):
    responses = (await client.get("/openapi.json")).json()["paths"]["/auth/me"]["get"]["responses"]
    assert {"200", "401", "503"} <= set(responses)
    assert "retry" in responses["503"]["description"].lower()


@pytest.mark.parametrize("username", ["alice", "zoë", 'quo"te', "back\\slash", "tab\there", "line\u2028sep", "😀"])
def test_me_renders_any_username_as_jsonresponse_would(username):
    from fastapi.responses import JSONResponse

    from jwtkit.web.tokens import UserJSON

    expected = JSONResponse({"id": 12345678901234, "username": username})
    answer = UserJSON(12345678901234, username)
    assert answer.body == expected.body
    assert answer.raw_headers == expected.raw_headers
    assert (answer.status_code, answer.background) == (200, None)


# ---- signature checks of requests that arrive together run together (jwtkit.web.batching)


async def test_concurrent_requests_with_new_tokens_each_get_their_own_user(client):
    tokens = {}
    for name in ("alice", "bob", "carol"):
        await register(client, name)
        tokens[name] = (await login(client, name))["access_token"]
    head, payload, signature = tokens["bob"].split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    answers = await asyncio.gather(*(client.get("/auth/me", headers=bearer(t)) for t in [*tokens.values(), tampered]))
    assert [a.json().get("username") for a in answers[:3]] == ["alice", "bob", "carol"]
    assert answers[3].status_code == 401


async def test_an_expired_token_checked_together_with_a_live_one_is_still_told_its_expiry(client, clock, settings):
    await register(client, "alice")
    await register(client, "bob")
    expired = (await login(client, "alice"))["access_token"]
    clock.advance(settings.access_ttl + 1)
    live = (await login(client, "bob"))["access_token"]
    gone, here = await asyncio.gather(client.get("/auth/me", headers=bearer(expired)),
                                      client.get("/auth/me", headers=bearer(live)))
    assert here.status_code == 200
    assert gone.status_code == 401
    assert 'error_description="The token expired at ' in gone.headers["www-authenticate"]


async def test_a_token_whose_signature_is_remembered_is_not_queued_for_a_check(client, monkeypatch):
    queued = []

    class Spy(LoopBatch):
        def run(self, fn):
            queued.append(fn)
            return super().run(fn)

    monkeypatch.setattr(deps, "_checks", Spy())
    await register(client)
    token = (await login(client))["access_token"]
    for _ in range(3):
        assert (await client.get("/auth/me", headers=bearer(token))).status_code == 200
    assert len(queued) == 1
