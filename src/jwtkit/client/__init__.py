"""A client for apps that call APIs protected by a jwtkit server (``pip install jwtkit[client]``).

:class:`TokenAuth` is an ``httpx.Auth``: it logs in, sends the access token, and refreshes it
safely (one refresh in flight however many requests wait), so a busy client never trips the
server's refresh-token reuse detection.

Example::

    import httpx
    from jwtkit.client import TokenAuth

    auth = TokenAuth("http://127.0.0.1:8000", username="alice", password="correct horse battery")
    with httpx.Client(auth=auth) as client:
        print(client.get("http://127.0.0.1:8000/auth/me").json())
"""

try:
    import httpx  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("jwtkit.client needs httpx: pip install 'jwtkit[client]'") from exc

from .auth import TokenAuth
from .errors import LoginFailedError, SessionEndedError, TokenAuthError, TokenEndpointError
from .session import TokenPair

__all__ = ["LoginFailedError", "SessionEndedError", "TokenAuth", "TokenAuthError", "TokenEndpointError", "TokenPair"]
