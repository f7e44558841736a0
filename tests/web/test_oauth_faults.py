"""The OAuth endpoints when things fail: a stale revocation feed or storage down is 503
``temporarily_unavailable`` with ``Retry-After`` (never a guessed ``active``), revoking works while
only the feed is stale, and client secrets that need form-urlencoding in HTTP Basic."""

import base64
import contextlib
from urllib.parse import quote_plus

import httpx
import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.service import AuthService
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

from .conftest import PASSWORD, serve
from .oauth_helpers import BASIC, CLIENT_ID, oauth_settings

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def alice(**changes):
    """``(client, stores, alice's pair)`` on a real service over memory stores."""
    stores = await open_stores("memory://")
    service = await AuthService.open(oauth_settings(**changes), stores)

    async def factory():
        return service

    async with serve(create_app(factory, maintenance_interval=None)) as client:
        await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        pair = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
        yield client, stores, pair


def assert_unavailable(response):
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_a_stale_feed_is_503_on_introspection_but_revocation_works():
    async with alice() as (client, stores, pair):
        stores.feed.is_fresh = lambda max_staleness: False
        assert_unavailable(await client.post("/oauth/introspect", data={"token": pair["access_token"]}, auth=BASIC))
        assert (await client.post("/oauth/revoke", data={"token": pair["refresh_token"]})).status_code == 200
        stores.feed.is_fresh = lambda max_staleness: True
        answer = await client.post("/oauth/introspect", data={"token": pair["access_token"]}, auth=BASIC)
        assert answer.json() == {"active": False}


async def test_storage_down_is_503_on_both(monkeypatch):
    async with alice() as (client, stores, pair):
        async def down(*args, **kwargs):
            raise ServiceUnavailableError()

        monkeypatch.setattr(stores.tokens, "revoke", down)
        monkeypatch.setattr(stores.tokens, "get_refresh", down)
        assert_unavailable(await client.post("/oauth/revoke", data={"token": pair["refresh_token"]}))
        assert_unavailable(await client.post("/oauth/introspect", data={"token": pair["refresh_token"]}, auth=BASIC))


@pytest.mark.parametrize("encode", [lambda value: value, quote_plus])
async def test_a_secret_with_reserved_characters_works_as_sent_or_form_urlencoded(encode):
    secret = "a+b%20c:d/e=f&g hij"
    async with alice(introspection_client_secret=secret) as (client, _, pair):
        raw = f"{encode(CLIENT_ID)}:{encode(secret)}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        response = await client.post("/oauth/introspect", data={"token": pair["access_token"]}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["active"] is True
        wrong = await client.post("/oauth/introspect", data={"token": pair["access_token"]},
                                  auth=httpx.BasicAuth(CLIENT_ID, secret[:-1]))
        assert wrong.status_code == 401
