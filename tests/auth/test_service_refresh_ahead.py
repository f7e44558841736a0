"""A refresh signs its new pair while the store spends the old token (where the store waits, as
PostgreSQL does), for the user the refresh token names; the store's user decides which pair is
answered. In memory here, the store waits once before it answers, as a database would."""

import asyncio

import pytest

import jwtkit
import jwtkit.auth.flows as flows
from jwtkit.auth.errors import InvalidTokenError
from jwtkit.storage.memory import MemoryStore

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio


class WaitingStore(MemoryStore):
    """A memory store whose refresh spend waits once, as a database round trip does, and says
    when it was sent and when it answered."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[str] = []

    async def spend_refresh_for_user(self, *args, **kwargs):
        self.steps.append("spend sent")
        await asyncio.sleep(0)
        answer = await super().spend_refresh_for_user(*args, **kwargs)
        self.steps.append("spend answered")
        return answer


@pytest.fixture
def memory_store():
    return WaitingStore()


@pytest.fixture
def backend():
    return "memory"


@pytest.fixture
async def pair(service, alice):
    return await service.login("alice", PASSWORD, client="c")


def claims_of(token):
    return jwtkit.decode_unverified(token)[1]


def refresh_token_naming(service, pair, username):
    """``pair``'s refresh token, re-signed by the server's refresh key with ``username`` in it
    (or without one: None)."""
    claims = claims_of(pair.refresh_token)
    if username is None:
        del claims["username"]
    else:
        claims["username"] = username
    return jwtkit.encode(claims, service.keys.refresh_signer)


async def test_a_refresh_token_names_its_user(service, pair):
    assert claims_of(pair.refresh_token)["username"] == "alice"


async def test_the_new_pair_is_signed_while_the_store_spends_the_old_token(service, pair, memory_store,
                                                                         monkeypatch):
    signing = flows.sign_pair

    def recorded(*args, **kwargs):
        memory_store.steps.append("signed")
        return signing(*args, **kwargs)

    monkeypatch.setattr(flows, "sign_pair", recorded)

    new = await service.refresh(pair.refresh_token)

    assert memory_store.steps == ["spend sent", "signed", "spend answered"]
    assert service.authenticate(new.access_token).username == "alice"


async def test_a_refresh_token_naming_another_name_gets_a_pair_for_its_user_s_real_name(service, pair):
    forged_name = refresh_token_naming(service, pair, "mallory")

    new = await service.refresh(forged_name)

    assert claims_of(new.access_token)["username"] == "alice"
    assert claims_of(new.refresh_token)["username"] == "alice"


async def test_a_refresh_token_naming_no_one_still_refreshes_for_its_user(service, pair):
    older = refresh_token_naming(service, pair, None)

    new = await service.refresh(older)

    assert service.authenticate(new.access_token).username == "alice"


async def test_a_reused_refresh_token_signed_ahead_is_still_refused_and_its_family_revoked(service, pair):
    new = await service.refresh(pair.refresh_token)

    with pytest.raises(InvalidTokenError) as reused:
        await service.refresh(pair.refresh_token)
    with pytest.raises(InvalidTokenError) as revoked:
        await service.refresh(new.refresh_token)
    assert "reused" in reused.value.reason
    assert "revoked" in revoked.value.reason


async def test_a_refresh_for_a_disabled_user_is_refused_though_its_pair_was_signed_ahead(service, pair):
    await service.disable_user("alice")

    with pytest.raises(InvalidTokenError) as caught:
        await service.refresh(pair.refresh_token)
    assert caught.value.kind == "ended"
