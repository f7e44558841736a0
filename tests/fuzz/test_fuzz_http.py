"""Fuzzing the HTTP layer: random methods, paths, headers and bodies through the ASGI app (memory backend).

Contract (``http_target``): never a 5xx, never an exception out of the app, every 4xx a JSON
``{error, message}``. Two tests: the committed corpus (``corpus/http/``: seeds and minimised findings)
replayed, and a hypothesis run whose size ``JWTKIT_FUZZ_EXAMPLES`` sets (default 150, seconds in CI).
The README's long run was two of these, 20000 and 40000 examples::

    JWTKIT_FUZZ_EXAMPLES=40000 .venv/bin/python -m pytest tests/fuzz/test_fuzz_http.py -k random --timeout 0
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_target import HttpTarget, render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

CORPUS = Path(__file__).resolve().parent / "corpus" / "http"
EXAMPLES = int(os.environ.get("JWTKIT_FUZZ_EXAMPLES", "150"))

PATHS = ["/auth/register", "/auth/token", "/auth/token/refresh", "/auth/token/verify", "/auth/logout", "/auth/me",
         "/session/login", "/session/me", "/session/logout", "/health", "/.well-known/jwks.json", "/docs",
         "/openapi.json", "/", "/auth", "/auth/token/", "/auth/me/x", "/%00", "/auth/%2e%2e/health"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "get", "FOO"]
HEADER_NAMES = [b"authorization", b"content-type", b"cookie", b"x-forwarded-for", b"accept", b"origin",
                b"content-encoding", b"accept-encoding", b"range", b"expect", b"x-request-id", b"user-agent"]
CONTENT_TYPES = [b"application/json", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
                 b"text/plain", b"application/json; charset=latin-1", b"application/merge-patch+json", b""]
PLACEHOLDERS = ["{ACCESS}", "{REFRESH}", "{SESSION}", "{USER}"]


def _bytes_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return text.map(lambda s: s.encode("utf-8", "surrogatepass"))


_token_text = st.one_of(
    st.sampled_from(PLACEHOLDERS),
    st.tuples(st.sampled_from(PLACEHOLDERS), st.text(string.printable, max_size=8)).map("".join),
    st.text(string.ascii_letters + string.digits + "-_.=+/", max_size=80),
    st.text(max_size=40),
)
_header_value = st.one_of(
    _token_text.map(lambda t: b"Bearer " + t.encode("utf-8", "surrogatepass")),
    st.sampled_from(CONTENT_TYPES),
    _token_text.map(lambda t: b"sessionid=" + t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=64).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
    _bytes_of(st.text(string.printable.replace("\n", "").replace("\r", ""), max_size=64)),
)
_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _token_text)
_json_value = st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
_field_names = st.sampled_from(["username", "password", "refresh_token", "token", "grant_type", "x"])
_body = st.one_of(
    st.just(b""),
    st.dictionaries(_field_names, _json_value, max_size=4).map(lambda d: json.dumps(d).encode()),
    _json_value.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_field_names, _token_text, max_size=4).map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)
_path = st.one_of(
    st.sampled_from(PATHS),
    st.tuples(st.sampled_from(PATHS), st.text(string.printable, max_size=20)).map(lambda t: t[0] + "?" + t[1]),
    st.text(string.ascii_letters + string.digits + "/%.-_~?&=", max_size=40).map(lambda p: "/" + p),
)
requests = st.tuples(
    st.sampled_from(METHODS),
    _path,
    st.lists(st.tuples(st.sampled_from(HEADER_NAMES), _header_value), max_size=4),
    _body,
)


@pytest.fixture(scope="module")
def target() -> Iterator[HttpTarget]:
    fuzz = HttpTarget()
    yield fuzz
    fuzz.close()


def test_the_http_corpus_has_seeds():
    assert len(list(CORPUS.iterdir())) >= 5


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_a_corpus_request_gets_no_5xx_and_a_json_error(target, path):
    target.target(path.read_bytes())


def test_the_seeds_reach_past_authentication(target):
    """A fuzzer whose requests never authenticate finds nothing behind the 401: the placeholders work."""
    target.renew()
    response = target.run("GET", "/auth/me", [(b"authorization", target.substitute(b"Bearer {ACCESS}"))], b"")
    assert response.status_code == 200


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
@given(request=requests)
def test_random_requests_get_no_5xx_and_a_json_error(target, request):
    method, path, headers, body = request
    headers = [(name, target.substitute(value)) for name, value in headers]
    try:
        target.run(method, path, headers, target.substitute(body))
    except Exception:
        print("finding, as a corpus file:", render(method, path, headers, body))
        raise
