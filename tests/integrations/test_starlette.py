"""``jwtkit.integrations.starlette.JWTAuthBackend`` under Starlette's ``AuthenticationMiddleware``:
``request.user``/``request.auth``, Starlette's own ``@requires``, this module's RFC 6750
``requires``, the 401/503 answers, and the flow against a real ``jwtkit serve``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import requires as starlette_requires
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import jwtkit
from jwks.server import FakeClock, JWKSServer
from jwtkit.integrations.starlette import BearerAuthenticationMiddleware, JWTAuthBackend, requires

from .issuer import Issuer, bearer, signed

pytestmark = pytest.mark.anyio


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse({
        "authenticated": user.is_authenticated,
        "identity": user.identity if user.is_authenticated else None,
        "claims": user.claims if user.is_authenticated else None,
        "scopes": request.auth.scopes,
    })


@starlette_requires("items:read")
async def starlette_items(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@requires("items:read")
async def items(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@requires()
def sync_private(request: Request) -> JSONResponse:
    return JSONResponse({"identity": request.user.identity})


def app_with(backend: JWTAuthBackend) -> Starlette:
    routes = [Route("/whoami", whoami), Route("/starlette-items", starlette_items), Route("/items", items),
              Route("/private", sync_private)]
    return Starlette(routes=routes, middleware=[backend.middleware()])


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


@pytest.fixture
def http(key: jwtkit.Key) -> httpx.AsyncClient:
    return client_for(app_with(JWTAuthBackend(key=key.public_key(), algorithms=["ES256"])))


async def test_the_user_is_the_tokens_subject_with_its_claims_and_scopes(http, key):
    answer = (await http.get("/whoami", headers=bearer(signed(key, scope="b a")))).json()
    assert answer["authenticated"] is True
    assert answer["identity"] == "alice"
    assert answer["claims"]["scope"] == "b a"
    assert answer["scopes"] == ["a", "b", "authenticated"]


async def test_identity_falls_back_to_user_id(http, key):
    answer = (await http.get("/whoami", headers=bearer(signed(key, sub=None, user_id=42)))).json()
    assert answer["identity"] == 42


async def test_no_token_passes_as_the_unauthenticated_user(http):
    answer = (await http.get("/whoami")).json()
    assert answer == {"authenticated": False, "identity": None, "claims": None, "scopes": []}


async def test_a_bad_token_is_a_401_invalid_token(http, key):
    answer = await http.get("/whoami", headers=bearer(signed(key, exp=1_000_000_000)))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert answer.json() == {"error": "invalid_token", "error_description": "The access token has expired."}


async def test_a_refresh_token_is_refused(http, key):
    answer = await http.get("/whoami", headers=bearer(signed(key, token_type="refresh")))
    assert answer.status_code == 401


async def test_starlettes_own_requires_works_with_the_scopes(http, key):
    assert (await http.get("/starlette-items", headers=bearer(signed(key, scp=["items:read"])))).status_code == 200
    assert (await http.get("/starlette-items", headers=bearer(signed(key)))).status_code == 403


async def test_requires_answers_401_bearer_without_a_token(http):
    answer = await http.get("/items")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_requires_answers_403_insufficient_scope_naming_it(http, key):
    answer = await http.get("/items", headers=bearer(signed(key, scope="other")))
    assert answer.status_code == 403
    assert answer.headers["www-authenticate"].startswith('Bearer error="insufficient_scope", scope="items:read"')
    assert (await http.get("/items", headers=bearer(signed(key, scope="items:read")))).status_code == 200


async def test_requires_on_a_sync_endpoint(http, key):
    assert (await http.get("/private")).status_code == 401
    assert (await http.get("/private", headers=bearer(signed(key)))).json() == {"identity": "alice"}


async def test_no_keys_to_be_had_is_a_503_with_retry_after(jwks_server: JWKSServer, key):
    jwks_server.down()
    http = client_for(app_with(JWTAuthBackend(jwks_url=jwks_server.url, algorithms=["ES256"])))
    answer = await http.get("/whoami", headers=bearer(signed(key)))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"


async def test_the_plain_middleware_declaration_works_with_on_error(key):
    backend = JWTAuthBackend(key=key.public_key(), algorithms=["ES256"])
    app = Starlette(routes=[Route("/whoami", whoami)],
                    middleware=[Middleware(AuthenticationMiddleware, backend=backend, on_error=backend.on_error)])
    answer = await client_for(app).get("/whoami", headers=bearer("not.a.token"))
    assert answer.status_code == 401


def test_the_backends_middleware_is_starlettes_authentication_middleware(key):
    declared = JWTAuthBackend(key=key.public_key(), algorithms=["ES256"]).middleware()
    assert declared.cls is BearerAuthenticationMiddleware
    assert issubclass(BearerAuthenticationMiddleware, AuthenticationMiddleware)


async def test_the_middleware_finds_the_header_whatever_its_place_among_the_others(key):
    app = app_with(JWTAuthBackend(key=key.public_key(), algorithms=["ES256"]))
    headers = [("x-first", "1"), *bearer(signed(key)).items(), ("x-last", "2")]
    answer = (await client_for(app).get("/whoami", headers=headers)).json()
    assert answer["identity"] == "alice"


async def test_a_basic_authorization_header_passes_as_the_unauthenticated_user(http):
    answer = (await http.get("/whoami", headers={"Authorization": "Basic YWxpY2U6cHc="})).json()
    assert answer["authenticated"] is False


async def whoami_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"identity": websocket.user.identity if websocket.user.is_authenticated else None})
    await websocket.close()


def socket_app(key: jwtkit.Key) -> Starlette:
    backend = JWTAuthBackend(key=key.public_key(), algorithms=["ES256"])
    return Starlette(routes=[WebSocketRoute("/ws", whoami_socket)], middleware=[backend.middleware()])


async def websocket_messages(app: Starlette, headers: dict[str, str]) -> list[dict[str, Any]]:
    """What the app sends on a WebSocket opened with ``headers``, driven straight through ASGI."""
    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"", "root_path": "",
             "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
             "scheme": "ws", "server": ("app", 80), "client": ("127.0.0.1", 1), "subprotocols": []}
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_websocket_with_a_valid_token_is_its_subjects(key):
    sent = await websocket_messages(socket_app(key), bearer(signed(key)))
    assert [message["type"] for message in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == '{"identity":"alice"}'


async def test_a_websocket_with_a_bad_token_is_closed_before_it_is_accepted(key):
    sent = await websocket_messages(socket_app(key), bearer("not.a.token"))
    assert sent == [{"type": "websocket.close", "code": 1000}]


async def test_a_lifespan_scope_passes_through_untouched(key):
    seen: list[str] = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    middleware = BearerAuthenticationMiddleware(inner, backend=JWTAuthBackend(key=key.public_key(),
                                                                               algorithms=["ES256"]))
    await middleware({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


@pytest.mark.slow
async def test_against_a_real_jwtkit_serve(issuer: Issuer):
    clock = FakeClock()
    http = client_for(app_with(JWTAuthBackend(key=jwtkit.AsyncJWKSClient(issuer.jwks_url, clock=clock),
                                              algorithms=["ES256"])))
    pair = issuer.login()
    answer = (await http.get("/whoami", headers=bearer(pair["access_token"]))).json()
    assert (answer["identity"], answer["claims"]["username"]) == ("1", "alice")
    assert (await http.get("/whoami", headers=bearer(pair["refresh_token"]))).status_code == 401
    issuer.logout(pair)  # stateless here: the access token lives to its exp
    assert (await http.get("/private", headers=bearer(pair["access_token"]))).status_code == 200
    issuer.rotate_keys()
    rotated = issuer.login()
    assert (await http.get("/private", headers=bearer(rotated["access_token"]))).status_code == 200
    issuer.stop()
    clock.advance(3600)
    assert (await http.get("/private", headers=bearer(rotated["access_token"]))).status_code == 200
