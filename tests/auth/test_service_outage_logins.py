"""An outage is never a failed login (issue 15), on every backend: when the user store fails
(``ServiceUnavailableError``, what every adapter raises for a storage outage) the attempt is given
back to the rate limiter, on ``login`` and ``session_login`` alike, and so is a registration.
Only a verified wrong password or an unknown user counts. (The same with a real outage cut by a
proxy under the server: tests/web/test_outage_logins.py.)"""

import functools

import pytest

from jwtkit.auth.errors import InvalidCredentialsError, ServiceUnavailableError, ThrottledError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

ATTEMPTS = 10


@pytest.fixture
def cut_users(monkeypatch):
    """``cut_users(service, True)`` makes the service's user store fail as a storage outage does;
    ``cut_users(service, False)`` ends it."""
    working = {}

    async def down(username):
        raise ServiceUnavailableError()

    def set_down(service, is_down: bool) -> None:
        users = service.stores.users
        working.setdefault(id(users), users.get_user_by_name)
        monkeypatch.setattr(users, "get_user_by_name", down if is_down else working[id(users)])

    return set_down


@pytest.fixture
def outage(service, cut_users):
    """``outage(True)``/``outage(False)``: :func:`cut_users` on the default service."""
    return functools.partial(cut_users, service)


@pytest.mark.parametrize("entry", ["login", "session_login"])
async def test_logins_during_an_outage_are_not_counted_as_failures(service, alice, outage, entry):
    log_in = getattr(service, entry)
    outage(True)
    for _ in range(ATTEMPTS):
        with pytest.raises(ServiceUnavailableError):
            await log_in("alice", PASSWORD, client="10.0.0.1")
    outage(False)

    assert await log_in("alice", PASSWORD, client="10.0.0.1")


async def test_an_outage_does_not_use_up_the_address_budget_either(open_service, cut_users):
    service = await open_service(login_max_failures_per_client=2)
    await service.register("alice", PASSWORD)
    cut_users(service, True)
    for i in range(ATTEMPTS):
        with pytest.raises(ServiceUnavailableError):
            await service.login(f"user{i}", PASSWORD, client="10.0.0.1")
    cut_users(service, False)

    await service.login("alice", PASSWORD, client="10.0.0.1")


async def test_wrong_passwords_are_still_counted_around_an_outage(service, alice, outage, settings):
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(InvalidCredentialsError):
            await service.login("alice", "wrong password", client="10.0.0.1")
    outage(True)
    with pytest.raises(ServiceUnavailableError):
        await service.login("alice", "wrong password", client="10.0.0.1")
    outage(False)
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", "wrong password", client="10.0.0.1")

    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="10.0.0.1")


async def test_registrations_during_an_outage_are_not_counted(open_service, cut_users):
    service = await open_service(register_max_per_client=2)
    cut_users(service, True)
    for i in range(ATTEMPTS):
        with pytest.raises(ServiceUnavailableError):
            await service.register(f"user{i}", PASSWORD, client="10.0.0.1")
    cut_users(service, False)

    await service.register("alice", PASSWORD, client="10.0.0.1")
    await service.register("bob", PASSWORD, client="10.0.0.1")
