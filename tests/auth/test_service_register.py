"""Registration: input rules, the password policy and argon2id hashes."""

import pytest

from jwtkit.auth.errors import InvalidInputError, UsernameTakenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



async def test_register_returns_the_new_user(service):
    user = await service.register("alice", PASSWORD)
    assert user.username == "alice"
    assert isinstance(user.id, int)


async def test_a_taken_username_is_refused(service, alice):
    with pytest.raises(UsernameTakenError):
        await service.register("alice", "another password")


async def test_the_password_is_stored_as_an_argon2id_hash(service, alice):
    stored = await service.stores.users.get_user(alice.id)
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


@pytest.mark.parametrize("username", ["", "x" * 151, "al ice", "alice\n", "ålice", "a/b", "<script>", "a\x00"])
async def test_bad_usernames_are_invalid_input(service, username):
    with pytest.raises(InvalidInputError) as caught:
        await service.register(username, PASSWORD)
    assert caught.value.field == "username"


@pytest.mark.parametrize("username", ["a", "x" * 150, "alice.smith+tag@example.com", "A_b-9"])
async def test_usernames_of_the_documented_set_are_accepted(service, username):
    assert (await service.register(username, PASSWORD)).username == username


@pytest.mark.parametrize("password", ["", "short", "1234567", "x" * 1025, " " * 12, "abc\x00defgh"])
async def test_passwords_breaking_the_policy_are_invalid_input(service, password):
    with pytest.raises(InvalidInputError) as caught:
        await service.register("alice", password)
    assert caught.value.field == "password"


@pytest.mark.parametrize("password", ["12345678", "x" * 1024, "pässwörd ünïcode"])
async def test_passwords_within_the_policy_are_accepted(service, password):
    await service.register("alice", password)
    await service.login("alice", password, client="c")


async def test_non_string_input_is_invalid_input(service):
    with pytest.raises(InvalidInputError):
        await service.register(123, PASSWORD)
    with pytest.raises(InvalidInputError):
        await service.register("alice", None)


@pytest.mark.parametrize("password", ["\ud800aaaaaaaa", "aaaaaaaa\udfff", "pass\udc80word"])
async def test_a_password_with_a_lone_surrogate_is_invalid_input(service, password):
    with pytest.raises(InvalidInputError) as caught:
        await service.register("alice", password)
    assert caught.value.field == "password"


async def test_a_username_with_a_lone_surrogate_is_invalid_input(service):
    with pytest.raises(InvalidInputError) as caught:
        await service.register("al\ud800ice", PASSWORD)
    assert caught.value.field == "username"
