"""Work done once: a refresh signs one pair, the one the store let it spend (signed after the
store's answer, or during its wait where it waits: PostgreSQL), the revoking process applies its
denials once (not again from its own feed message), a rotation reloads the ring once."""

import asyncio

import pytest

import jwtkit.auth.flows
from jwtkit.auth.errors import InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio


@pytest.fixture
def signed(monkeypatch):
    """``(when, record)`` of each pair the token flows signed: "ahead" while the store spends,
    "after" once it answered."""
    records = []
    resign, sign = jwtkit.auth.flows.resign_pair, jwtkit.auth.flows.sign_pair

    def resigning(key, refresh_key, settings, user, record):
        records.append(("after", record))
        return resign(key, refresh_key, settings, user, record)

    def signing_ahead(key, refresh_key, settings, user_id, username, record):
        records.append(("ahead", record))
        return sign(key, refresh_key, settings, user_id, username, record)

    monkeypatch.setattr(jwtkit.auth.flows, "resign_pair", resigning)
    monkeypatch.setattr(jwtkit.auth.flows, "sign_pair", signing_ahead)
    return records


async def test_a_refresh_signs_one_pair_the_successor_the_store_spent_with(service, alice, signed):
    pair = await service.login("alice", PASSWORD, client="c")

    new = await service.refresh(pair.refresh_token)

    ((_, record),) = signed
    assert service.authenticate(new.access_token).jti == record.access_jti


async def test_a_refresh_signs_ahead_only_where_the_store_waits(service, alice, signed, backend):
    pair = await service.login("alice", PASSWORD, client="c")

    await service.refresh(pair.refresh_token)

    ((when, _),) = signed
    assert when == ("ahead" if backend.startswith("postgresql") else "after")


async def test_a_reused_refresh_token_signs_nothing_once_refused(service, alice, signed, backend):
    pair = await service.login("alice", PASSWORD, client="c")
    await service.refresh(pair.refresh_token)
    signed.clear()

    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)

    assert [when for when, _ in signed] == (["ahead"] if backend.startswith("postgresql") else [])


async def test_the_revoking_process_applies_its_denials_once(service, alice, monkeypatch):
    pair = await service.login("alice", PASSWORD, client="c")
    applied = []
    apply = service.revocations.apply
    monkeypatch.setattr(service.revocations, "apply", lambda denials: (applied.append(denials), apply(denials)))

    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)

    assert [{denial.kind for denial in denials} for denials in applied] == [{"jti", "family"}]


async def test_a_rotation_reads_the_keys_once(service, monkeypatch):
    reads = []
    signing_keys = service.stores.keys.signing_keys

    async def counting():
        reads.append(1)
        return await signing_keys()

    monkeypatch.setattr(service.stores.keys, "signing_keys", counting)

    kid = await service.rotate_keys()
    await asyncio.sleep(0.05)  # room for a background reload, had the feed's echo started one

    assert (len(reads), service.keys.active.kid) == (1, kid)
