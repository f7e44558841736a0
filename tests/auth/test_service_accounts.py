"""The account lifecycle on every backend (issue 14): changing a password ends every session and
is throttled like a login; an operator creates, lists, disables, enables, logs out, deletes and
unlocks users; a disabled user can neither log in nor refresh; a second process (another server)
refuses the revoked tokens."""

import pytest

from jwtkit.auth.errors import (
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    ThrottledError,
    UsernameTakenError,
    WrongPasswordError,
)

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

CLIENT = "198.51.100.7"
NEW = "a brand new passphrase"


async def log_in(service, password=PASSWORD, username="alice"):
    return await service.login(username, password, client=CLIENT)


def refused(service, access_token) -> bool:
    try:
        service.authenticate(access_token)
    except InvalidTokenError:
        return True
    return False


async def test_a_password_change_ends_every_session_and_answers_a_fresh_pair(service, alice):
    this, other = await log_in(service), await log_in(service)
    pair = await service.change_password(service.authenticate(this.access_token), PASSWORD, NEW, client=CLIENT)
    assert refused(service, this.access_token)
    assert refused(service, other.access_token)
    for old in (this, other):
        with pytest.raises(InvalidTokenError):
            await service.refresh(old.refresh_token)
    assert service.authenticate(pair.access_token).user_id == alice.id
    await service.refresh(pair.refresh_token)
    with pytest.raises(InvalidCredentialsError):
        await log_in(service)
    await log_in(service, NEW)


async def test_keep_current_session_spares_the_session_that_made_the_change(service, alice):
    this, other = await log_in(service), await log_in(service)
    await service.change_password(service.authenticate(this.access_token), PASSWORD, NEW, client=CLIENT,
                                  keep_current_session=True)
    assert not refused(service, this.access_token)
    await service.refresh(this.refresh_token)
    assert refused(service, other.access_token)


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login(service, alice, settings):
    pair = await log_in(service)
    principal = service.authenticate(pair.access_token)
    for _ in range(settings.login_max_failures):
        with pytest.raises(WrongPasswordError):
            await service.change_password(principal, "wrong password", NEW, client=CLIENT)
    assert not refused(service, pair.access_token)
    with pytest.raises(ThrottledError):  # a stolen access token is no way around the login throttle
        await service.change_password(principal, PASSWORD, NEW, client=CLIENT)
    with pytest.raises(ThrottledError):
        await log_in(service)
    await service.unlock(username="alice", client=CLIENT)
    await log_in(service)  # the password did not change


async def test_the_new_password_follows_the_registration_policy(service, alice):
    principal = service.authenticate((await log_in(service)).access_token)
    with pytest.raises(InvalidInputError) as caught:
        await service.change_password(principal, PASSWORD, "short", client=CLIENT)
    assert caught.value.field == "new_password"


async def test_the_operator_creates_and_lists_users(service, clock):
    user = await service.create_user("bob", PASSWORD)
    with pytest.raises(UsernameTakenError):
        await service.create_user("BOB", PASSWORD)
    with pytest.raises(InvalidInputError):
        await service.create_user("carol", "short")
    [account] = await service.list_users()
    assert (account.id, account.username, account.last_login_at, account.disabled_at) == (user.id, "bob", None, None)
    assert account.live_families == 0
    assert account.locked_for == 0
    await log_in(service, username="bob")
    await log_in(service, username="bob")
    [account] = await service.list_users()
    assert account.last_login_at == clock()
    assert account.live_families == 2


async def test_a_disabled_user_can_neither_log_in_nor_refresh_until_enabled(service, alice):
    pair = await log_in(service)
    change = await service.disable_user("ALICE")
    assert change.sessions_ended == 1
    assert refused(service, pair.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)
    with pytest.raises(InvalidCredentialsError):  # the same answer as a wrong password
        await log_in(service)
    [account] = await service.list_users()
    assert account.disabled_at is not None
    assert account.live_families == 0
    await service.enable_user("alice")
    await log_in(service)


async def test_a_login_that_raced_the_disable_ends_at_its_first_refresh(service, alice, open_service):
    pair = await log_in(service)
    other = await open_service()  # another process: disabling there, the session here is not revoked yet
    await other.disable_user("alice")
    await other.enable_user("alice")
    await other.disable_user("alice")
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)


async def test_revoke_logs_the_user_out_everywhere_and_they_may_log_in_again(service, alice):
    pairs = [await log_in(service) for _ in range(3)]
    change = await service.log_out_everywhere("alice")
    assert change.sessions_ended == 3
    assert all(refused(service, pair.access_token) for pair in pairs)
    await log_in(service)


async def test_revoking_reaches_another_process(open_service, service, alice, eventually, backend):
    pair = await log_in(service)
    operator = await open_service()  # what `jwtkit users revoke` is: another process on the database
    await operator.log_out_everywhere("alice")
    if backend == "sqlite":  # no feed between these two (a server polls: tests/cli/test_users.py)
        await service.resync()
    await eventually(lambda: refused(service, pair.access_token), what="the revocation reaching the server")


async def test_delete_ends_the_sessions_and_removes_the_user(service, alice):
    pair = await log_in(service)
    session_id, _ = await service.session_login("alice", PASSWORD, client=CLIENT)
    change = await service.delete_user("alice")
    assert (change.sessions_ended, change.cookie_sessions_ended) == (1, 1)
    assert refused(service, pair.access_token)
    with pytest.raises(InvalidTokenError):
        await service.session_user(session_id)
    assert await service.list_users() == []
    with pytest.raises(LookupError):
        await service.delete_user("alice")
    await service.register("alice", PASSWORD)  # (SQLite may give the new user the deleted one's id)
    assert refused(service, pair.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)


async def test_unknown_users_are_a_lookup_error(service):
    for action in (service.disable_user, service.enable_user, service.log_out_everywhere, service.delete_user):
        with pytest.raises(LookupError):
            await action("nobody")
    with pytest.raises(LookupError):
        await service.unlock(username="nobody")
    with pytest.raises(ValueError, match="name a user or an address"):
        await service.unlock()


async def test_unlock_clears_the_lock_of_a_name_and_of_an_address(service, alice, settings):
    attackers = [f"203.0.113.{i}" for i in range(settings.login_max_failures_per_user // settings.login_max_failures)]
    for address in attackers:  # the name's own lock, from every address
        for _ in range(settings.login_max_failures):
            with pytest.raises(InvalidCredentialsError):
                await service.login("alice", "wrong password", client=address)
    with pytest.raises(ThrottledError):
        await log_in(service)
    [account] = await service.list_users()
    assert account.locked_for > 0
    await service.unlock(username="alice")
    [account] = await service.list_users()
    assert account.locked_for == 0
    await log_in(service)

    for i in range(settings.login_max_failures_per_client):  # an address's lock, across names
        with pytest.raises(InvalidCredentialsError):
            await service.login(f"nobody{i}", "wrong password", client="192.0.2.9")
    with pytest.raises(ThrottledError):
        await service.login("alice", PASSWORD, client="192.0.2.9")
    await service.unlock(client="192.0.2.9")
    await service.login("alice", PASSWORD, client="192.0.2.9")
