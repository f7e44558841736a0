"""A tiny in-memory stand-in for ``AuthService`` that follows the contract (SERVER_CONTRACT.md):
HS256 tokens, plain dict storage, no hashing. Used only by tests that must provoke faults the real
service cannot (a storage outage, a bug); the behaviour tests run against the real service."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwtkit
from jwtkit.auth.errors import InvalidCredentialsError, InvalidTokenError, UsernameTakenError
from jwtkit.auth.models import Principal, TokenPair, User
from jwtkit.auth.settings import AuthSettings


class FakeService:
    def __init__(self, settings: AuthSettings | None = None) -> None:
        self.settings = settings or AuthSettings()
        self.key = jwtkit.Key.from_secret(secrets.token_bytes(32), kid="fake")
        self.verifier = jwtkit.Verifier(self.key, algorithms=["HS256"], required=["exp", "jti"])
        self.users: dict[str, tuple[User, str]] = {}
        self.sessions: dict[str, User] = {}
        self.closed = False
        self.fail_with: Exception | None = None

    async def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    async def register(self, username: str, password: str, *, client: str | None = None) -> User:
        self._check()
        if username in self.users:
            raise UsernameTakenError()
        user = User(len(self.users) + 1, username)
        self.users[username] = (user, password)
        return user

    def _user(self, username: str, password: str) -> User:
        found = self.users.get(username)
        if found is None or found[1] != password:
            raise InvalidCredentialsError()
        return found[0]

    async def login(self, username: str, password: str, *, client: str, device: str | None = None) -> TokenPair:
        self._check()
        user = self._user(username, password)
        now = int(time.time())
        claims: dict[str, Any] = {"user_id": user.id, "username": user.username, "fid": "f", "exp": now + 300}
        access = jwtkit.encode({**claims, "token_type": "access", "jti": secrets.token_hex(8)}, self.key)
        refresh = jwtkit.encode({**claims, "token_type": "refresh", "jti": secrets.token_hex(8)}, self.key)
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=300)

    def device_cookie(self, username: str) -> str:
        return f"fake-device-{username}"

    def authenticate(self, access_token: str, *, allow_stale: bool = False) -> Principal:
        self._check()
        try:
            claims = self.verifier.verify(access_token)
        except jwtkit.JWTError as exc:
            raise InvalidTokenError(exc.code) from exc
        if claims.get("token_type") != "access":
            raise InvalidTokenError("not an access token")
        return Principal(user_id=claims["user_id"], username=claims["username"], jti=claims["jti"],
                         exp=claims["exp"], family_id=claims["fid"], claims=claims)

    async def session_login(self, username: str, password: str, *, client: str,
                            device: str | None = None) -> tuple[str, int]:
        self._check()
        user = self._user(username, password)
        session_id = secrets.token_urlsafe(32)
        self.sessions[session_id] = user
        return session_id, 1209600

    async def session_user(self, session_id: str) -> User:
        self._check()
        try:
            return self.sessions[session_id]
        except KeyError:
            raise InvalidTokenError("unknown session") from None

    async def session_logout(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": []}

    def start_maintenance(self, *, interval: float) -> None:
        self.maintenance_interval = interval
