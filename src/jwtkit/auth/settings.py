"""``AuthSettings``: the service's one frozen configuration object, built at the edge (``wiring.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ACCESS_TOKEN_PROFILES = ("simple", "rfc9068")
"""``simple``: our own claims (Simple-JWT-shaped); ``rfc9068``: the JWT access-token profile of RFC 9068."""
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*")  # RFC 6749 §3.3


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    """What the auth service needs to know; every field has a safe default.

    Times are seconds. Throttling is a sliding window of ``login_window`` seconds
    (:mod:`jwtkit.auth.throttling`): ``login_max_failures`` failed logins for one username from
    one client address, ``login_max_failures_per_user`` for one username from anywhere (with
    longer locks after 3x and 10x that), or ``login_max_failures_per_client`` from one address
    (IPv4, or IPv6 /64; the /56 and /48 around it get 4x and 16x) refuse further attempts that
    count on them, even with the right password, until the oldest failure leaves the window. A
    client with a device cookie of the user (issued at each login, valid ``device_cookie_ttl``)
    is counted on that cookie alone (``login_max_failures``). Registrations: at most
    ``register_max_per_client`` per address (as above) within ``register_window``.

    Example::

        settings = AuthSettings(access_ttl=300, issuer="https://auth.example", alg="ES256")

    Revocation across processes: each process keeps an in-memory denylist, kept current by
    the revocation feed. When the feed has not been in sync for more than
    ``revocation_max_staleness`` seconds (Redis down, database polls failing), access tokens
    are refused (fail closed) until it recovers; with ``revocation_fail_open=True`` they are
    still accepted unless known revoked, and a warning says the denylist may be stale.

    ``verified_token_cache`` access tokens are remembered after their signature verified
    (``jwtkit.Verifier(cache_size=...)``): a client sending the same token on every request
    pays the signature check once; expiry and revocation are still checked every time.

    ``refresh_reuse_grace`` (seconds, default 0: off): a refresh token spent again within this
    long of its first spend is answered with the pair that first spend issued (the same ``jti``s
    and claims, signed again) instead of being treated as reuse, so that concurrent requests of one
    client cannot revoke their own family (as Okta's and Auth0's rotation grace). Later reuse still
    revokes the family.

    ``access_token_profile`` ``"rfc9068"`` issues access tokens in the JWT profile of RFC 9068:
    header ``typ: at+jwt``, claims ``iss``, ``aud``, ``sub``, ``client_id``
    (``access_token_client_id``), ``scope`` (``access_token_scope``), ``iat``, ``exp``, ``jti`` (and
    ours besides); ``issuer`` and ``audience`` are then required, and our own verification refuses
    an access token whose ``typ`` is not ``at+jwt`` (RFC 9068 §4). The default, ``"simple"``, keeps
    the Simple-JWT-shaped claims.

    ``introspection_client_secret`` turns on RFC 7662 introspection (``POST /oauth/introspect``)
    for the client ``introspection_client_id`` (HTTP Basic or ``client_secret_post``); without
    it the endpoint does not exist.

    Warning:
        ``refresh_reuse_grace`` lets a stolen refresh token replayed within the grace get the pair
        the victim got (not a new family); keep it to a few seconds.

        ``revocation_fail_open=True`` lets a token revoked during an outage of the feed be
        used until the feed recovers (or the token expires).

        Without ``key_encryption_secret`` the private signing keys are stored in the database
        as plaintext JWK JSON (a warning is logged). Give 32 random bytes.
    """

    access_ttl: int = 300
    refresh_ttl: int = 86400
    session_ttl: int = 1209600
    issuer: str | None = None
    audience: str | None = None
    alg: str = "ES256"
    key_encryption_secret: bytes | None = field(default=None, repr=False)  # a secret: never printed
    login_max_failures: int = 5
    login_max_failures_per_client: int = 20
    login_max_failures_per_user: int = 20
    login_window: int = 300
    device_cookie_ttl: int = 7776000  # 90 days
    register_max_per_client: int = 20
    register_window: int = 3600
    password_min_length: int = 8
    password_max_length: int = 1024
    username_max_length: int = 150
    revocation_max_staleness: float = 1.0
    revocation_fail_open: bool = False
    verified_token_cache: int = 4096
    refresh_reuse_grace: float = 0.0
    # argon2id cost (argon2-cffi's defaults, RFC 9106's "second recommended" profile). Tests lower them;
    # changing them makes the service rehash each user's password at their next login.
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    password_parallelism: int = 4
    # OAuth (RFC 9068 access tokens, RFC 7662 introspection): see the class docstring
    access_token_profile: Literal["simple", "rfc9068"] = "simple"
    access_token_client_id: str = "jwtkit"
    access_token_scope: str = "api"
    introspection_client_id: str = "resource-server"
    introspection_client_secret: str | None = field(default=None, repr=False)  # a secret: never printed

    def __post_init__(self) -> None:
        for name in ("access_ttl", "refresh_ttl", "session_ttl", "login_window", "login_max_failures",
                     "login_max_failures_per_client", "login_max_failures_per_user", "device_cookie_ttl",
                     "register_max_per_client", "register_window", "password_min_length", "username_max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"AuthSettings.{name} must be a positive int, got {value!r}")
        staleness = self.revocation_max_staleness
        if isinstance(staleness, bool) or not isinstance(staleness, int | float) or not 0 < staleness < 1e9:
            raise ValueError(f"AuthSettings.revocation_max_staleness must be a positive number, got {staleness!r}")
        grace = self.refresh_reuse_grace
        if isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace < 1e9:
            raise ValueError(f"AuthSettings.refresh_reuse_grace must be a number >= 0, got {grace!r}")
        cache = self.verified_token_cache
        if isinstance(cache, bool) or not isinstance(cache, int) or cache < 0:
            raise ValueError(f"AuthSettings.verified_token_cache must be an int >= 0, got {cache!r}")
        if not isinstance(self.revocation_fail_open, bool):
            raise ValueError("AuthSettings.revocation_fail_open must be a bool")
        if self.password_max_length < self.password_min_length:
            raise ValueError("AuthSettings.password_max_length must be >= password_min_length")
        if self.key_encryption_secret is not None and len(self.key_encryption_secret) < 16:
            raise ValueError("AuthSettings.key_encryption_secret must be at least 16 bytes (32 random bytes advised)")
        self._check_oauth()

    def _check_oauth(self) -> None:
        if self.access_token_profile not in ACCESS_TOKEN_PROFILES:
            raise ValueError(f"AuthSettings.access_token_profile must be one of {ACCESS_TOKEN_PROFILES}, "
                             f"got {self.access_token_profile!r}")
        if self.access_token_profile == "rfc9068" and not (self.issuer and self.audience):
            raise ValueError("access_token_profile 'rfc9068' needs an issuer and an audience (RFC 9068 §2.2: "
                             "iss and aud are required); set them (--issuer, --audience)")
        for name in ("access_token_client_id", "introspection_client_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or ":" in value:
                raise ValueError(f"AuthSettings.{name} must be a non-empty string without ':', got {value!r}")
        scope = self.access_token_scope
        if not isinstance(scope, str) or not _SCOPE.fullmatch(scope):
            raise ValueError("AuthSettings.access_token_scope must be space-separated scope tokens (RFC 6749 §3.3)")
        secret = self.introspection_client_secret
        if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
            raise ValueError("AuthSettings.introspection_client_secret must be at least 16 characters "
                             "(32 random bytes, base64url, advised)")

    @property
    def key_lifetime_after_retirement(self) -> int:
        """How long a retired signing key stays published: the longest life of a token it signed."""
        return max(self.access_ttl, self.refresh_ttl)
