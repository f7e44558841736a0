"""Login throttling: sliding windows per (username, client address), per username and per client
address; while throttled even the right password is refused. (Lockout aimed at a user, device
cookies and IPv6 aggregation: test_service_lockout.py.)"""

import asyncio

import pytest

from jwtkit.auth.errors import InvalidCredentialsError, ThrottledError
from jwtkit.auth.service import AuthService
from jwtkit.storage.sql import open_sql_stores
from jwtkit.wiring import open_stores

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



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
    for i in range(settings.login_max_failures_per_user):
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


async def burst(service, *, username="alice", client="198.51.100.1", size=200, last_password=None):
    """``size`` concurrent wrong logins (then one with ``last_password``, if given), all started
    before any finishes; returns each attempt's outcome, in order."""
    async def attempt(password):
        try:
            await service.login(username, password, client=client)
        except ThrottledError:
            return "throttled"
        except InvalidCredentialsError:
            return "wrong"
        return "ok"

    passwords = [f"wrong guess {i}" for i in range(size)]
    if last_password is not None:
        passwords.append(last_password)
    return await asyncio.gather(*(attempt(password) for password in passwords))


async def test_a_concurrent_burst_gets_at_most_the_limit_of_password_checks(service, alice, settings):
    outcomes = await burst(service)
    assert outcomes.count("wrong") == settings.login_max_failures
    assert outcomes.count("throttled") == 200 - settings.login_max_failures


async def test_the_right_password_inside_a_burst_past_the_limit_is_refused(service, alice):
    outcomes = await burst(service, last_password=PASSWORD)
    assert outcomes[-1] == "throttled"


async def test_successful_logins_from_one_client_do_not_throttle_it(open_service):
    service = await open_service(login_max_failures_per_client=3)
    await service.register("alice", PASSWORD)
    for _ in range(5):
        await service.login("alice", PASSWORD, client="10.0.0.1")


@pytest.fixture
async def redis_service(redis_url, redis_prefix, settings, clock):
    stores = await open_stores("memory://", redis_url=redis_url, redis_prefix=redis_prefix)
    service = await AuthService.open(settings, stores, clock=clock)
    await service.register("alice", PASSWORD)
    yield service
    await service.close()


async def test_a_concurrent_burst_through_redis_gets_at_most_the_limit(redis_service, settings):
    outcomes = await burst(redis_service, last_password=PASSWORD)
    assert outcomes.count("wrong") == settings.login_max_failures
    assert outcomes.count("throttled") == 201 - settings.login_max_failures
    assert outcomes[-1] == "throttled"


async def test_two_workers_on_one_redis_share_the_limit(redis_service, redis_url, redis_prefix, settings, clock):
    stores = await open_stores("memory://", redis_url=redis_url, redis_prefix=redis_prefix)
    other = await AuthService.open(settings, stores, clock=clock)
    try:
        await other.register("alice", PASSWORD)  # its own user table; the limiter is shared
        outcomes = await asyncio.gather(burst(redis_service, size=100), burst(other, size=100))
        wrong = sum(worker.count("wrong") for worker in outcomes)
        assert wrong == settings.login_max_failures
    finally:
        await other.close()


async def test_a_lone_surrogate_username_or_client_is_throttled_through_redis_too(redis_service):
    with pytest.raises(InvalidCredentialsError):
        await redis_service.login("al\ud800ice", "wrong password", client="10.0.0.\udc80")


# ---- through the database (several processes on one database, no Redis)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    return f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", None


@pytest.fixture
async def sql_workers(database, settings, clock):
    """Two services on one database, each with its own engine (two processes), sharing the
    database's rate limiter; alice is registered."""
    url, schema = database
    workers = []
    try:
        for _ in range(2):
            stores = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
            workers.append(await AuthService.open(settings, stores, clock=clock))
        await workers[0].register("alice", PASSWORD)
        yield workers
    finally:
        for worker in workers:
            await worker.close()


async def test_two_workers_on_one_database_share_the_limit(sql_workers, settings):
    outcomes = await asyncio.gather(*(burst(worker, size=50) for worker in sql_workers))

    wrong = sum(worker.count("wrong") for worker in outcomes)
    assert wrong == settings.login_max_failures


async def test_a_success_on_one_worker_clears_the_username_for_the_other(sql_workers, settings):
    first, second = sql_workers
    await fail(first, times=settings.login_max_failures - 1)

    await second.login("alice", PASSWORD, client="10.0.0.1")

    await fail(first, times=settings.login_max_failures)  # a fresh count: not throttled


async def test_a_lone_surrogate_or_nul_username_is_throttled_through_the_database_too(sql_workers):
    first, _ = sql_workers
    for username in ("al\ud800ice", "al\x00ice"):
        with pytest.raises(InvalidCredentialsError):
            await first.login(username, "wrong password", client="10.0.0.\udc80")
