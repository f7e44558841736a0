"""``jwtkit.integrations.fastapi.JWTBearer`` in a real FastAPI app: the claims as a dependency,
scopes the FastAPI way, ``auth.optional``, RFC 6750 answers, the OpenAPI scheme, 503 when the
keys cannot be had, and the whole flow against a real ``jwtkit serve``.

No ``from __future__ import annotations``: the routes' ``Annotated`` dependencies name a local.
"""

import inspect
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Security
from fastapi.dependencies.utils import get_dependant

import jwtkit
from jwks.server import FakeClock, JWKSServer
from jwtkit.integrations.fastapi import JWTBearer

from .issuer import Issuer, bearer, signed

pytestmark = pytest.mark.anyio


def app_with(auth: JWTBearer) -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(claims: Annotated[dict[str, Any], Depends(auth)]) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    @app.get("/items")
    async def items(claims: Annotated[dict[str, Any], Security(auth, scopes=["items:read"])]) -> dict[str, Any]:
        return {"items": [], "sub": claims["sub"]}

    @app.get("/hello")
    async def hello(claims: Annotated[dict[str, Any] | None, Depends(auth.optional)]) -> dict[str, Any]:
        return {"who": claims["sub"] if claims else None}

    @app.get("/open")
    async def open_route() -> dict[str, Any]:
        return {"ok": True}

    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


@pytest.fixture
def http(key: jwtkit.Key) -> httpx.AsyncClient:
    return client_for(app_with(JWTBearer(key=key.public_key(), algorithms=["ES256"])))


async def test_a_valid_access_token_gives_the_route_its_claims(http, key):
    answer = await http.get("/me", headers=bearer(signed(key)))
    assert answer.status_code == 200
    assert answer.json() == {"sub": "alice"}


async def test_no_token_is_a_401_with_a_bare_bearer_challenge(http):
    answer = await http.get("/me")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_another_scheme_counts_as_no_token(http):
    answer = await http.get("/me", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer a b"])
async def test_a_bearer_header_without_one_token_is_a_401_invalid_token(http, header):
    answer = await http.get("/me", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_the_scheme_name_is_case_insensitive(http, key):
    assert (await http.get("/me", headers={"Authorization": f"bEaReR {signed(key)}"})).status_code == 200


async def test_a_forged_token_is_a_401_invalid_token(http):
    forged = signed(jwtkit.Key.generate("ES256", kid="k1"))
    answer = await http.get("/me", headers=bearer(forged))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token is not valid."')


async def test_an_expired_token_says_it_expired(http, key):
    answer = await http.get("/me", headers=bearer(signed(key, exp=1_000_000_000)))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert answer.json()["detail"] == "The access token has expired."


async def test_a_refresh_token_is_never_a_bearer_credential(http, key):
    answer = await http.get("/me", headers=bearer(signed(key, token_type="refresh")))
    assert answer.status_code == 401
    assert answer.json()["detail"] == "This is not an access token."


async def test_a_token_without_token_type_is_accepted(http, key):
    assert (await http.get("/me", headers=bearer(signed(key, token_type=None)))).status_code == 200


async def test_a_token_without_exp_is_refused(http, key):
    assert (await http.get("/me", headers=bearer(signed(key, exp=None)))).status_code == 401


async def test_security_scopes_from_a_space_separated_scope_claim(http, key):
    answer = await http.get("/items", headers=bearer(signed(key, scope="profile items:read")))
    assert answer.status_code == 200


async def test_security_scopes_from_an_scp_list(http, key):
    answer = await http.get("/items", headers=bearer(signed(key, scp=["items:read"])))
    assert answer.status_code == 200


async def test_a_missing_scope_is_a_403_insufficient_scope_naming_it(http, key):
    answer = await http.get("/items", headers=bearer(signed(key, scope="profile")))
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope", scope="items:read"')


async def test_optional_gives_none_without_a_token(http):
    answer = await http.get("/hello")
    assert answer.json() == {"who": None}


async def test_optional_gives_the_claims_with_a_token(http, key):
    answer = await http.get("/hello", headers=bearer(signed(key)))
    assert answer.json() == {"who": "alice"}


async def test_optional_still_refuses_a_bad_token(http, key):
    answer = await http.get("/hello", headers=bearer(signed(key, exp=1_000_000_000)))
    assert answer.status_code == 401


async def test_audience_and_issuer_are_checked(key):
    http = client_for(app_with(JWTBearer(key=key.public_key(), algorithms=["ES256"],
                                         audience="api", issuer="https://auth.example")))
    good = signed(key, aud="api", iss="https://auth.example")
    assert (await http.get("/me", headers=bearer(good))).status_code == 200
    assert (await http.get("/me", headers=bearer(signed(key, aud="other", iss="https://auth.example")))).status_code \
        == 401
    assert (await http.get("/me", headers=bearer(signed(key, aud="api", iss="https://evil")))).status_code == 401


async def test_the_openapi_schema_has_one_bearer_scheme_that_docs_can_authorize_with(http):
    schema = (await http.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"] == {
        "JWTBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    assert schema["paths"]["/me"]["get"]["security"] == [{"JWTBearer": []}]
    assert schema["paths"]["/items"]["get"]["security"] == [{"JWTBearer": ["items:read"]}]
    assert "security" not in schema["paths"]["/open"]["get"]


async def test_keys_from_a_jwks_url(jwks_server: JWKSServer, key):
    http = client_for(app_with(JWTBearer(jwks_url=jwks_server.url, algorithms=["ES256"])))
    for _ in range(3):
        assert (await http.get("/me", headers=bearer(signed(key)))).status_code == 200
    assert jwks_server.fetches == 1


async def test_a_remembered_token_is_refused_once_the_issuer_dropped_its_key(jwks_server: JWKSServer, key):
    clock = FakeClock()
    http = client_for(app_with(JWTBearer(key=jwtkit.AsyncJWKSClient(jwks_server.url, clock=clock),
                                         algorithms=["ES256"])))
    token = signed(key)
    assert [(await http.get("/me", headers=bearer(token))).status_code for _ in range(3)] == [200] * 3
    jwks_server.publish(jwtkit.Key.generate("ES256", kid="k2"))
    clock.advance(301)
    assert (await http.get("/me", headers=bearer(token))).status_code == 401


async def test_no_keys_to_be_had_is_a_503_with_retry_after(jwks_server: JWKSServer, key):
    jwks_server.mode = "500"
    http = client_for(app_with(JWTBearer(jwks_url=jwks_server.url, algorithms=["ES256"])))
    answer = await http.get("/me", headers=bearer(signed(key)))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"
    assert "www-authenticate" not in answer.headers


@pytest.mark.parametrize("which", ["required", "optional"])
def test_the_dependency_is_one_async_call_without_sub_dependencies(key, which):
    # What keeps FastAPI's per-request work at its floor: no HTTPBearer (or any) sub-dependency to
    # solve first, nothing to validate (only Request and SecurityScopes, handed over as they are),
    # and a coroutine, so FastAPI awaits it instead of sending it to its threadpool.
    auth = JWTBearer(key=key.public_key(), algorithms=["ES256"])
    dependency = auth if which == "required" else auth.optional

    async def route(claims: Annotated[Any, Security(dependency, scopes=["items:read"])]) -> None: ...

    [solved] = get_dependant(path="/items", call=route).dependencies
    assert solved.call is dependency
    assert solved.dependencies == []
    assert (solved.request_param_name, solved.security_scopes_param_name) == ("request", "security_scopes")
    params = (solved.path_params, solved.query_params, solved.header_params, solved.cookie_params, solved.body_params)
    assert params == ([], [], [], [], [])
    assert inspect.iscoroutinefunction(type(dependency).__call__)


@pytest.mark.parametrize("kwargs", [
    {}, {"jwks_url": "https://a.example/jwks", "key": "k"}, {"key": "not a key"},
])
def test_misuse_is_refused_when_built(kwargs):
    with pytest.raises(TypeError):
        JWTBearer(algorithms=["ES256"], **kwargs)


def test_plain_http_jwks_url_to_another_host_is_refused_when_built():
    with pytest.raises(ValueError, match="https"):
        JWTBearer(jwks_url="http://auth.example/jwks", algorithms=["ES256"])


@pytest.mark.slow
async def test_against_a_real_jwtkit_serve(issuer: Issuer):
    clock = FakeClock()
    keys = jwtkit.AsyncJWKSClient(issuer.jwks_url, clock=clock)
    http = client_for(app_with(JWTBearer(key=keys, algorithms=["ES256"])))
    pair = issuer.login()
    assert (await http.get("/me", headers=bearer(pair["access_token"]))).json() == {"sub": "1"}
    assert (await http.get("/me", headers=bearer(pair["refresh_token"]))).status_code == 401
    issuer.logout(pair)
    # Stateless, as any resource server verifying JWTs: the access token lives to its exp here;
    # the issuer has revoked the refresh token, so no new one comes.
    assert (await http.get("/me", headers=bearer(pair["access_token"]))).status_code == 200
    issuer.rotate_keys()
    rotated = issuer.login()
    assert (await http.get("/me", headers=bearer(rotated["access_token"]))).status_code == 200
    issuer.stop()
    clock.advance(3600)  # the cache expired, and the issuer is down: the last good keys serve
    assert (await http.get("/me", headers=bearer(rotated["access_token"]))).status_code == 200
    assert (await http.get("/me", headers=bearer(pair["access_token"]))).status_code == 200
