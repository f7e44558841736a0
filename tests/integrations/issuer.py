"""What the integration tests need from an issuer: tokens signed by a test key, and a real
``jwtkit serve`` process to log in, log out and rotate keys on (its JWKS is the real one)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

import jwtkit
from support.constants import PASSWORD
from web.processes import Server, jwtkit_serve, run_jwtkit, stop


def signed(key: jwtkit.Key, **claims: Any) -> str:
    """An access token for ``alice`` signed by ``key``, valid for a long time; ``claims`` add to
    or (with None) remove from the defaults."""
    base: dict[str, Any] = {"sub": "alice", "token_type": "access", "exp": 4_000_000_000}
    base.update(claims)
    return jwtkit.encode({name: value for name, value in base.items() if value is not None}, key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Issuer:
    """A running ``jwtkit serve`` on an SQLite file, with ``alice`` registered."""

    def __init__(self, server: Server, database: Path) -> None:
        self.server = server
        url = self.url = server.url
        self.jwks_url = url + "/.well-known/jwks.json"
        self.database = database
        self.http = httpx.Client(base_url=url, timeout=30)

    def login(self) -> dict[str, Any]:
        answer = self.http.post("/auth/token", json={"username": "alice", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        pair: dict[str, Any] = answer.json()
        return pair

    def logout(self, pair: dict[str, Any]) -> None:
        answer = self.http.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                                headers=bearer(pair["access_token"]))
        assert answer.status_code == 204, answer.text

    def stop(self) -> None:
        """The issuer goes down: its JWKS refuses connections from now on."""
        self.http.close()
        stop(self.server.process)

    def rotate_keys(self) -> None:
        """``jwtkit keys rotate`` on the server's database; wait until the server signs with the new key."""
        before = {key["kid"] for key in self.http.get("/.well-known/jwks.json").json()["keys"]}
        run_jwtkit("keys", "rotate", "--database", f"sqlite:///{self.database}")
        for _ in range(200):
            now = {key["kid"] for key in self.http.get("/.well-known/jwks.json").json()["keys"]}
            if now - before:
                return
            time.sleep(0.05)
        raise AssertionError("the server never published the rotated key")


@contextlib.contextmanager
def running_issuer(tmp_path: Path) -> Iterator[Issuer]:
    database = tmp_path / "issuer.sqlite3"
    with jwtkit_serve(tmp_path / "issuer.log", "--database", f"sqlite:///{database}") as server:
        issuer = Issuer(server, database)
        try:
            answer = issuer.http.post("/auth/register", json={"username": "alice", "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            yield issuer
        finally:
            issuer.http.close()
