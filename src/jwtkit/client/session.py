"""The sans-I/O core of :class:`~jwtkit.client.TokenAuth`: what the client holds, when it must
renew, the renewal request, and what an answer of the token endpoint means. No locks and no
sending here; ``auth.py`` drives it from httpx's sync and async auth flows."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx

from jwtkit.core.tokens import decode_unverified
from jwtkit.errors import JWTError

from .errors import LoginFailedError, SessionEndedError, TokenEndpointError

__all__ = ["Session", "TokenPair"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    """Tokens the server issued (what ``on_tokens`` receives: persist ``refresh_token``).

    ``renew_at`` is when (by the client's clock) ``TokenAuth`` refreshes them before a request.
    """

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str = dataclasses.field(repr=False)
    renew_at: float


@dataclass(frozen=True, slots=True)
class _State:
    tokens: TokenPair | None
    generation: int  # bumped by every renewal: "did anyone renew since I sent my request?"
    ended: SessionEndedError | None = None


class Session:
    """The client's tokens and credentials. Readers see one immutable snapshot (:meth:`snapshot`);
    :meth:`accept` replaces it whole. The caller serializes renewals (one at a time)."""

    def __init__(self, *, token_url: str, refresh_url: str, credentials: tuple[str, str] | None,
                 refresh_token: str | None, margin: float, on_tokens: Callable[[TokenPair], object] | None) -> None:
        self._token_url = token_url
        self._refresh_url = refresh_url
        self._credentials = credentials
        self._initial_refresh = refresh_token
        self._margin = margin
        self._on_tokens = on_tokens
        self._state = _State(tokens=None, generation=0)

    @property
    def tokens(self) -> TokenPair | None:
        return self._state.tokens

    def snapshot(self) -> tuple[TokenPair | None, int]:
        """The current tokens and generation.

        Raises:
            SessionEndedError: the server refused the refresh token earlier.
        """
        state = self._state
        if state.ended is not None:  # a new instance each time: threads must not share one traceback
            raise SessionEndedError(str(state.ended), status=state.ended.status)
        return state.tokens, state.generation

    def needs_renewal(self, now: float) -> bool:
        tokens, _ = self.snapshot()
        return tokens is None or now >= tokens.renew_at

    def renewal_request(self, original: httpx.Request) -> tuple[httpx.Request, bool]:
        """The login (no tokens yet, credentials given; ``True``) or refresh request (``False``),
        with the timeouts of the request that needed it. Never carries the client's headers or cookies."""
        extensions = {"timeout": original.extensions["timeout"]} if "timeout" in original.extensions else {}
        tokens, _ = self.snapshot()
        if tokens is None and self._credentials is not None:
            username, password = self._credentials
            return httpx.Request("POST", self._token_url, json={"username": username, "password": password},
                                 extensions=extensions), True
        refresh_token = tokens.refresh_token if tokens is not None else self._initial_refresh
        assert refresh_token is not None  # TokenAuth checks one of the two was given
        return httpx.Request("POST", self._refresh_url, json={"refresh_token": refresh_token},
                             extensions=extensions), False

    def accept(self, response: httpx.Response, *, login: bool, now: float) -> TokenPair:
        """Take the (read) answer to :meth:`renewal_request`: store the new pair, forget the
        password, call ``on_tokens``.

        Raises:
            LoginFailedError: the login was refused.
            SessionEndedError: the refresh was refused (and so is every later request).
            TokenEndpointError: any other answer.
        """
        status = response.status_code
        if login and status in (401, 429):
            raise LoginFailedError(f"login refused ({status}: {_message(response)})", status=status,
                                   retry_after=_retry_after(response))
        if not login and status == 401:
            ended = SessionEndedError(f"the session ended: the refresh token was refused ({_message(response)}); "
                                      "log in again", status=status)
            self._state = _State(tokens=None, generation=self._state.generation + 1, ended=ended)
            self._credentials = self._initial_refresh = None
            raise ended
        if status != 200:
            raise TokenEndpointError(f"{response.request.url.path} answered {status} ({_message(response)})",
                                     status=status)
        tokens = self._pair(response, now=now)
        self._state = _State(tokens=tokens, generation=self._state.generation + 1)
        self._credentials = self._initial_refresh = None  # the refresh token is what renews now
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        return tokens

    def _pair(self, response: httpx.Response, *, now: float) -> TokenPair:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise TokenEndpointError(f"{response.request.url.path} answered 200 without a JSON object",
                                     status=response.status_code)
        access, refresh, expires_in = body.get("access_token"), body.get("refresh_token"), body.get("expires_in")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise TokenEndpointError(f"{response.request.url.path} answered 200 without access_token and "
                                     "refresh_token strings", status=response.status_code)
        lifetime = _lifetime(access, expires_in)
        if lifetime is None:
            raise TokenEndpointError(f"{response.request.url.path} answered an access token whose lifetime is "
                                     "unknown (no exp/iat claims, no expires_in)", status=response.status_code)
        # Counted from receipt, by our clock, over the token's own lifetime (exp - iat): a client
        # whose clock is off from the server's still renews on time. The margin is at most half
        # the lifetime, so short-lived tokens are not renewed on every request.
        return TokenPair(access_token=access, refresh_token=refresh,
                         renew_at=now + lifetime - min(self._margin, lifetime / 2))


def _lifetime(access_token: str, expires_in: object) -> float | None:
    """``exp - iat`` of the access token (read, not verified: the client does not hold the
    server's keys, and only uses it to schedule a renewal), else ``expires_in``."""
    try:
        claims: dict[str, Any] = decode_unverified(access_token)[1]
    except JWTError:
        claims = {}
    exp, iat = claims.get("exp"), claims.get("iat")
    if _is_number(exp) and _is_number(iat) and exp > iat:
        return float(exp - iat)
    if _is_number(expires_in) and expires_in > 0:
        return float(expires_in)
    return None


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value and abs(value) < 1e12


def _message(response: httpx.Response) -> str:
    """The server's error code and message, when it sent them as JSON (never the body itself)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "no JSON body"
    if not isinstance(body, dict):
        return "no error object"
    parts = [str(body[k])[:200] for k in ("error", "message", "error_description") if isinstance(body.get(k), str)]
    return ": ".join(parts) or "no error code"


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None
