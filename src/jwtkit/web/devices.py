"""The device cookie after a successful login (OWASP device cookies; ``jwtkit.auth.devices``)."""

from __future__ import annotations

from fastapi import Request, Response

from .credentials import set_device_cookie
from .deps import service_of
from .origins import policy_of

__all__ = ["remember_device"]


def remember_device(request: Request, response: Response, username: str) -> None:
    """Give the client that just logged in as ``username`` a device cookie, ``Secure`` per
    ``--cookie-secure`` — unless the request came from another site: a cross-site page that posts
    credentials gets its tokens (which it cannot read) but no cookie of ours."""
    policy = policy_of(request)
    if not policy.allows(request):
        return
    service = service_of(request)
    set_device_cookie(response, service.device_cookie(username), service.settings.device_cookie_ttl,
                      secure=policy.secure(request))
