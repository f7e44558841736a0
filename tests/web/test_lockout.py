"""Lockout over HTTP: a successful login on ``/auth/token`` or ``/session/login`` sets
the ``jwtkit_device`` cookie (HttpOnly, SameSite=Strict, Path = each login path); with it the owner
logs in from an address an attacker has locked; ``/auth/register`` is limited per address (429 +
Retry-After, taken names included) and refuses look-alike usernames."""

from __future__ import annotations

import contextlib
from http.cookies import SimpleCookie

import pytest

from .conftest import PASSWORD, register

pytestmark = pytest.mark.anyio

ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40000)


@contextlib.asynccontextmanager
async def clients(app):
    """``(attacker, owner)``: two clients of one running app, from two addresses."""
    async with app.router.lifespan_context(app):
        import httpx

        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=ATTACKER), base_url="http://testserver")
            as attacker,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=OWNER), base_url="http://testserver")
            as owner,
        ):
            yield attacker, owner


def device_cookies(response) -> list:
    found = []
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if "jwtkit_device" in cookie:
            found.append(cookie["jwtkit_device"])
    return found


async def attack(client, settings, path="/auth/token"):
    for _ in range(settings.login_max_failures):
        response = await client.post(path, json={"username": "alice", "password": "wrong password"})
        assert response.status_code == 401


@pytest.mark.parametrize("path", ["/auth/token", "/session/login"])
async def test_a_successful_login_sets_the_device_cookie_for_both_login_paths(client, path):
    await register(client)
    response = await client.post(path, json={"username": "alice", "password": PASSWORD})

    cookies = device_cookies(response)
    assert sorted(morsel["path"] for morsel in cookies) == ["/auth/token", "/session/login"]
    for morsel in cookies:
        assert morsel.value
        assert morsel["httponly"] is True
        assert morsel["samesite"].lower() == "strict"
        assert int(morsel["max-age"]) > 0


async def test_a_failed_login_sets_no_device_cookie(client):
    await register(client)
    response = await client.post("/auth/token", json={"username": "alice", "password": "wrong password"})

    assert device_cookies(response) == []


async def test_an_attackers_failures_do_not_stop_the_owner_from_another_address(app, settings):
    async with clients(app) as (attacker, owner):
        await register(owner)
        await attack(attacker, settings)
        locked = await attacker.post("/auth/token", json={"username": "alice", "password": PASSWORD})
        response = await owner.post("/auth/token", json={"username": "alice", "password": PASSWORD})

    assert locked.status_code == 429
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/auth/token", "/session/login"])
async def test_the_owners_device_cookie_gets_through_from_the_attackers_address(app, settings, path):
    async with clients(app) as (attacker, owner):
        await register(owner)
        first = await owner.post(path, json={"username": "alice", "password": PASSWORD})
        cookie = device_cookies(first)[0].value
        await attack(attacker, settings, path)
        attacker.cookies.set("jwtkit_device", cookie)  # the owner now logs in from the attacker's NAT
        response = await attacker.post(path, json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 200, response.text


async def test_a_forged_device_cookie_gets_no_bypass_over_http(app, settings):
    async with clients(app) as (attacker, owner):
        await register(owner)
        await attack(attacker, settings)
        attacker.cookies.set("jwtkit_device", "v1.YWxpY2U.AAAAAAAAAAAAAAAAAAAAAA.1900000000.forged")
        response = await attacker.post("/auth/token", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 429


# ---- registration


@pytest.fixture
def settings():
    from jwtkit.auth.settings import AuthSettings

    from .conftest import FAST_HASHING

    return AuthSettings(**FAST_HASHING, register_max_per_client=3)


async def test_registration_is_limited_per_address_with_retry_after(client):
    for i in range(3):
        await register(client, f"user{i}")
    response = await client.post("/auth/register", json={"username": "user3", "password": PASSWORD})

    assert response.status_code == 429
    assert response.json()["error"] == "throttled"
    assert int(response.headers["retry-after"]) > 0


async def test_taken_usernames_count_towards_the_registration_limit(client):
    await register(client, "alice")
    answers = [(await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})).status_code
               for _ in range(3)]

    assert answers == [409, 409, 429]


async def test_a_look_alike_username_is_refused_with_409(client):
    await register(client, "admin")
    response = await client.post("/auth/register", json={"username": "Admin", "password": PASSWORD})

    assert response.status_code == 409


async def test_another_address_may_still_register_over_http(app):
    async with clients(app) as (attacker, owner):
        for i in range(3):
            await register(attacker, f"user{i}")
        response = await owner.post("/auth/register", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 201

