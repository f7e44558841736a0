"""Login: the token pair, one error for unknown users and wrong passwords, dummy hashing,
rehash on new parameters, and hashing off the event loop."""

import threading

import argon2
import pytest

import jwtkit
from jwtkit.auth.errors import InvalidCredentialsError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



async def test_login_issues_an_access_and_a_refresh_token(service, alice, clock, settings):
    pair = await service.login("alice", PASSWORD, client="c")
    assert pair.token_type == "Bearer"
    assert pair.expires_in == settings.access_ttl
    access = jwtkit.decode_unverified(pair.access_token)
    refresh = jwtkit.decode_unverified(pair.refresh_token)
    assert access[0]["kid"] == refresh[0]["kid"]
    claims = access[1]
    assert claims["token_type"] == "access"
    assert (claims["user_id"], claims["username"]) == (alice.id, "alice")
    assert claims["iat"] == int(clock.now)
    assert claims["exp"] == int(clock.now) + settings.access_ttl
    assert refresh[1]["token_type"] == "refresh"
    assert refresh[1]["exp"] == int(clock.now) + settings.refresh_ttl
    assert refresh[1]["fid"] == claims["fid"]
    assert refresh[1]["jti"] != claims["jti"]


async def test_each_login_gets_unique_jtis_and_a_new_family(service, alice):
    one = jwtkit.decode_unverified((await service.login("alice", PASSWORD, client="c")).access_token)[1]
    two = jwtkit.decode_unverified((await service.login("alice", PASSWORD, client="c")).access_token)[1]
    assert one["jti"] != two["jti"]
    assert one["fid"] != two["fid"]


async def test_issuer_and_audience_are_set_and_checked_when_configured(open_service):
    service = await open_service(issuer="https://auth.example", audience="api")
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    claims = jwtkit.decode_unverified(pair.access_token)[1]
    assert (claims["iss"], claims["aud"]) == ("https://auth.example", "api")
    assert service.authenticate(pair.access_token).claims["iss"] == "https://auth.example"


async def test_wrong_password_and_unknown_user_fail_alike(service, alice):
    with pytest.raises(InvalidCredentialsError) as wrong:
        await service.login("alice", "wrong password", client="c")
    with pytest.raises(InvalidCredentialsError) as unknown:
        await service.login("mallory", "wrong password", client="c")
    assert (wrong.value.code, wrong.value.message) == (unknown.value.code, unknown.value.message)


async def test_an_unknown_user_costs_one_argon2_verification_like_a_known_one(service, alice, monkeypatch):
    calls = []
    original = argon2.PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", "wrong password", client="c")
    with pytest.raises(InvalidCredentialsError):
        await service.login("mallory", "wrong password", client="c")
    assert len(calls) == 2
    assert all(hash.startswith("$argon2id$") for hash in calls)


async def test_password_hashing_runs_off_the_event_loop_thread(service, monkeypatch):
    threads = []
    original = argon2.PasswordHasher.hash

    def recording(self, password, **kwargs):
        threads.append(threading.get_ident())
        return original(self, password, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", recording)
    await service.register("alice", PASSWORD)
    assert threads
    assert threading.get_ident() not in threads


async def test_changed_argon2_parameters_rehash_at_the_next_login(open_service):
    first = await open_service()
    user = await first.register("alice", PASSWORD)
    old_hash = (await first.stores.users.get_user(user.id)).password_hash
    second = await open_service(password_time_cost=2)
    await second.login("alice", PASSWORD, client="c")
    new_hash = (await second.stores.users.get_user(user.id)).password_hash
    assert new_hash != old_hash
    assert "t=2" in new_hash
    await second.login("alice", PASSWORD, client="c")  # the new hash verifies


async def test_non_string_credentials_are_invalid_credentials(service, alice):
    with pytest.raises(InvalidCredentialsError):
        await service.login(["alice"], PASSWORD, client="c")
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", {"$ne": ""}, client="c")


async def test_an_oversized_password_is_refused_without_hashing(service, alice, monkeypatch):
    monkeypatch.setattr(argon2.PasswordHasher, "verify", lambda *a: pytest.fail("hashed a huge password"))
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", "x" * 100_000, client="c")


async def test_a_password_with_a_lone_surrogate_is_a_wrong_password(service, alice):
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", "\ud800aaaaaaaa", client="10.0.0.1")


async def test_a_lone_surrogate_password_for_an_unknown_user_is_a_wrong_password(service):
    with pytest.raises(InvalidCredentialsError):
        await service.login("nobody", "\ud800aaaaaaaa", client="10.0.0.1")


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
async def test_a_username_with_nul_is_an_unknown_user_on_every_backend(service, backend):
    with pytest.raises(InvalidCredentialsError):
        await service.login("a\x00b", "wrong password", client="c")


@pytest.mark.parametrize("username", ["a\x00b", "al ice", "x" * 151, "al\ud800ice", ""])
async def test_a_username_breaking_the_rules_is_not_looked_up(service, username, monkeypatch):
    async def no_lookup(name):
        raise AssertionError("looked up a username that breaks the rules")

    monkeypatch.setattr(service.stores.users, "get_user_by_name", no_lookup)
    with pytest.raises(InvalidCredentialsError):
        await service.login(username, "wrong password", client="c")
