"""The refresh-reuse grace (``AuthSettings.refresh_reuse_grace``): within it, a refresh token
spent again gets the pair its first spend issued (same jtis and claims) and the family lives;
after it, reuse revokes the family as before. Raced on memory, SQLite and PostgreSQL, in one
service and in two services on one database (two workers)."""

import asyncio
import collections

import pytest
import sqlalchemy as sa

import jwtkit
from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.ports import SpendResult
from jwtkit.auth.settings import AuthSettings
from jwtkit.storage.memory import MemoryStore

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

GRACE = 5.0


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request):
    return request.param


def claims_of(token):
    return jwtkit.decode_unverified(token)[1]


class CountingStore(MemoryStore):
    """The memory store, counting the refresh tokens it stores per family."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: collections.Counter[str] = collections.Counter()

    async def start_family(self, first):
        await super().start_family(first)
        self.stored[first.family_id] += 1

    async def spend_refresh(self, jti, *, now, successor):
        result = await super().spend_refresh(jti, now=now, successor=successor)
        if result is SpendResult.SPENT:
            self.stored[successor.family_id] += 1
        return result


@pytest.fixture
def memory_store():
    return CountingStore()


async def family_tokens(service, family_id):
    """How many refresh tokens the family has in storage (the one logged in with, and successors)."""
    store = service.stores.tokens
    if isinstance(store, CountingStore):
        return store.stored[family_id]
    async with store.engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM refresh_tokens WHERE family_id = :f")
        return (await conn.execute(query, {"f": family_id})).scalar()


async def test_concurrent_refreshes_within_the_grace_all_get_the_same_pair(open_service):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")

    results = await asyncio.gather(*(service.refresh(pair.refresh_token) for _ in range(20)))

    assert len({claims_of(r.refresh_token)["jti"] for r in results}) == 1
    assert len({claims_of(r.access_token)["jti"] for r in results}) == 1
    assert await family_tokens(service, claims_of(pair.refresh_token)["fid"]) == 2  # exactly one successor


async def test_the_family_lives_on_after_concurrent_refreshes_within_the_grace(open_service):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")

    results = await asyncio.gather(*(service.refresh(pair.refresh_token) for _ in range(20)))

    assert service.authenticate(results[-1].access_token).username == "alice"
    await service.verify_token(results[-1].refresh_token)
    assert service.authenticate((await service.refresh(results[0].refresh_token)).access_token).username == "alice"


async def test_a_replay_within_the_grace_gets_the_same_claims(open_service, clock):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    first = await service.refresh(pair.refresh_token)
    clock.advance(GRACE - 1)

    again = await service.refresh(pair.refresh_token)

    assert claims_of(again.access_token) == claims_of(first.access_token)
    assert claims_of(again.refresh_token) == claims_of(first.refresh_token)
    assert again.expires_in == first.expires_in


async def test_reuse_after_the_grace_revokes_the_family(open_service, clock):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    first = await service.refresh(pair.refresh_token)
    clock.advance(GRACE + 1)

    with pytest.raises(InvalidTokenError) as reused:
        await service.refresh(pair.refresh_token)
    assert "reused" in reused.value.reason
    with pytest.raises(InvalidTokenError):
        service.authenticate(first.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(first.refresh_token)


async def test_concurrent_refreshes_then_a_replay_after_the_grace_revoke_the_family(open_service, clock):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    results = await asyncio.gather(*(service.refresh(pair.refresh_token) for _ in range(10)))
    clock.advance(GRACE + 1)

    with pytest.raises(InvalidTokenError) as reused:
        await service.refresh(pair.refresh_token)
    assert "reused" in reused.value.reason
    with pytest.raises(InvalidTokenError):
        service.authenticate(results[0].access_token)


async def test_a_replay_within_the_grace_of_a_logged_out_family_is_refused(open_service):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    first = await service.refresh(pair.refresh_token)
    await service.logout(service.authenticate(first.access_token), first.refresh_token)

    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)


async def test_without_a_grace_a_second_spend_is_reuse_as_before(open_service):
    service = await open_service()
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    first = await service.refresh(pair.refresh_token)

    with pytest.raises(InvalidTokenError) as reused:
        await service.refresh(pair.refresh_token)
    assert "reused" in reused.value.reason
    with pytest.raises(InvalidTokenError):
        service.authenticate(first.access_token)


async def test_a_replay_is_signed_by_the_active_key_after_a_rotation(open_service):
    service = await open_service(refresh_reuse_grace=GRACE)
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    first = await service.refresh(pair.refresh_token)
    new_kid = await service.rotate_keys()

    again = await service.refresh(pair.refresh_token)

    assert jwtkit.decode_unverified(again.access_token)[0]["kid"] == new_kid
    assert claims_of(again.access_token) == claims_of(first.access_token)
    assert service.authenticate(again.access_token).jti == claims_of(first.access_token)["jti"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
async def test_two_services_on_one_database_answer_a_race_within_the_grace_with_one_pair(open_service):
    first, second = await open_service(refresh_reuse_grace=GRACE), await open_service(refresh_reuse_grace=GRACE)
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")

    calls = [(first if i % 2 else second).refresh(pair.refresh_token) for i in range(20)]
    results = await asyncio.gather(*calls)

    assert len({claims_of(r.refresh_token)["jti"] for r in results}) == 1
    assert len({claims_of(r.access_token)["jti"] for r in results}) == 1
    assert await family_tokens(first, claims_of(pair.refresh_token)["fid"]) == 2
    assert first.authenticate(results[0].access_token).username == "alice"
    assert second.authenticate(results[1].access_token).username == "alice"


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), True, "5"])
def test_a_bad_grace_is_refused_when_the_settings_are_built(value):
    with pytest.raises(ValueError, match="refresh_reuse_grace"):
        AuthSettings(refresh_reuse_grace=value)
