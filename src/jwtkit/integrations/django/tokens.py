"""Token classes with Simple JWT's API: ``RefreshToken.for_user(user)``, ``.access_token``,
``token["claim"] = value``, ``str(token)``, ``AccessToken(raw)``, ``UntypedToken(raw)``.

Example (a custom login view, as in Simple JWT's docs)::

    refresh = RefreshToken.for_user(user)          # starts a session (a refresh family)
    refresh["name"] = user.get_full_name()         # copied into the access token too
    return {"refresh": str(refresh), "access": str(refresh.access_token)}

Constructing a token from text verifies it (signature, ``exp``, ``jti``, type) and raises
:class:`~.exceptions.TokenError` with Simple JWT's messages. Revocation is checked where tokens
are used: :class:`~.authentication.JWTAuthentication` and the views.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

from . import backend
from .conf import jwt_settings
from .exceptions import TokenError


class Token:
    """A validated token (built from text) or a new one (built from nothing)."""

    token_type: ClassVar[str]
    lifetime_setting: ClassVar[str] = "access_lifetime"

    payload: dict[str, Any]

    def __init__(self, token: str | bytes | None = None) -> None:
        self.token = token
        self.current_time = int(time.time())
        if token is not None:
            self.payload = backend.decode(token)
            self.verify()
            return
        settings = jwt_settings()
        self.payload = {settings.token_type_claim: self.token_type}
        self.set_exp(from_time=self.current_time)
        self.set_iat(at_time=self.current_time)
        self.set_jti()

    @property
    def lifetime(self) -> float:
        return float(getattr(jwt_settings(), self.lifetime_setting))

    # ------------------------------------------------------------ mapping protocol, as Simple JWT
    def __repr__(self) -> str:
        return repr(self.payload)

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.payload[key] = value

    def __delitem__(self, key: str) -> None:
        del self.payload[key]

    def __contains__(self, key: object) -> bool:
        return key in self.payload

    def __iter__(self) -> Iterator[str]:
        return iter(self.payload)

    def get(self, key: str, default: Any = None) -> Any:
        return self.payload.get(key, default)

    def __str__(self) -> str:
        """The signed token (compact JWS)."""
        return backend.get_backend().encode(self.payload)

    # ------------------------------------------------------------ checks (Simple JWT's messages)
    def verify(self) -> None:
        settings = jwt_settings()
        self.check_exp()
        if settings.jti_claim not in self.payload or type(self.payload[settings.jti_claim]) is not str:
            raise TokenError("Token has no id")
        self.verify_token_type()

    def verify_token_type(self) -> None:
        claim = jwt_settings().token_type_claim
        if claim not in self.payload:
            raise TokenError("Token has no type")
        if self.payload[claim] != self.token_type:
            raise TokenError("Token has wrong type")

    def check_exp(self, claim: str = "exp", current_time: float | None = None) -> None:
        if claim not in self.payload:
            raise TokenError(f"Token has no '{claim}' claim")
        value = self.payload[claim]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenError("Token is invalid")
        now = self.current_time if current_time is None else current_time
        if value <= now - jwt_settings().leeway:
            raise TokenError(f"Token '{claim}' claim has expired")

    # ------------------------------------------------------------ setters
    def set_jti(self) -> None:
        self.payload[jwt_settings().jti_claim] = uuid.uuid4().hex

    def set_exp(self, claim: str = "exp", from_time: float | None = None, lifetime: float | None = None) -> None:
        start = self.current_time if from_time is None else from_time
        self.payload[claim] = int(start + (self.lifetime if lifetime is None else lifetime))

    def set_iat(self, claim: str = "iat", at_time: float | None = None) -> None:
        self.payload[claim] = int(self.current_time if at_time is None else at_time)

    @classmethod
    def for_user(cls, user: Any) -> Token:
        """A new token for ``user`` (its ``USER_ID_FIELD`` as a string in ``USER_ID_CLAIM``)."""
        settings = jwt_settings()
        token = cls()
        token[settings.user_id_claim] = str(getattr(user, settings.user_id_field))
        return token


class AccessToken(Token):
    token_type = "access"


class UntypedToken(Token):
    """Any type: signature, ``exp`` and ``jti`` only (Simple JWT's verify view uses it)."""

    token_type = "untyped"

    def verify_token_type(self) -> None:
        return None


class RefreshToken(Token):
    """A refresh token; :meth:`for_user` records it as the first of a new session (family)."""

    token_type = "refresh"
    lifetime_setting = "refresh_lifetime"
    access_token_class: ClassVar[type[AccessToken]] = AccessToken

    @property
    def no_copy_claims(self) -> tuple[str, ...]:
        settings = jwt_settings()
        return (settings.token_type_claim, "exp", settings.jti_claim, "jti", "iat")

    @classmethod
    def for_user(cls, user: Any) -> RefreshToken:
        """A refresh token for ``user`` in a new family, recorded as outstanding."""
        from .sessions import start_family

        token = super().for_user(user)
        assert isinstance(token, RefreshToken)
        start_family(token, user)
        return token

    @property
    def access_token(self) -> AccessToken:
        """An access token with this token's claims (but its own type, ``jti``, ``iat``, ``exp``)."""
        access = self.access_token_class()
        access.set_exp(from_time=self.current_time)
        no_copy = self.no_copy_claims
        for claim, value in self.payload.items():
            if claim not in no_copy:
                access[claim] = value
        return access

    def blacklist(self) -> None:
        """Revoke this token's whole session (Simple JWT's method, with family semantics)."""
        from .sessions import revoke_refresh

        revoke_refresh(self, reason="logout")
