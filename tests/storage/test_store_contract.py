"""The storage contract (auth.ports), one suite for every adapter: memory, SQLite, PostgreSQL."""

import asyncio
import dataclasses

import pytest

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.auth.models import Denial, RefreshRecord, SessionRecord, SigningKeyRecord
from jwtkit.auth.ports import SpendResult

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def token(jti, family="fam-1", *, user_id=1, issued_at=NOW, ttl=100.0):
    return RefreshRecord(jti=jti, family_id=family, user_id=user_id, issued_at=issued_at, expires_at=issued_at + ttl)


def key_record(kid, created_at=NOW):
    return SigningKeyRecord(kid=kid, alg="ES256", private_jwk=f'{{"kid": "{kid}"}}', encrypted=False,
                            created_at=created_at)


# ---- users


async def test_created_user_is_found_by_name_and_by_id(stores):
    created = await stores.users.create_user("alice", "hash-a", now=NOW)
    assert created.username == "alice"
    assert await stores.users.get_user_by_name("alice") == created
    assert await stores.users.get_user(created.id) == created


async def test_users_get_distinct_ids(stores):
    a = await stores.users.create_user("alice", "h", now=NOW)
    b = await stores.users.create_user("bob", "h", now=NOW)
    assert a.id != b.id


async def test_duplicate_username_is_refused(stores):
    await stores.users.create_user("alice", "h", now=NOW)
    with pytest.raises(UsernameTakenError):
        await stores.users.create_user("alice", "other", now=NOW)


@pytest.mark.parametrize("look_alike", ["Alice", "ALICE", "aLiCe", "\uff41lice"])
async def test_usernames_are_unique_regardless_of_case_and_unicode_form(stores, look_alike):
    await stores.users.create_user("alice", "h", now=NOW)
    with pytest.raises(UsernameTakenError):
        await stores.users.create_user(look_alike, "h", now=NOW)


async def test_a_user_is_found_by_any_casing_and_keeps_the_registered_form(stores):
    created = await stores.users.create_user("Alice", "h", now=NOW)
    for spelling in ("alice", "ALICE", "Alice"):
        found = await stores.users.get_user_by_name(spelling)
        assert found == created  # the registered form, whatever the spelling asked


async def test_a_server_secret_is_stored_once_and_then_always_returned(stores):
    first = await stores.keys.server_secret("device-cookie", candidate=b"\x01" * 32, now=NOW)
    second = await stores.keys.server_secret("device-cookie", candidate=b"\x02" * 32, now=NOW)
    other = await stores.keys.server_secret("another", candidate=b"\x03" * 32, now=NOW)
    assert (first, second, other) == (b"\x01" * 32, b"\x01" * 32, b"\x03" * 32)


async def test_unknown_user_is_none(stores):
    assert await stores.users.get_user_by_name("nobody") is None
    assert await stores.users.get_user(424242) is None


async def test_password_hash_can_be_replaced(stores):
    user = await stores.users.create_user("alice", "old", now=NOW)
    await stores.users.set_password_hash(user.id, "new")
    assert (await stores.users.get_user(user.id)).password_hash == "new"


# ---- refresh families


async def _user_and_family(stores, jti="r1", family="fam-1"):
    user = await stores.users.create_user(f"u-{family}", "h", now=NOW)
    await stores.tokens.start_family(token(jti, family, user_id=user.id))
    return user


async def test_started_family_token_is_live(stores):
    user = await _user_and_family(stores)
    record = await stores.tokens.get_refresh("r1")
    assert record == token("r1", user_id=user.id)
    assert record.spent_at is None
    assert record.revoked_at is None


async def test_unknown_refresh_token_is_none(stores):
    assert await stores.tokens.get_refresh("nope") is None


async def test_spending_a_live_token_stores_its_successor(stores):
    user = await _user_and_family(stores)
    successor = token("r2", user_id=user.id, issued_at=NOW + 1)
    result = await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=successor)
    assert result is SpendResult.SPENT
    assert (await stores.tokens.get_refresh("r1")).spent_at == NOW + 1
    assert (await stores.tokens.get_refresh("r2")).spent_at is None


async def test_spending_a_spent_token_is_reuse_and_changes_nothing(stores):
    user = await _user_and_family(stores)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=token("r2", user_id=user.id))
    result = await stores.tokens.spend_refresh("r1", now=NOW + 2, successor=token("r3", user_id=user.id))
    assert result is SpendResult.REUSED
    assert await stores.tokens.get_refresh("r3") is None
    assert (await stores.tokens.get_refresh("r1")).spent_at == NOW + 1


async def test_spending_an_unknown_token_is_unknown(stores):
    await _user_and_family(stores)
    assert await stores.tokens.spend_refresh("nope", now=NOW, successor=token("r2")) is SpendResult.UNKNOWN
    assert await stores.tokens.get_refresh("r2") is None


async def test_spending_an_expired_token_is_unknown(stores):
    user = await _user_and_family(stores)
    result = await stores.tokens.spend_refresh("r1", now=NOW + 100, successor=token("r2", user_id=user.id))
    assert result is SpendResult.UNKNOWN
    assert await stores.tokens.get_refresh("r2") is None


async def test_spending_a_token_of_a_revoked_family_is_refused(stores):
    user = await _user_and_family(stores)
    await stores.tokens.revoke(family_ids=["fam-1"], denials=[], now=NOW)
    result = await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=token("r2", user_id=user.id))
    assert result is SpendResult.REVOKED
    assert await stores.tokens.get_refresh("r2") is None
    assert (await stores.tokens.get_refresh("r1")).spent_at is None


async def test_of_twenty_concurrent_spends_exactly_one_wins(stores):
    user = await _user_and_family(stores)
    results = await asyncio.gather(
        *(stores.tokens.spend_refresh("r1", now=NOW + 1, successor=token(f"s{i}", user_id=user.id)) for i in range(20))
    )
    assert results.count(SpendResult.SPENT) == 1
    assert results.count(SpendResult.REUSED) == 19
    stored = [i for i in range(20) if await stores.tokens.get_refresh(f"s{i}") is not None]
    assert len(stored) == 1


def paired(jti, **kwargs):
    """A refresh record that describes the access token issued with it (schema version 7)."""
    record = token(jti, **kwargs)
    return dataclasses.replace(record, access_jti=f"a-{jti}", access_expires_at=record.issued_at + 10)


async def test_a_refresh_record_keeps_the_access_token_issued_with_it(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(paired("r1", user_id=user.id))
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=paired("r2", user_id=user.id, issued_at=NOW + 1))
    assert (await stores.tokens.get_refresh("r1")).access_jti == "a-r1"
    assert (await stores.tokens.get_refresh("r2")).access_jti == "a-r2"
    assert (await stores.tokens.get_refresh("r2")).access_expires_at == NOW + 11


async def test_a_spent_token_answers_with_the_successor_its_spend_stored(stores):
    user = await _user_and_family(stores)
    successor = paired("r2", user_id=user.id, issued_at=NOW + 1)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=successor)
    assert await stores.tokens.spent_successor("r1", spent_since=NOW + 1) == successor


async def test_a_replayed_spend_leaves_the_recorded_successor_alone(stores):
    user = await _user_and_family(stores)
    successor = paired("r2", user_id=user.id, issued_at=NOW + 1)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=successor)
    assert await stores.tokens.spend_refresh("r1", now=NOW + 2, successor=paired("r3", user_id=user.id)) \
        is SpendResult.REUSED
    assert await stores.tokens.spent_successor("r1", spent_since=NOW) == successor


async def test_no_successor_for_a_spend_before_the_window(stores):
    user = await _user_and_family(stores)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=paired("r2", user_id=user.id))
    assert await stores.tokens.spent_successor("r1", spent_since=NOW + 1.5) is None


async def test_no_successor_for_an_unspent_or_unknown_token(stores):
    await _user_and_family(stores)
    assert await stores.tokens.spent_successor("r1", spent_since=NOW) is None
    assert await stores.tokens.spent_successor("nope", spent_since=NOW) is None


async def test_no_successor_once_the_family_is_revoked(stores):
    user = await _user_and_family(stores)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=paired("r2", user_id=user.id))
    await stores.tokens.revoke(family_ids=["fam-1"], denials=[], now=NOW + 2)
    assert await stores.tokens.spent_successor("r1", spent_since=NOW) is None


async def test_of_twenty_concurrent_spends_the_losers_all_find_the_one_successor(stores):
    user = await _user_and_family(stores)
    results = await asyncio.gather(*(
        stores.tokens.spend_refresh("r1", now=NOW + 1, successor=paired(f"s{i}", user_id=user.id)) for i in range(20)
    ))
    (winner,) = [f"s{i}" for i, result in enumerate(results) if result is SpendResult.SPENT]
    found = await asyncio.gather(*(stores.tokens.spent_successor("r1", spent_since=NOW) for _ in range(19)))
    assert {record.jti for record in found} == {winner}


async def test_revoking_a_family_revokes_every_token_of_it_and_no_other(stores):
    user = await _user_and_family(stores)
    await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=token("r2", user_id=user.id))
    await _user_and_family(stores, "other-1", "fam-2")
    await stores.tokens.revoke(family_ids=["fam-1"], denials=[], now=NOW + 2)
    assert (await stores.tokens.get_refresh("r1")).revoked_at == NOW + 2
    assert (await stores.tokens.get_refresh("r2")).revoked_at == NOW + 2
    assert (await stores.tokens.get_refresh("other-1")).revoked_at is None


async def test_revocation_adds_denials_that_stay_live_until_they_expire(stores):
    denials = [
        Denial(kind="family", value="fam-9", expires_at=NOW + 20),
        Denial(kind="jti", value="a1", expires_at=NOW + 10),
    ]
    await stores.tokens.revoke(family_ids=[], denials=denials, now=NOW)
    assert sorted(await stores.tokens.live_denials(now=NOW), key=lambda d: d.kind) == denials
    assert await stores.tokens.live_denials(now=NOW + 15) == [denials[0]]
    assert await stores.tokens.live_denials(now=NOW + 20) == []


async def test_a_repeated_denial_keeps_the_later_expiry(stores):
    await stores.tokens.revoke(family_ids=[], denials=[Denial(kind="jti", value="a1", expires_at=NOW + 50)], now=NOW)
    await stores.tokens.revoke(family_ids=[], denials=[Denial(kind="jti", value="a1", expires_at=NOW + 10)], now=NOW)
    assert await stores.tokens.live_denials(now=NOW) == [Denial(kind="jti", value="a1", expires_at=NOW + 50)]
    await stores.tokens.revoke(family_ids=[], denials=[Denial(kind="jti", value="a1", expires_at=NOW + 90)], now=NOW)
    assert await stores.tokens.live_denials(now=NOW) == [Denial(kind="jti", value="a1", expires_at=NOW + 90)]


async def test_a_jti_and_a_family_with_the_same_value_are_distinct_denials(stores):
    denials = [Denial(kind="jti", value="x", expires_at=NOW + 5), Denial(kind="family", value="x", expires_at=NOW + 9)]
    await stores.tokens.revoke(family_ids=[], denials=denials, now=NOW)
    assert len(await stores.tokens.live_denials(now=NOW)) == 2


async def test_denials_since_returns_the_live_entries_written_from_that_time(stores):
    old = Denial(kind="jti", value="old", expires_at=NOW + 50)
    new = Denial(kind="jti", value="new", expires_at=NOW + 50)
    await stores.tokens.revoke(family_ids=[], denials=[old], now=NOW)
    await stores.tokens.revoke(family_ids=[], denials=[new], now=NOW + 5)
    assert await stores.tokens.denials_since(NOW + 5, now=NOW + 6) == [new]
    assert len(await stores.tokens.denials_since(NOW, now=NOW + 6)) == 2
    assert await stores.tokens.denials_since(NOW, now=NOW + 50) == []  # expired


async def test_a_denial_written_again_is_new_again(stores):
    later = Denial(kind="jti", value="a1", expires_at=NOW + 50)
    earlier = Denial(kind="jti", value="a1", expires_at=NOW + 10)
    await stores.tokens.revoke(family_ids=[], denials=[later], now=NOW)
    await stores.tokens.revoke(family_ids=[], denials=[earlier], now=NOW + 5)
    assert await stores.tokens.denials_since(NOW + 5, now=NOW + 6) == [later]


async def test_purge_deletes_expired_refresh_tokens_families_and_denials(stores):
    user = await _user_and_family(stores)  # r1 expires at NOW + 100
    await _user_and_family(stores, "late", "fam-2")
    await stores.tokens.spend_refresh("late", now=NOW + 1, successor=token("late2", "fam-2", user_id=user.id, ttl=500))
    await stores.tokens.revoke(family_ids=[], denials=[Denial(kind="jti", value="a", expires_at=NOW + 50)], now=NOW)
    deleted = await stores.tokens.purge_tokens(now=NOW + 200)
    assert deleted == 4  # r1, late (spent), family fam-1 and the denial; fam-2 lives on with late2
    assert await stores.tokens.get_refresh("r1") is None
    assert (await stores.tokens.get_refresh("late2")).family_id == "fam-2"
    assert await stores.tokens.live_denials(now=NOW) == []


# ---- sessions


async def test_session_round_trip_and_delete(stores):
    record = SessionRecord(key_hash="ab" * 32, data={"user_id": 1, "username": "alice"}, expires_at=NOW + 60)
    await stores.sessions.add_session(record)
    assert await stores.sessions.get_session("ab" * 32) == record
    await stores.sessions.delete_session("ab" * 32)
    assert await stores.sessions.get_session("ab" * 32) is None


async def test_deleting_an_unknown_session_is_not_an_error(stores):
    await stores.sessions.delete_session("cd" * 32)


async def test_purge_deletes_only_expired_sessions(stores):
    await stores.sessions.add_session(SessionRecord(key_hash="01" * 32, data={}, expires_at=NOW + 10))
    live = SessionRecord(key_hash="02" * 32, data={}, expires_at=NOW + 100)
    await stores.sessions.add_session(live)
    assert await stores.sessions.purge_sessions(now=NOW + 50) == 1
    assert await stores.sessions.get_session("01" * 32) is None
    assert await stores.sessions.get_session("02" * 32) == live


# ---- signing keys


async def test_signing_keys_are_listed_oldest_first(stores):
    await stores.keys.add_signing_key(key_record("b", NOW + 1), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("a", NOW), retire_others_at=None, not_after=None)
    assert [r.kid for r in await stores.keys.signing_keys()] == ["a", "b"]


async def test_adding_a_key_can_retire_the_others_in_the_same_step(stores):
    await stores.keys.add_signing_key(key_record("old"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("new", NOW + 5), retire_others_at=NOW + 5, not_after=NOW + 500)
    old, new = await stores.keys.signing_keys()
    assert (old.kid, old.retired_at, old.not_after) == ("old", NOW + 5, NOW + 500)
    assert new == key_record("new", NOW + 5)


async def test_purge_deletes_retired_keys_past_not_after(stores):
    await stores.keys.add_signing_key(key_record("old"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("new", NOW + 5), retire_others_at=NOW + 5, not_after=NOW + 500)
    assert await stores.keys.purge_signing_keys(now=NOW + 400) == 0
    assert await stores.keys.purge_signing_keys(now=NOW + 500) == 1
    assert [r.kid for r in await stores.keys.signing_keys()] == ["new"]


async def _families_signed_by(stores, kids):
    """A user with one live family per entry of ``kids``, each started with a token of that kid."""
    user = await stores.users.create_user("signed", "h", now=NOW)
    for n, kid in enumerate(kids):
        await stores.tokens.start_family(dataclasses.replace(token(f"r{n}", f"fam-{n}", user_id=user.id), kid=kid))
    return user


async def test_retiring_a_key_ends_it_now_and_revokes_the_live_families_it_signed(stores):
    await stores.keys.add_signing_key(key_record("leaked"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("other", NOW + 1), retire_others_at=None, not_after=None)
    await _families_signed_by(stores, ["leaked", "leaked", "other", None])

    assert await stores.keys.retire_signing_key("leaked", now=NOW + 10) == 2

    leaked = {r.kid: r for r in await stores.keys.signing_keys()}["leaked"]
    assert (leaked.retired_at, leaked.not_after) == (NOW + 10, NOW + 10)
    assert [(await stores.tokens.get_refresh(f"r{n}")).revoked_at for n in range(4)] == [NOW + 10, NOW + 10, None, None]


async def test_retiring_a_key_counts_a_family_by_the_key_of_its_latest_tokens(stores):
    await stores.keys.add_signing_key(key_record("old"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("new", NOW + 1), retire_others_at=NOW + 1, not_after=NOW + 500)
    user = await _families_signed_by(stores, ["old"])
    successor = dataclasses.replace(token("r-next", "fam-0", user_id=user.id, issued_at=NOW + 2), kid="new")
    assert await stores.tokens.spend_refresh("r0", now=NOW + 2, successor=successor) is SpendResult.SPENT

    assert await stores.keys.retire_signing_key("old", now=NOW + 3) == 0
    assert await stores.keys.retire_signing_key("new", now=NOW + 4) == 1


async def test_retiring_keeps_the_first_retirement_time_of_a_rotated_key(stores):
    await stores.keys.add_signing_key(key_record("old"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("new", NOW + 5), retire_others_at=NOW + 5, not_after=NOW + 500)
    assert await stores.keys.retire_signing_key("old", now=NOW + 9) == 0
    old = (await stores.keys.signing_keys())[0]
    assert (old.retired_at, old.not_after) == (NOW + 5, NOW + 9)


async def test_retiring_an_unknown_or_dead_key_is_none_and_changes_nothing(stores):
    await stores.keys.add_signing_key(key_record("old"), retire_others_at=None, not_after=None)
    await stores.keys.add_signing_key(key_record("new", NOW + 5), retire_others_at=NOW + 5, not_after=NOW + 500)
    before = await stores.keys.signing_keys()
    assert await stores.keys.retire_signing_key("nope", now=NOW + 9) is None
    assert await stores.keys.retire_signing_key("old", now=NOW + 500) is None  # already past not_after
    assert await stores.keys.signing_keys() == before


# ---- durability


async def test_everything_survives_a_reopen(open_stores):
    first = await open_stores()
    user = await first.users.create_user("alice", "h", now=NOW)
    await first.tokens.start_family(token("r1", user_id=user.id))
    denial = Denial(kind="jti", value="a", expires_at=NOW + 9)
    await first.tokens.revoke(family_ids=["fam-1"], denials=[denial], now=NOW)
    await first.sessions.add_session(SessionRecord(key_hash="ef" * 32, data={"k": [1, "v"]}, expires_at=NOW + 9))
    await first.keys.add_signing_key(key_record("k1"), retire_others_at=None, not_after=None)
    await first.close()

    second = await open_stores()
    try:
        assert await second.users.get_user_by_name("alice") == user
        assert (await second.tokens.get_refresh("r1")).revoked_at == NOW
        assert await second.tokens.live_denials(now=NOW) == [Denial(kind="jti", value="a", expires_at=NOW + 9)]
        assert (await second.sessions.get_session("ef" * 32)).data == {"k": [1, "v"]}
        assert [r.kid for r in await second.keys.signing_keys()] == ["k1"]
    finally:
        await second.close()


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        token("r").spent_at = 1.0


async def test_a_family_denial_lasts_until_its_latest_access_token_expires(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(dataclasses.replace(token("r1", user_id=user.id), access_expires_at=NOW + 50))
    successor = dataclasses.replace(token("r2", user_id=user.id, issued_at=NOW + 1), access_expires_at=NOW + 3601)
    assert await stores.tokens.spend_refresh("r1", now=NOW + 1, successor=successor) is SpendResult.SPENT

    written = await stores.tokens.revoke(
        family_ids=["fam-1"], denials=[Denial(kind="family", value="fam-1", expires_at=NOW + 300)], now=NOW + 2
    )

    assert written == [Denial(kind="family", value="fam-1", expires_at=NOW + 3601)]
    assert await stores.tokens.live_denials(now=NOW + 1000) == written


async def test_a_family_denial_is_never_shortened_to_the_access_expiry(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(dataclasses.replace(token("r1", user_id=user.id), access_expires_at=NOW + 10))
    denial = Denial(kind="family", value="fam-1", expires_at=NOW + 300)

    assert await stores.tokens.revoke(family_ids=["fam-1"], denials=[denial], now=NOW) == [denial]
