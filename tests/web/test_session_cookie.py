"""``session_cookie``: the ``sessionid`` cookie of a request, exactly what Starlette's
``request.cookies.get("sessionid")`` gives, on ordinary and odd ``Cookie`` headers alike."""

import pytest
from starlette.requests import Request

from jwtkit.web.sessions import session_cookie

HEADERS = [
    [],
    [b""],
    [b"sessionid=abc"],
    [b"theme=dark; sessionid=abc; lang=en"],
    [b"sessionid=first; sessionid=second"],
    [b"  sessionid  =  spaced  "],
    [b'sessionid="quoted"'],
    [b'sessionid="esc\\"aped\\073"'],
    [b'sessionid="'],
    [b'sessionid="half'],
    [b"sessionid"],
    [b"=sessionid"],
    [b"sessionid="],
    [b"sessionid==x=y"],
    [b";;sessionid=y;;"],
    [b"SessionID=upper"],
    [b"xsessionid=near; sessionidx=miss"],
    [b"sessionid=caf\xe9"],
    [b"sessionid=one", b"sessionid=two"],
    [b"sessionid=one", b"theme=dark"],
    [b"theme=dark", b"sessionid=two"],
]


@pytest.mark.parametrize("cookie_headers", HEADERS, ids=[repr(h) for h in HEADERS])
def test_session_cookie_reads_what_starlette_reads(cookie_headers):
    headers = [(b"host", b"test"), *((b"cookie", value) for value in cookie_headers), (b"accept", b"*/*")]
    scope = {"type": "http", "method": "GET", "path": "/session/me", "headers": headers}
    assert session_cookie(Request(scope)) == Request(scope).cookies.get("sessionid")
