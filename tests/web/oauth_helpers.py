"""Shared by the ``test_oauth_*`` modules: the introspection client's credentials and the calls."""

from __future__ import annotations

from typing import Any

import httpx

from jwtkit.auth.settings import AuthSettings

from .conftest import FAST_HASHING

CLIENT_ID = "resource-server"
SECRET = "s3cret-s3cret-s3cret-s3cret"
BASIC = httpx.BasicAuth(CLIENT_ID, SECRET)


def oauth_settings(**changes: Any) -> AuthSettings:
    """The tests' settings with introspection on."""
    return AuthSettings(**(FAST_HASHING | {"introspection_client_secret": SECRET} | changes))


async def introspect(client: httpx.AsyncClient, token: str, **form: str) -> dict[str, Any]:
    response = await client.post("/oauth/introspect", data={"token": token, **form}, auth=BASIC)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def revoke(client: httpx.AsyncClient, token: str, **form: str) -> httpx.Response:
    return await client.post("/oauth/revoke", data={"token": token, **form})
