"""Against a real ``jwtkit serve --access-token-profile rfc9068`` process, with the introspection
secret in its environment: an ``httpx`` client authenticates with HTTP Basic (``httpx.BasicAuth``)
to introspect, revokes, reads the RFC 8414 metadata; the secret never reaches the log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import jwtkit

from .conftest import PASSWORD
from .oauth_helpers import CLIENT_ID, SECRET
from .processes import clean_env, jwtkit_serve

pytestmark = pytest.mark.slow
ISSUER = "https://auth.example"


def test_introspect_and_revoke_over_http_with_httpx_client_auth(tmp_path: Path) -> None:
    env = clean_env(JWTKIT_INTROSPECTION_CLIENT_SECRET=SECRET)
    args = ("--database", "memory://", "--access-token-profile", "rfc9068", "--issuer", ISSUER,
            "--audience", "https://api.example", "--introspection-client-id", CLIENT_ID)
    with jwtkit_serve(tmp_path / "server.log", *args, env=env) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
        pair = http.post("/auth/token", data={"grant_type": "password", "username": "alice",
                                              "password": PASSWORD}).json()
        assert jwtkit.decode_unverified(pair["access_token"])[0]["typ"] == "at+jwt"

        meta = http.get("/.well-known/oauth-authorization-server").json()
        assert meta["issuer"] == ISSUER
        assert meta["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"
        introspect_url = meta["introspection_endpoint"].replace(ISSUER, server.url)  # no proxy in front here

        auth = httpx.BasicAuth(CLIENT_ID, SECRET)
        answer = http.post(introspect_url, data={"token": pair["access_token"]}, auth=auth).json()
        assert answer["active"] is True
        assert answer["client_id"] == "jwtkit"
        refused = http.post(introspect_url, data={"token": pair["access_token"]},
                            auth=httpx.BasicAuth(CLIENT_ID, "wrong"))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")

        assert http.post("/oauth/revoke", data={"token": pair["refresh_token"],
                                                "token_type_hint": "refresh_token"}).status_code == 200
        assert http.post(introspect_url, data={"token": pair["access_token"]}, auth=auth).json() == {"active": False}
        assert http.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 401
        log = server.log_text()
    assert "introspection for client resource-server" in log
    assert SECRET not in log
