"""``TokenStore.spend_refresh_for_user``: the refresh's one store call checks the user and spends
the token together, on every adapter (memory, SQLite, PostgreSQL) with the same outcomes, and
spends nothing for a deleted or disabled user."""

import asyncio

import pytest

from jwtkit.auth.models import RefreshRecord
from jwtkit.auth.ports import SpendResult

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def token(jti, *, user_id, ttl=100.0):
    return RefreshRecord(jti=jti, family_id="fam-1", user_id=user_id, issued_at=NOW, expires_at=NOW + ttl,
                         access_expires_at=NOW + 10, access_jti=f"a-{jti}")


def spend_as(stores, user_id, jti, now, successor):
    return stores.tokens.spend_refresh_for_user(user_id, jti, now=now, successor=token(successor, user_id=user_id))


async def alice_with_a_token(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id))
    return user


async def test_a_live_users_token_is_spent_and_the_user_comes_back(stores):
    user = await alice_with_a_token(stores)
    spend = await spend_as(stores, user.id, "r1", NOW + 1, "r2")
    assert spend.result is SpendResult.SPENT
    assert (spend.user.id, spend.user.username, spend.user.disabled_at) == (user.id, "alice", None)
    assert (await stores.tokens.get_refresh("r1")).spent_at == NOW + 1
    assert await stores.tokens.get_refresh("r2") is not None


async def test_a_spent_token_is_reused(stores):
    user = await alice_with_a_token(stores)
    await spend_as(stores, user.id, "r1", NOW + 1, "r2")
    spend = await spend_as(stores, user.id, "r1", NOW + 2, "r3")
    assert spend.result is SpendResult.REUSED
    assert spend.user.username == "alice"
    assert await stores.tokens.get_refresh("r3") is None


async def test_a_revoked_familys_token_is_revoked_and_not_spent(stores):
    user = await alice_with_a_token(stores)
    await stores.tokens.revoke(family_ids=["fam-1"], denials=[], now=NOW)
    spend = await spend_as(stores, user.id, "r1", NOW + 1, "r2")
    assert spend.result is SpendResult.REVOKED
    assert (await stores.tokens.get_refresh("r1")).spent_at is None
    assert await stores.tokens.get_refresh("r2") is None


async def test_an_unknown_or_expired_token_is_unknown(stores):
    user = await alice_with_a_token(stores)
    unknown = await spend_as(stores, user.id, "nope", NOW, "r2")
    expired = await spend_as(stores, user.id, "r1", NOW + 100, "r3")
    assert (unknown.result, expired.result) == (SpendResult.UNKNOWN, SpendResult.UNKNOWN)
    assert (await stores.tokens.get_refresh("r1")).spent_at is None


async def test_a_deleted_user_spends_nothing(stores):
    user = await alice_with_a_token(stores)

    spend = await stores.tokens.spend_refresh_for_user(user.id + 1, "r1", now=NOW + 1,
                                                       successor=token("r2", user_id=user.id))
    assert (spend.user, spend.result) == (None, None)
    assert (await stores.tokens.get_refresh("r1")).spent_at is None
    assert await stores.tokens.get_refresh("r2") is None


async def test_a_disabled_user_spends_nothing(stores):
    user = await alice_with_a_token(stores)
    assert await stores.users.set_disabled(user.id, disabled_at=NOW)
    spend = await spend_as(stores, user.id, "r1", NOW + 1, "r2")
    assert spend.result is None
    assert spend.user.disabled_at == NOW
    assert (await stores.tokens.get_refresh("r1")).spent_at is None
    assert await stores.tokens.get_refresh("r2") is None


async def test_concurrent_spends_of_one_token_spend_it_once(stores):
    user = await alice_with_a_token(stores)
    spends = await asyncio.gather(*(
        stores.tokens.spend_refresh_for_user(user.id, "r1", now=NOW + 1, successor=token(f"s{i}", user_id=user.id))
        for i in range(10)))
    assert sorted(s.result.value for s in spends) == ["reused"] * 9 + ["spent"]
