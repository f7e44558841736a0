"""``jwtkit.client.TokenAuth`` against a token server in a function (``httpx.MockTransport``):
login, the Bearer header, renewal before expiry (the clock is injected) and on a 401, one
renewal in flight however many requests wait (threads and tasks), the rotated refresh token
kept and handed to ``on_tokens``, and typed errors instead of loops when the session ends."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from jwtkit.client import LoginFailedError, SessionEndedError, TokenAuth, TokenEndpointError, TokenPair

from .fake_server import PASSWORD, USERNAME, FakeServer

BASE = "http://auth.test"
API = "http://auth.test/api"


class Clock:
    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(clock):
    return FakeServer(clock)


def login_auth(clock, **kwargs):
    return TokenAuth(BASE, username=USERNAME, password=PASSWORD, clock=clock, **kwargs)


def sync_client(server, auth):
    return httpx.Client(transport=httpx.MockTransport(server.sync_handler), auth=auth)


def async_client(server, auth):
    return httpx.AsyncClient(transport=httpx.MockTransport(server.async_handler), auth=auth)


# ---- logging in and sending the token


def test_the_first_request_logs_in_and_carries_the_access_token(server, clock):
    auth = login_auth(clock)
    with sync_client(server, auth) as client:
        response = client.get(API)
    assert response.status_code == 200
    assert server.logins == 1
    assert response.request.headers["Authorization"] == f"Bearer {auth.tokens.access_token}"


def test_login_posts_the_credentials_as_json_to_the_token_path(server, clock):
    with sync_client(server, login_auth(clock)) as client:
        client.get(API)
    (login,) = server.token_requests
    assert (login.method, str(login.url)) == ("POST", f"{BASE}/auth/token")
    assert json.loads(login.content) == {"username": USERNAME, "password": PASSWORD}


def test_later_requests_reuse_the_tokens(server, clock):
    with sync_client(server, login_auth(clock)) as client:
        for _ in range(5):
            assert client.get(API).status_code == 200
    assert (server.logins, server.refreshes) == (1, 0)


def test_a_saved_refresh_token_starts_the_session_with_a_refresh(server, clock):
    saved = server.issue()["refresh_token"]
    auth = TokenAuth(BASE, refresh_token=saved, clock=clock)
    with sync_client(server, auth) as client:
        assert client.get(API).status_code == 200
    assert (server.logins, server.refreshes) == (0, 1)
    assert server.seen_refresh_tokens == [saved]


def test_token_and_refresh_urls_can_be_given(server, clock):
    auth = TokenAuth(BASE, refresh_token=server.issue()["refresh_token"], clock=clock,
                     refresh_url="http://auth.test/auth/token/refresh?tenant=1")
    with sync_client(server, auth) as client:
        client.get(API)
    assert str(server.token_requests[0].url) == "http://auth.test/auth/token/refresh?tenant=1"


def test_a_base_url_with_a_path_prefixes_the_server_paths(server, clock):
    auth = TokenAuth("http://auth.test/", username=USERNAME, password=PASSWORD, clock=clock)
    with sync_client(server, auth) as client:
        client.get(API)
    assert str(server.token_requests[0].url) == f"{BASE}/auth/token"


def test_token_requests_do_not_carry_the_clients_headers(server, clock):
    transport = httpx.MockTransport(server.sync_handler)
    with httpx.Client(transport=transport, auth=login_auth(clock), headers={"X-Api-Key": "k"}) as client:
        client.get(API)
    assert "X-Api-Key" not in server.token_requests[0].headers


# ---- renewing


def test_the_pair_is_refreshed_once_the_margin_before_expiry_is_reached(server, clock):
    auth = login_auth(clock, margin=30)
    with sync_client(server, auth) as client:
        client.get(API)
        clock.now += 300 - 31
        client.get(API)
        assert server.refreshes == 0
        clock.now += 1
        client.get(API)
    assert server.refreshes == 1


def test_the_margin_is_at_most_half_the_tokens_lifetime(clock):
    server = FakeServer(clock, lifetime=10)
    auth = login_auth(clock, margin=30)
    with sync_client(server, auth) as client:
        client.get(API)
        clock.now += 4
        client.get(API)
        assert server.refreshes == 0
        clock.now += 1
        client.get(API)
    assert server.refreshes == 1


def test_the_lifetime_comes_from_expires_in_when_the_token_has_no_exp(server, clock):
    issue = server.issue
    server.issue = lambda: issue(claims=False)
    auth = login_auth(clock, margin=0)
    with sync_client(server, auth) as client:
        client.get(API)
    assert auth.tokens.renew_at == clock.now + 300


def test_the_rotated_refresh_token_is_used_next_and_given_to_on_tokens(server, clock):
    received: list[TokenPair] = []
    auth = login_auth(clock, on_tokens=received.append)
    with sync_client(server, auth) as client:
        client.get(API)
        for _ in range(2):
            clock.now += 300
            client.get(API)
    assert [pair.refresh_token for pair in received] == ["refresh-0", "refresh-1", "refresh-2"]
    assert server.seen_refresh_tokens == ["refresh-0", "refresh-1"]
    assert server.reuses == 0


def test_a_401_refreshes_and_sends_the_request_once_more(server, clock):
    with sync_client(server, login_auth(clock)) as client:
        client.get(API)
        server.expire_access_tokens()
        response = client.get(API)
    assert response.status_code == 200
    assert server.refreshes == 1
    assert [r.status_code for r in response.history] == [401, 200]  # the refused request, the refresh


def test_a_request_body_is_sent_again_after_a_401(server, clock):
    bodies = []

    def handler(request):
        if request.url.path == "/api":
            bodies.append(request.content)
        return server.sync_handler(request)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=login_auth(clock)) as client:
        client.get(API)
        server.expire_access_tokens()
        client.post(API, content=iter([b"chunk-1 ", b"chunk-2"]))
    assert bodies[-2:] == [b"chunk-1 chunk-2", b"chunk-1 chunk-2"]


def test_a_second_401_is_returned_not_retried(server, clock):
    def handler(request):
        if request.url.path == "/api":
            return httpx.Response(401)
        return server.sync_handler(request)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=login_auth(clock)) as client:
        response = client.get(API)
    assert response.status_code == 401
    assert (server.logins, server.refreshes) == (1, 1)


# ---- failures


def test_a_refused_login_is_a_typed_error(server, clock):
    auth = TokenAuth(BASE, username=USERNAME, password="wrong password", clock=clock)
    with sync_client(server, auth) as client, pytest.raises(LoginFailedError) as caught:
        client.get(API)
    assert caught.value.status == 401
    assert "wrong password" not in str(caught.value)


def test_a_throttled_login_says_when_to_retry(clock):
    def handler(request):
        return httpx.Response(429, headers={"Retry-After": "42"}, json={"error": "throttled"})

    auth = login_auth(clock)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client, \
            pytest.raises(LoginFailedError) as caught:
        client.get(API)
    assert (caught.value.status, caught.value.retry_after) == (429, 42)


def test_a_refused_refresh_ends_the_session_with_a_typed_error(server, clock):
    with sync_client(server, login_auth(clock)) as client:
        client.get(API)
        server.live_refresh.clear()  # revoked on the server (logout elsewhere, reuse detection)
        clock.now += 300
        with pytest.raises(SessionEndedError, match="log in again"):
            client.get(API)


def test_after_the_session_ended_requests_fail_at_once_without_calling_the_server(server, clock):
    auth = login_auth(clock)
    with sync_client(server, auth) as client:
        client.get(API)
        server.refresh_status = 401
        server.expire_access_tokens()
        with pytest.raises(SessionEndedError):
            client.get(API)
        calls = len(server.token_requests)
        for _ in range(3):
            with pytest.raises(SessionEndedError):
                client.get(API)
    assert len(server.token_requests) == calls
    assert auth.tokens is None


def test_a_failing_token_endpoint_is_a_typed_error_and_the_next_request_retries(server, clock):
    auth = login_auth(clock)
    with sync_client(server, auth) as client:
        client.get(API)
        clock.now += 300
        server.refresh_status = 503
        with pytest.raises(TokenEndpointError) as caught:
            client.get(API)
        assert caught.value.status == 503
        server.refresh_status = None
        assert client.get(API).status_code == 200
    assert server.reuses == 0


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'{"access_token": 1, "refresh_token": "r"}'])
def test_a_token_answer_that_is_not_a_pair_is_a_typed_error(clock, body):
    def handler(request):
        return httpx.Response(200, content=body)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=login_auth(clock)) as client, \
            pytest.raises(TokenEndpointError):
        client.get(API)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username": USERNAME}, ValueError),
        ({"password": PASSWORD}, ValueError),
        ({}, ValueError),
        ({"username": USERNAME, "password": PASSWORD, "refresh_token": "r"}, ValueError),
        ({"refresh_token": ""}, TypeError),
        ({"refresh_token": "r", "margin": -1}, ValueError),
        ({"refresh_token": "r", "margin": float("nan")}, ValueError),
    ],
)
def test_bad_arguments_are_refused_when_built(kwargs, error):
    with pytest.raises(error):
        TokenAuth(BASE, **kwargs)


@pytest.mark.parametrize("url", ["auth.test", "ftp://auth.test", "/auth"])
def test_the_base_url_must_be_absolute_http(url):
    with pytest.raises(ValueError, match="base_url"):
        TokenAuth(url, refresh_token="r")


def test_tokens_never_print(server, clock):
    auth = login_auth(clock)
    with sync_client(server, auth) as client:
        client.get(API)
    assert auth.tokens.access_token not in repr(auth.tokens)
    assert auth.tokens.refresh_token not in repr(auth.tokens)


# ---- one renewal in flight


def test_fifty_threads_past_the_renewal_time_share_one_refresh(clock):
    server = FakeServer(clock, delay=0.05)
    with sync_client(server, login_auth(clock)) as client:
        client.get(API)
        clock.now += 300
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda _: client.get(API).status_code, range(50)))
    assert statuses == [200] * 50
    assert (server.refreshes, server.reuses) == (1, 0)


def test_fifty_threads_answered_401_share_one_refresh(clock):
    server = FakeServer(clock, delay=0.05)
    with sync_client(server, login_auth(clock)) as client:
        client.get(API)
        server.expire_access_tokens()
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda _: client.get(API).status_code, range(50)))
    assert statuses == [200] * 50
    assert (server.refreshes, server.reuses) == (1, 0)


def test_fifty_threads_at_the_first_request_share_one_login(clock):
    server = FakeServer(clock, delay=0.05)
    with sync_client(server, login_auth(clock)) as client, ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda _: client.get(API).status_code, range(50)))
    assert statuses == [200] * 50
    assert (server.logins, server.refreshes) == (1, 0)


@pytest.mark.anyio
async def test_fifty_tasks_past_the_renewal_time_share_one_refresh(clock):
    server = FakeServer(clock, delay=0.05)
    async with async_client(server, login_auth(clock)) as client:
        await client.get(API)
        clock.now += 300
        responses = await asyncio.gather(*(client.get(API) for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert (server.refreshes, server.reuses) == (1, 0)


@pytest.mark.anyio
async def test_fifty_tasks_answered_401_share_one_refresh(clock):
    server = FakeServer(clock, delay=0.05)
    async with async_client(server, login_auth(clock)) as client:
        await client.get(API)
        server.expire_access_tokens()
        responses = await asyncio.gather(*(client.get(API) for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert (server.refreshes, server.reuses) == (1, 0)


@pytest.mark.anyio
async def test_fifty_tasks_at_the_first_request_share_one_login(clock):
    server = FakeServer(clock, delay=0.05)
    async with async_client(server, login_auth(clock)) as client:
        responses = await asyncio.gather(*(client.get(API) for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert (server.logins, server.refreshes) == (1, 0)


@pytest.mark.anyio
async def test_an_async_refused_refresh_ends_the_session(server, clock):
    async with async_client(server, login_auth(clock)) as client:
        await client.get(API)
        server.refresh_status = 401
        clock.now += 300
        with pytest.raises(SessionEndedError):
            await client.get(API)
        with pytest.raises(SessionEndedError):
            await client.get(API)
    assert server.refreshes == 1


def test_one_auth_serves_one_event_loop_after_another(server, clock):
    auth = login_auth(clock)

    async def call():
        async with async_client(server, auth) as client:
            clock.now += 300
            return (await client.get(API)).status_code

    assert [asyncio.run(call()) for _ in range(2)] == [200, 200]
    assert (server.logins, server.refreshes) == (1, 1)
