"""Registration is neither free nor a way to enumerate usernames (issue 15): attempts are limited
per client address (taken names included), and usernames are unique case-insensitively (NFKC +
casefold, as the login compares them), keeping the form they were registered with."""

import asyncio

import pytest

from jwtkit.auth.errors import InvalidCredentialsError, ThrottledError, UsernameTakenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



async def test_registrations_from_one_address_are_limited_with_retry_after(open_service):
    service = await open_service(register_max_per_client=3, register_window=600)
    for i in range(3):
        await service.register(f"user{i}", PASSWORD, client="203.0.113.9")

    with pytest.raises(ThrottledError) as caught:
        await service.register("user3", PASSWORD, client="203.0.113.9")
    assert 1 <= caught.value.retry_after <= 600
    assert "registrations" in caught.value.message


async def test_another_address_may_still_register(open_service):
    service = await open_service(register_max_per_client=1)
    await service.register("user0", PASSWORD, client="203.0.113.9")

    await service.register("user1", PASSWORD, client="198.51.100.1")


async def test_taken_usernames_count_towards_the_limit(open_service):
    service = await open_service(register_max_per_client=3)
    await service.register("alice", PASSWORD)  # no client: not counted (the CLI, a library caller)
    for _ in range(3):
        with pytest.raises(UsernameTakenError):
            await service.register("alice", PASSWORD, client="203.0.113.9")

    with pytest.raises(ThrottledError):
        await service.register("bob", PASSWORD, client="203.0.113.9")  # enumeration has a price


async def test_the_limit_frees_up_as_the_window_slides(open_service, clock):
    service = await open_service(register_max_per_client=1, register_window=600)
    await service.register("user0", PASSWORD, client="203.0.113.9")
    clock.advance(600)

    await service.register("user1", PASSWORD, client="203.0.113.9")


async def test_ipv6_registrations_are_counted_per_64(open_service):
    service = await open_service(register_max_per_client=1)
    await service.register("user0", PASSWORD, client="2001:db8:5:5::1")

    with pytest.raises(ThrottledError):
        await service.register("user1", PASSWORD, client="2001:db8:5:5::beef")


async def test_a_concurrent_flood_of_registrations_gets_at_most_the_limit(open_service):
    service = await open_service(register_max_per_client=5)

    async def attempt(i):
        try:
            await service.register(f"flood{i}", PASSWORD, client="203.0.113.9")
        except ThrottledError:
            return "throttled"
        return "created"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(40)))
    assert outcomes.count("created") == 5


# ---- look-alike accounts


@pytest.mark.parametrize("look_alike", ["Admin", "ADMIN", "aDmIn"])
async def test_a_username_differing_only_in_case_is_taken(service, look_alike):
    await service.register("admin", PASSWORD)

    with pytest.raises(UsernameTakenError):
        await service.register(look_alike, PASSWORD)


async def test_the_username_keeps_its_registered_form(service):
    user = await service.register("Alice.Smith", PASSWORD)
    assert user.username == "Alice.Smith"

    pair = await service.login("alice.smith", PASSWORD, client="10.0.0.1")
    assert service.authenticate(pair.access_token).username == "Alice.Smith"


async def test_concurrent_registrations_of_look_alikes_create_one_account(service):
    async def attempt(name):
        try:
            await service.register(name, PASSWORD)
        except UsernameTakenError:
            return "taken"
        return "created"

    outcomes = await asyncio.gather(*(attempt(name) for name in ("carol", "Carol", "CAROL", "cArOl")))
    assert outcomes.count("created") == 1


async def test_look_alikes_share_one_throttle(service, alice, settings):
    for spelling in ["alice", "Alice", "ALICE", "aLICE", "AlIcE"][: settings.login_max_failures]:
        with pytest.raises(InvalidCredentialsError):
            await service.login(spelling, "wrong password", client="10.0.0.1")

    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="10.0.0.1")


# ---- a flood of registrations does not starve logins of argon2


async def test_a_login_hashes_while_a_flood_of_registrations_is_hashing(settings):
    import threading

    from argon2 import PasswordHasher

    from jwtkit.auth.passwords import Passwords, argon2_hasher

    release = threading.Event()

    class HeldHasher(PasswordHasher):  # every registration's hash holds its slot until released; verify stays free
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            release.wait(timeout=60)
            return super().hash(password, salt=salt)

    held = argon2_hasher(settings)
    passwords = Passwords(settings, hasher=HeldHasher(time_cost=held.time_cost, memory_cost=held.memory_cost,
                                                      parallelism=held.parallelism))
    stored = held.hash(PASSWORD)
    flood = [asyncio.ensure_future(passwords.hash_for_registration(f"password {i}")) for i in range(64)]
    await asyncio.sleep(0.05)  # the flood has taken every slot it may take
    try:
        # A bound on waiting, not a timing assertion: before the budget the login queued behind all 64.
        assert await asyncio.wait_for(passwords.verify(stored, PASSWORD), timeout=30)
        assert not any(task.done() for task in flood)
    finally:
        release.set()
        await asyncio.gather(*flood)


async def test_an_injected_hasher_hashes_verifies_and_judges_rehashing(settings):
    from argon2 import PasswordHasher

    from jwtkit.auth.passwords import Passwords, argon2_hasher

    calls: list[str] = []
    cheap = argon2_hasher(settings)

    class RecordingHasher(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            calls.append("hash")
            return super().hash(password, salt=salt)

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append("verify")
            return super().verify(hash, password)

    passwords = Passwords(settings, hasher=RecordingHasher(time_cost=cheap.time_cost, memory_cost=cheap.memory_cost,
                                                           parallelism=cheap.parallelism))
    stored = await passwords.hash_for_registration(PASSWORD)
    assert await passwords.verify(stored, PASSWORD)
    assert not await passwords.verify(stored, "wrong password")
    assert not await passwords.verify_dummy(PASSWORD)
    assert calls == ["hash", "verify", "verify", "hash", "verify"]
    assert not passwords.needs_rehash(stored)
    costlier = PasswordHasher(time_cost=cheap.time_cost + 1, memory_cost=cheap.memory_cost,
                              parallelism=cheap.parallelism)
    assert Passwords(settings, hasher=costlier).needs_rehash(stored)  # judged by the injected hasher's parameters


@pytest.mark.parametrize("name", ["login_max_failures_per_user", "device_cookie_ttl", "register_max_per_client",
                                  "register_window"])
def test_the_new_limits_must_be_positive_ints(name):
    from jwtkit.auth.settings import AuthSettings

    with pytest.raises(ValueError, match=name):
        AuthSettings(**{name: 0})
