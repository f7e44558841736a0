"""A small stdlib HTTP client for a benchmark's set-up requests (not for the load: see ``load``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import Any


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, Message, bytes]:
    """(status, headers, body) of one request; ``body`` is sent as JSON. An HTTP error status is
    returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def login(base: str, username: str, password: str) -> dict[str, Any]:
    """The token pair of ``POST /auth/token``."""
    st, _, body = call("POST", base + "/auth/token", {"username": username, "password": password})
    assert st == 200, (st, body)
    pair: dict[str, Any] = json.loads(body)
    return pair


def sign_up(base: str, username: str, password: str) -> dict[str, Any]:
    """Register ``username`` on a ``jwtkit serve`` at ``base``, then log in: the token pair."""
    st, _, body = call("POST", base + "/auth/register", {"username": username, "password": password})
    assert st == 201, (st, body)
    return login(base, username, password)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
