"""POST /auth/token: JSON or the OAuth 2 password form -> a pair; one 401 for unknown user and wrong
password; 429 with Retry-After after repeated failures (per username and per client)."""

import contextlib

import httpx
import pytest

import jwtkit
from jwtkit.auth.settings import AuthSettings
from jwtkit.web.credentials import client_bucket
from jwtkit.web.schemas import TokenPairOut

from .conftest import FAST_HASHING, PASSWORD, WITH_POSTGRESQL, bearer, register

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL


async def test_login_with_json_returns_a_bearer_pair(client, settings):
    await register(client)
    response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_ttl
    assert response.headers["cache-control"] == "no-store"


async def test_a_refresh_answers_the_pair_as_compact_json_that_no_cache_keeps(client, settings):
    # the refresh answer is built as bytes, not by the response model: it must be what the model would give
    await register(client)
    pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    response = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 200
    body = response.json()
    assert response.content == TokenPairOut(**body).model_dump_json().encode()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_ttl
    assert body["refresh_token"] != pair["refresh_token"]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_login_with_the_oauth2_password_form_returns_a_pair(client):
    await register(client)
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def test_a_form_with_another_grant_type_is_400_unsupported_grant_type(client):
    # RFC 6749 §5.2
    await register(client)
    form = {"grant_type": "client_credentials", "username": "alice", "password": PASSWORD}
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_access_token_carries_the_issue_3_claims_and_a_kid(client):
    user = await register(client)
    pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    header, claims = jwtkit.decode_unverified(pair["access_token"])
    assert header["kid"]
    assert claims["token_type"] == "access"
    assert claims["user_id"] == user["id"]
    assert {"exp", "iat", "jti"} <= set(claims)
    _, refresh_claims = jwtkit.decode_unverified(pair["refresh_token"])
    assert refresh_claims["token_type"] == "refresh"
    assert refresh_claims["jti"] != claims["jti"]
    assert refresh_claims["fid"]


async def test_each_login_issues_unique_jtis(client):
    await register(client)
    jtis = set()
    for _ in range(3):
        pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
        jtis.add(jwtkit.decode_unverified(pair["access_token"])[1]["jti"])
    assert len(jtis) == 3


async def test_unknown_user_and_wrong_password_get_the_same_401(client):
    await register(client)
    unknown = await client.post("/auth/token", json={"username": "mallory", "password": PASSWORD})
    wrong = await client.post("/auth/token", json={"username": "alice", "password": "wrong password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert unknown.json()["error"] == "invalid_credentials"
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]
    assert unknown.headers["www-authenticate"].startswith("Bearer")


async def test_login_tokens_work_on_auth_me(client):
    await register(client)
    pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


class TestThrottling:
    @pytest.fixture
    def settings(self):
        return AuthSettings(**FAST_HASHING, login_max_failures=3, login_max_failures_per_client=5, login_window=60)

    async def _fail(self, client, username="alice", n=1):
        for _ in range(n):
            await client.post("/auth/token", json={"username": username, "password": "wrong password"})

    async def test_repeated_failures_for_one_username_are_429_with_retry_after(self, client):
        await register(client)
        await self._fail(client, n=3)
        response = await client.post("/auth/token", json={"username": "alice", "password": "wrong password"})
        assert response.status_code == 429
        assert response.json()["error"] == "throttled"
        assert 1 <= int(response.headers["retry-after"]) <= 60

    async def test_while_throttled_even_the_right_password_is_refused(self, client):
        await register(client)
        await self._fail(client, n=3)
        response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 429

    async def test_throttling_ends_when_the_window_slides_past(self, client, clock):
        await register(client)
        await self._fail(client, n=3)
        clock.advance(61)
        response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200

    async def test_one_client_failing_over_many_usernames_is_throttled(self, client):
        await register(client)
        for i in range(5):
            await self._fail(client, username=f"user{i}")
        response = await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1

    async def test_session_login_shares_the_throttle(self, client):
        await register(client)
        await self._fail(client, n=3)
        response = await client.post("/session/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 429
        assert "retry-after" in response.headers


class TestThrottlingByAddress:
    """Per-address throttling counts an IPv6 client by its /64 (one host holds a whole /64)."""

    @pytest.fixture
    def settings(self):
        return AuthSettings(**FAST_HASHING, login_max_failures=100, login_max_failures_per_client=3,
                            login_window=60)

    @contextlib.asynccontextmanager
    async def from_address(self, app, host):
        transport = httpx.ASGITransport(app=app, client=(host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    async def fail_from(self, app, host):
        async with self.from_address(app, host) as http:
            response = await http.post("/auth/token", json={"username": f"u-{host}", "password": "wrong password"})
            assert response.status_code in (401, 429)

    async def login_status_from(self, app, host):
        async with self.from_address(app, host) as http:
            response = await http.post("/auth/token", json={"username": "alice", "password": PASSWORD})
            return response.status_code

    async def test_addresses_of_one_ipv6_64_share_a_throttle(self, app, client):
        await register(client)
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
            await self.fail_from(app, host)
        assert await self.login_status_from(app, "2001:db8:1:2:abcd::9") == 429

    async def test_another_ipv6_64_is_not_throttled(self, app, client):
        await register(client)
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3"):
            await self.fail_from(app, host)
        assert await self.login_status_from(app, "2001:db8:1:3::1") == 200

    async def test_ipv4_addresses_are_counted_one_by_one(self, app, client):
        await register(client)
        for host in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            await self.fail_from(app, host)
        assert await self.login_status_from(app, "192.0.2.4") == 200


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("unknown", "unknown"),
    ],
)
def test_client_addresses_are_bucketed_ipv6_by_64(host, bucket):
    assert client_bucket(host) == bucket



async def test_the_readme_explains_every_claim_of_the_issued_tokens(client):
    # the README's claims table is the documentation of the token format: it must not fall behind
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### The claims of the issued tokens", 1)[1].split("\n### ", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    await register(client)
    pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    issued = set()
    for token in (pair["access_token"], pair["refresh_token"]):
        issued |= set(jwtkit.decode_unverified(token)[1])
    assert issued - documented == set()
    assert {"sub", "iss", "aud"} <= documented
