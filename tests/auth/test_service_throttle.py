"""Login throttling: a sliding window per username and per client address; while throttled even
the right password is refused."""

import pytest

from jwtkit.auth.errors import InvalidCredentialsError, ThrottledError

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


async def fail(service, username="alice", client="10.0.0.1", times=1):
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            await service.login(username, "wrong password", client=client)


async def test_failures_up_to_the_limit_are_plain_credential_errors(service, alice, settings):
    await fail(service, times=settings.login_max_failures)


async def test_after_the_limit_the_username_is_throttled_with_retry_after(service, alice, settings):
    await fail(service, times=settings.login_max_failures)
    with pytest.raises(ThrottledError) as caught:
        await service.login("alice", "wrong password", client="10.0.0.1")
    assert 1 <= caught.value.retry_after <= settings.login_window


async def test_while_throttled_the_right_password_is_refused_too(service, alice, settings):
    await fail(service, times=settings.login_max_failures)
    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="10.0.0.1")


async def test_the_username_limit_holds_from_every_address(service, alice, settings):
    for i in range(settings.login_max_failures):
        await fail(service, client=f"10.0.0.{i}")
    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="192.0.2.99")


async def test_unknown_usernames_are_throttled_like_known_ones(service, settings):
    await fail(service, username="mallory", times=settings.login_max_failures)
    with pytest.raises(ThrottledError):
        await service.login("mallory", "whatever1", client="10.0.0.1")


async def test_the_window_slides_the_oldest_failure_out(service, alice, clock, settings):
    await fail(service)
    clock.advance(100)
    await fail(service, times=settings.login_max_failures - 1)
    with pytest.raises(ThrottledError) as caught:
        await service.login("alice", PASSWORD, client="10.0.0.1")
    assert caught.value.retry_after == settings.login_window - 100
    clock.advance(settings.login_window - 100)
    await service.login("alice", PASSWORD, client="10.0.0.1")


async def test_one_client_is_throttled_across_many_usernames(service, alice, settings):
    for i in range(settings.login_max_failures_per_client):
        await fail(service, username=f"user{i}", client="203.0.113.5")
    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="203.0.113.5")
    await service.login("alice", PASSWORD, client="198.51.100.1")  # another address is not affected


async def test_a_successful_login_clears_the_username_failures(service, alice, settings):
    await fail(service, times=settings.login_max_failures - 1)
    await service.login("alice", PASSWORD, client="10.0.0.1")
    await fail(service, times=settings.login_max_failures - 1)
    await service.login("alice", PASSWORD, client="10.0.0.1")


async def test_session_login_shares_the_throttle(service, alice, settings):
    await fail(service, times=settings.login_max_failures)
    with pytest.raises(ThrottledError):
        await service.session_login("alice", PASSWORD, client="10.0.0.1")


async def test_limits_come_from_the_settings(open_service):
    service = await open_service(login_max_failures=2, login_window=60)
    await service.register("bob", PASSWORD)
    await fail(service, username="bob", times=2)
    with pytest.raises(ThrottledError) as caught:
        await service.login("bob", PASSWORD, client="10.0.0.1")
    assert caught.value.retry_after == 60
