"""Lockout cannot be aimed at a user (issue 15), on every backend: the short lock counts per
(username, client address); the username alone has a far higher limit with growing delays; a
client that has logged in before shows a signed device cookie and is counted on it alone (OWASP
"device cookies"); IPv6 clients are counted per /64 and, past that, per /56 and /48."""

import pytest

from jwtkit.auth.devices import DeviceCookies, device_key
from jwtkit.auth.errors import InvalidCredentialsError, ThrottledError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


async def fail(service, *, username="alice", client=ATTACKER, times=1, device=None):
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            await service.login(username, "wrong password", client=client, device=device)


async def refused(service, *, username="alice", client=ATTACKER, device=None, password=PASSWORD) -> bool:
    try:
        await service.login(username, password, client=client, device=device)
    except ThrottledError:
        return True
    return False


@pytest.fixture
async def owner_cookie(service, alice):
    """The device cookie alice's own browser got at her last successful login (from OWNER)."""
    await service.login("alice", PASSWORD, client=OWNER)
    return service.device_cookie("alice")


# ---- (username, address): the attacker's failures do not lock the owner out elsewhere


async def test_an_attackers_failures_from_one_address_do_not_stop_the_owner_from_another(service, alice, settings):
    await fail(service, times=settings.login_max_failures)
    assert await refused(service)  # the attacker's address is locked for alice

    assert not await refused(service, client=OWNER)


async def test_the_owner_with_a_device_cookie_gets_through_even_from_the_attackers_address(
    service, owner_cookie, settings
):
    await fail(service, times=settings.login_max_failures)

    assert not await refused(service, device=owner_cookie)


async def test_a_login_with_a_device_cookie_counts_nothing_against_the_username(service, owner_cookie, settings):
    await fail(service, device=owner_cookie, times=settings.login_max_failures - 1)

    await fail(service, client=OWNER, times=settings.login_max_failures)  # the untrusted path's full budget


# ---- forged, foreign and stale device cookies prove nothing


def forged(cookie: str) -> str:
    body, _, mac = cookie.rpartition(".")
    return f"{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


async def test_a_forged_device_cookie_gives_no_bypass(service, owner_cookie, settings):
    await fail(service, times=settings.login_max_failures)

    assert await refused(service, device=forged(owner_cookie))


async def test_a_device_cookie_of_another_user_gives_no_bypass(service, alice, settings):
    await service.register("mallory", PASSWORD)
    await service.login("mallory", PASSWORD, client=ATTACKER)
    mallorys = service.device_cookie("mallory")
    await fail(service, times=settings.login_max_failures)

    assert await refused(service, device=mallorys)


@pytest.mark.parametrize("garbage", ["", "v1", "v1.a.b.c.d", "x" * 5000, "v1.\ud800.a.1.b", "....."])
async def test_a_garbage_device_cookie_is_no_cookie(service, alice, settings, garbage):
    await fail(service, times=settings.login_max_failures)

    assert await refused(service, device=garbage)


async def test_an_expired_device_cookie_gives_no_bypass(service, owner_cookie, settings, clock):
    clock.advance(settings.device_cookie_ttl)
    await fail(service, times=settings.login_max_failures)

    assert await refused(service, device=owner_cookie)


def test_the_device_cookie_key_depends_on_the_key_encryption_secret_too():
    seed = b"s" * 32  # what the database holds: not enough to mint cookies when a secret is set
    cookie = DeviceCookies(device_key(seed, b"k" * 32), ttl=60).issue("alice", now=1000)

    nonce = cookie.split(".")[2]  # version.name.nonce.issued.mac
    assert DeviceCookies(device_key(seed, b"k" * 32), ttl=60).nonce(cookie, "alice", now=1001) == nonce
    assert DeviceCookies(device_key(seed, b"z" * 32), ttl=60).nonce(cookie, "alice", now=1001) is None
    assert DeviceCookies(device_key(seed, None), ttl=60).nonce(cookie, "alice", now=1001) is None


async def test_every_worker_on_the_same_storage_accepts_the_device_cookie(open_service, settings):
    first = await open_service()
    await first.register("alice", PASSWORD)
    cookie = first.device_cookie("alice")
    second = await open_service()  # another worker (or a restart) on the same database
    await fail(second, times=settings.login_max_failures)

    assert not await refused(second, device=cookie)


async def test_a_device_cookie_names_the_user_whatever_the_casing_typed(service, alice, settings):
    cookie = service.device_cookie("ALICE")
    await fail(service, times=settings.login_max_failures)

    assert not await refused(service, username="Alice", device=cookie)


async def test_a_device_cookie_with_too_many_failures_of_its_own_is_locked_out(service, owner_cookie, settings):
    await fail(service, device=owner_cookie, times=settings.login_max_failures)
    await fail(service, times=settings.login_max_failures)  # and the untrusted path from here too

    assert await refused(service, device=owner_cookie)


# ---- the username from anywhere: a far higher limit, with growing delays


async def test_a_distributed_guesser_is_stopped_by_the_username_limit(service, alice, settings):
    for i in range(settings.login_max_failures_per_user):
        await fail(service, client=f"192.0.2.{i}")

    assert await refused(service, client="192.0.2.250", password="another guess")
    assert await refused(service, client=OWNER)  # an unknown client of the owner's too (OWASP)


async def test_the_username_limit_is_far_higher_than_the_short_lock(settings):
    assert settings.login_max_failures_per_user >= 4 * settings.login_max_failures


async def test_the_username_limits_delays_grow_with_the_guesses(service, alice, settings, clock):
    per_user, window = settings.login_max_failures_per_user, settings.login_window
    first_tier_waits, guesses, address = [], 0, 0
    while guesses < 3 * per_user:  # each guess from a fresh address, waiting out each lock
        address += 1
        try:
            await service.login("alice", "wrong password", client=f"10.0.{address // 250}.{address % 250}")
        except InvalidCredentialsError:
            guesses += 1
        except ThrottledError as exc:
            first_tier_waits.append(exc.retry_after)
            clock.advance(exc.retry_after)
    with pytest.raises(ThrottledError) as second_tier:
        await service.login("alice", "wrong password", client="10.1.0.1")

    assert len(first_tier_waits) == 2
    assert max(first_tier_waits) <= window
    assert window < second_tier.value.retry_after <= 12 * window  # 3x the guesses: a longer lock


async def test_the_owner_with_a_device_cookie_passes_the_username_limit(service, owner_cookie, settings):
    for i in range(settings.login_max_failures_per_user):
        await fail(service, client=f"192.0.2.{i}")

    assert not await refused(service, client="192.0.2.250", device=owner_cookie)


# ---- one address, many users: the address limit does not refuse a proven owner


async def test_failures_from_a_shared_address_do_not_refuse_an_owner_with_a_device_cookie(
    service, owner_cookie, settings
):
    for i in range(settings.login_max_failures_per_client):
        await fail(service, username=f"user{i}", client=OWNER)
    assert await refused(service, client=OWNER)  # no cookie: the address is over its limit

    assert not await refused(service, client=OWNER, device=owner_cookie)


# ---- IPv6: per /64, aggregated at /56 and /48


async def test_addresses_in_one_ipv6_64_share_one_budget(open_service):
    service = await open_service(login_max_failures_per_client=2)
    await service.register("alice", PASSWORD)
    await fail(service, username="x", client="2001:db8:1:1::1")
    await fail(service, username="y", client="2001:db8:1:1::2")

    assert await refused(service, client="2001:db8:1:1:ffff::9")
    assert not await refused(service, client="2001:db8:1:2::1")  # the next /64 has its own


async def test_rotating_through_the_64s_of_a_48_is_stopped_by_the_aggregates(open_service):
    service = await open_service(login_max_failures_per_client=2, login_max_failures_per_user=1000)
    await service.register("alice", PASSWORD)
    # 2 per /64 across the /56: its budget is 4 x 2; then the /48's, 16 x 2, across /56s
    for subnet in range(4):
        await fail(service, username=f"u{subnet}", client=f"2001:db8:7:{subnet:x}::1", times=2)
    assert await refused(service, client="2001:db8:7:ff::1")  # a fresh /64 in the same /56

    for block in range(1, 4):
        for subnet in range(4):
            await fail(service, username=f"v{block}{subnet}", client=f"2001:db8:7:{block:x}{subnet:x}00::1", times=2)
    assert await refused(service, client="2001:db8:7:ff00::1")  # a fresh /56 in the same /48
    assert not await refused(service, client="2001:db8:8::1")  # the next /48 is not affected


async def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(open_service):
    service = await open_service(login_max_failures_per_client=1)
    await service.register("alice", PASSWORD)
    await fail(service, username="x", client="::ffff:192.0.2.5")

    assert await refused(service, client="192.0.2.5")
