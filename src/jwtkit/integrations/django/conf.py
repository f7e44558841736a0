"""Settings: ``SIMPLE_JWT`` read with Simple JWT's names, meanings and defaults; ``JWTKIT`` on top.

``JWTKIT`` overrides any ``SIMPLE_JWT`` key and holds jwtkit's additions:

* ``DENYLIST_POLL_INTERVAL`` (``1.0``): seconds between two reads of the revocation table by the
  in-process denylist (a background thread); ``0`` for no thread.
* ``DENYLIST_MAX_STALENESS`` (``5.0``): past this age without a successful read, a request reads the
  table itself before it is let through (and fails with 503 if it cannot).
* ``FAMILY_CLAIM`` (``"sid"``): the claim naming a token's refresh family (its session).
* ``VERIFY_TOKEN_TYPES`` (``("access",)``): the token types ``TokenVerifyView`` accepts.
* ``KEY_RELOAD_INTERVAL`` (``30.0``): seconds between two background reads of the signing-key table.

The algorithm defaults to Simple JWT's ``HS256`` with ``SECRET_KEY``, so live tokens survive the
switch; a project with a ``JWTKIT`` dict and no ``SIMPLE_JWT`` dict is a new one and defaults to
``ES256`` with keys kept in the database. An asymmetric ``ALGORITHM`` without a PEM ``SIGNING_KEY``
also uses database keys, rotated by ``manage.py jwtkit_rotate_keys`` and published as JWKS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

#: Simple JWT 5.5's ``DEFAULTS`` (rest_framework_simplejwt/settings.py), ``SIGNING_KEY`` aside.
SIMPLE_JWT_DEFAULTS: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": False,
    "BLACKLIST_AFTER_ROTATION": False,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": None,  # Simple JWT: settings.SECRET_KEY
    "VERIFYING_KEY": "",
    "AUDIENCE": None,
    "ISSUER": None,
    "JSON_ENCODER": None,
    "JWK_URL": None,
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_HEADER_NAME": "HTTP_AUTHORIZATION",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "USER_AUTHENTICATION_RULE": "rest_framework_simplejwt.authentication.default_user_authentication_rule",
    "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "TOKEN_USER_CLASS": "rest_framework_simplejwt.models.TokenUser",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM": "refresh_exp",
    "SLIDING_TOKEN_LIFETIME": timedelta(minutes=5),
    "SLIDING_TOKEN_REFRESH_LIFETIME": timedelta(days=1),
    "TOKEN_OBTAIN_SERIALIZER": "rest_framework_simplejwt.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "rest_framework_simplejwt.serializers.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "rest_framework_simplejwt.serializers.TokenVerifySerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "rest_framework_simplejwt.serializers.TokenBlacklistSerializer",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER": "rest_framework_simplejwt.serializers.TokenObtainSlidingSerializer",
    "SLIDING_TOKEN_REFRESH_SERIALIZER": "rest_framework_simplejwt.serializers.TokenRefreshSlidingSerializer",
    "CHECK_REVOKE_TOKEN": False,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "CHECK_USER_IS_ACTIVE": True,
}

JWTKIT_DEFAULTS: dict[str, Any] = {
    "DENYLIST_POLL_INTERVAL": 1.0,
    "DENYLIST_MAX_STALENESS": 5.0,
    "FAMILY_CLAIM": "sid",
    "VERIFY_TOKEN_TYPES": ("access",),
    "KEY_RELOAD_INTERVAL": 30.0,
}

#: Simple JWT settings we do not implement; a non-default value is named by the system check.
UNSUPPORTED = (
    "JSON_ENCODER",
    "JWK_URL",
    "AUTH_TOKEN_CLASSES",
    "TOKEN_USER_CLASS",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
    "SLIDING_TOKEN_LIFETIME",
    "SLIDING_TOKEN_REFRESH_LIFETIME",
    "TOKEN_OBTAIN_SERIALIZER",
    "TOKEN_REFRESH_SERIALIZER",
    "TOKEN_VERIFY_SERIALIZER",
    "TOKEN_BLACKLIST_SERIALIZER",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    "SLIDING_TOKEN_REFRESH_SERIALIZER",
    "CHECK_REVOKE_TOKEN",
    "REVOKE_TOKEN_CLAIM",
)
#: Simple JWT's removed settings (it raises on them) and misspellings people make.
REMOVED = ("AUTH_HEADER_TYPE", "AUTH_TOKEN_CLASS", "SECRET_KEY", "TOKEN_BACKEND_CLASS")

_DEFAULT_RULE = SIMPLE_JWT_DEFAULTS["USER_AUTHENTICATION_RULE"]
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a timedelta or a number of seconds, not {type(value).__name__}")
    return float(value)


def default_user_authentication_rule(user: Any) -> bool:
    """Simple JWT's rule: a user exists and, when ``CHECK_USER_IS_ACTIVE``, is active."""
    return user is not None and (not jwt_settings().check_user_is_active or bool(getattr(user, "is_active", True)))


@dataclass(frozen=True, slots=True)
class JWTSettings:
    """The merged, validated settings: built once, rebuilt when Django's settings change (tests)."""

    raw: Mapping[str, Any]
    user_keys: frozenset[str]
    access_lifetime: float
    refresh_lifetime: float
    rotate_refresh_tokens: bool
    update_last_login: bool
    algorithm: str
    signing_key: str | bytes
    verifying_key: str | bytes
    database_keys: bool
    audience: str | tuple[str, ...] | None
    issuer: str | None
    leeway: float
    auth_header_types: tuple[str, ...]
    auth_header_name: str
    user_id_field: str
    user_id_claim: str
    token_type_claim: str
    jti_claim: str
    check_user_is_active: bool
    user_authentication_rule: Callable[[Any], bool]
    family_claim: str
    verify_token_types: tuple[str, ...]
    denylist_poll_interval: float
    denylist_max_staleness: float
    key_reload_interval: float

    @property
    def hmac(self) -> bool:
        return self.algorithm in HMAC_ALGORITHMS

    def get(self, name: str) -> Any:
        """A setting by its Simple JWT / JWTKIT name (the merged value)."""
        return self.raw[name]


def _rule(value: Any) -> Callable[[Any], bool]:
    if value == _DEFAULT_RULE:
        return default_user_authentication_rule
    if isinstance(value, str):
        loaded: Callable[[Any], bool] = import_string(value)
        return loaded
    if not callable(value):
        raise TypeError("USER_AUTHENTICATION_RULE must be a dotted path or a callable")
    return value


def build_settings(simple_jwt: Mapping[str, Any] | None, jwtkit: Mapping[str, Any] | None) -> JWTSettings:
    """Merge Simple JWT's defaults, ``SIMPLE_JWT`` and ``JWTKIT`` (in that order) and validate them."""
    simple_jwt = dict(simple_jwt or {})
    jwtkit = dict(jwtkit or {})
    merged: dict[str, Any] = {**SIMPLE_JWT_DEFAULTS, **JWTKIT_DEFAULTS}
    new_project = "SIMPLE_JWT" not in _present_settings() and bool(jwtkit)
    if new_project:
        merged["ALGORITHM"] = "ES256"
    merged.update(simple_jwt)
    merged.update(jwtkit)
    algorithm = str(merged["ALGORITHM"])
    signing_key = merged["SIGNING_KEY"]
    if signing_key is None or signing_key == "":
        signing_key = django_settings.SECRET_KEY if algorithm in HMAC_ALGORITHMS else ""
    database_keys = algorithm not in HMAC_ALGORITHMS and not signing_key
    headers = merged["AUTH_HEADER_TYPES"]
    if isinstance(headers, str):
        headers = (headers,)
    audience = merged["AUDIENCE"]
    if audience is not None and not isinstance(audience, str):
        audience = tuple(audience)
    return JWTSettings(
        raw=merged,
        user_keys=frozenset(simple_jwt) | frozenset(jwtkit),
        access_lifetime=_seconds(merged["ACCESS_TOKEN_LIFETIME"], "ACCESS_TOKEN_LIFETIME"),
        refresh_lifetime=_seconds(merged["REFRESH_TOKEN_LIFETIME"], "REFRESH_TOKEN_LIFETIME"),
        rotate_refresh_tokens=bool(merged["ROTATE_REFRESH_TOKENS"]),
        update_last_login=bool(merged["UPDATE_LAST_LOGIN"]),
        algorithm=algorithm,
        signing_key=signing_key,
        verifying_key=merged["VERIFYING_KEY"] or "",
        database_keys=database_keys,
        audience=audience,
        issuer=merged["ISSUER"],
        leeway=_seconds(merged["LEEWAY"] or 0, "LEEWAY"),
        auth_header_types=tuple(headers),
        auth_header_name=str(merged["AUTH_HEADER_NAME"]),
        user_id_field=str(merged["USER_ID_FIELD"]),
        user_id_claim=str(merged["USER_ID_CLAIM"]),
        token_type_claim=str(merged["TOKEN_TYPE_CLAIM"]),
        jti_claim=str(merged["JTI_CLAIM"]),
        check_user_is_active=bool(merged["CHECK_USER_IS_ACTIVE"]),
        user_authentication_rule=_rule(merged["USER_AUTHENTICATION_RULE"]),
        family_claim=str(merged["FAMILY_CLAIM"]),
        verify_token_types=tuple(merged["VERIFY_TOKEN_TYPES"]),
        denylist_poll_interval=_seconds(merged["DENYLIST_POLL_INTERVAL"], "DENYLIST_POLL_INTERVAL"),
        denylist_max_staleness=_seconds(merged["DENYLIST_MAX_STALENESS"], "DENYLIST_MAX_STALENESS"),
        key_reload_interval=_seconds(merged["KEY_RELOAD_INTERVAL"], "KEY_RELOAD_INTERVAL"),
    )


def _present_settings() -> set[str]:
    return {name for name in ("SIMPLE_JWT", "JWTKIT") if hasattr(django_settings, name)}


@lru_cache(maxsize=1)
def jwt_settings() -> JWTSettings:
    """The project's settings, built on first use and cached."""
    return build_settings(getattr(django_settings, "SIMPLE_JWT", None), getattr(django_settings, "JWTKIT", None))


def _reload(*, setting: str, **_: Any) -> None:
    if setting in ("SIMPLE_JWT", "JWTKIT", "SECRET_KEY"):
        jwt_settings.cache_clear()
        for listener in _listeners:
            listener()


_listeners: list[Callable[[], None]] = []


def on_settings_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` when ``SIMPLE_JWT``/``JWTKIT`` change (``override_settings`` in tests)."""
    _listeners.append(listener)


setting_changed.connect(_reload, dispatch_uid="jwtkit.integrations.django.conf")
