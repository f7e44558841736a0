"""What browsers may do across origins: the ``Secure`` flag of our cookies, the refusal of
cross-site state-changing requests on the cookie endpoints (login CSRF), and CORS.

**Cross-site requests.** A cookie endpoint that changes state (``POST /session/login``,
``POST /session/logout``) refuses, with 403 ``cross_site_request``, a request whose ``Origin``
header is neither the server's own origin (scheme and ``Host`` as the request arrived, after a
trusted proxy's ``X-Forwarded-Proto``) nor one of the ``--cors-origin`` list, and, when a browser
sent no ``Origin``, one marked ``Sec-Fetch-Site: cross-site``. Browsers send ``Origin`` on every
cross-origin ``POST`` (form posts included) and cannot be made to forge it, so a hostile page
cannot log a visitor into the attacker's account; clients that are not browsers (curl, servers)
send neither header and pass. The ``SameSite=Lax`` cookie is the second layer.

**Secure cookies.** ``cookie_secure="auto"`` (the default) marks a cookie ``Secure`` when the
request's original scheme is ``https`` (behind a proxy: its ``X-Forwarded-Proto`` or ``Forwarded``,
trusted per ``--forwarded-allow-ips``); ``"always"`` and ``"never"`` force it.

**CORS.** Off unless origins are listed; then Starlette's ``CORSMiddleware`` answers preflights
and lets exactly those origins call the API with credentials (cookies, ``Authorization``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware

from .errors import CrossSiteRequestError

__all__ = ["BrowserPolicy", "CookieSecure", "add_cors", "checked_origin", "policy_of", "same_origin"]

CookieSecure = Literal["always", "auto", "never"]
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class BrowserPolicy:
    """The app's cookie and cross-origin settings (``app.state.browser``).

    Raises:
        ValueError: an unknown ``cookie_secure`` or an origin that is not ``scheme://host[:port]``.
    """

    cookie_secure: CookieSecure = "auto"
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.cookie_secure not in get_args(CookieSecure):
            raise ValueError(f"cookie_secure must be always, auto or never, got {self.cookie_secure!r}")
        object.__setattr__(self, "cors_origins", tuple(checked_origin(o) for o in self.cors_origins))

    def secure(self, request: Request) -> bool:
        """Whether a cookie set in answer to ``request`` gets the ``Secure`` attribute."""
        if self.cookie_secure == "auto":
            return request.url.scheme == "https"
        return self.cookie_secure == "always"

    def allows(self, request: Request) -> bool:
        """Whether ``request`` is same-origin, from a listed origin, or not from a browser page at all."""
        origin = request.headers.get("origin")
        if origin is None:
            return request.headers.get("sec-fetch-site", "").lower() != "cross-site"
        key = _origin_key(origin)
        if key is None:  # "null" (a sandboxed or privacy-sensitive context) or garbage
            return False
        own = _origin_key(f"{request.url.scheme}://{request.headers.get('host', '')}")
        return key == own or key in {_origin_key(o) for o in self.cors_origins}


def policy_of(request: Request) -> BrowserPolicy:
    policy: BrowserPolicy = getattr(request.app.state, "browser", None) or BrowserPolicy()
    return policy


async def same_origin(request: Request) -> None:
    """Dependency of the state-changing cookie endpoints: refuse cross-site requests.

    Raises:
        CrossSiteRequestError: see the module docstring.
    """
    if not policy_of(request).allows(request):
        raise CrossSiteRequestError()


def checked_origin(origin: str) -> str:
    """``origin`` as browsers send it in ``Origin``: ``https://app.example`` or ``http://localhost:3000``
    (scheme and host lower-cased, a default port and a trailing slash dropped).

    Raises:
        ValueError: not ``http(s)://host[:port]`` with nothing after it.
    """
    value = origin.strip().rstrip("/")
    key = _origin_key(value)
    if key is None or urlsplit(value).path or value.count("://") != 1:
        raise ValueError(f"a CORS origin is scheme://host[:port], got {origin!r}")
    scheme, host, port = key
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


def add_cors(app: FastAPI, origins: Iterable[str]) -> None:
    """Let browser pages on ``origins`` call the API, with credentials; nothing when empty."""
    allowed = list(origins)
    if not allowed:
        return
    app.add_middleware(
        CORSMiddleware, allow_origins=allowed, allow_credentials=True, allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"], expose_headers=["WWW-Authenticate", "Retry-After"],
        max_age=600,
    )


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]
