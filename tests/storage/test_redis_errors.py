"""``unavailable_on_redis_error``: a Redis failure inside the block becomes the port's
``ServiceUnavailableError`` (the cause chained); anything else passes through unchanged."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.redis.errors import unavailable_on_redis_error


def test_a_redis_error_becomes_service_unavailable_with_its_cause():
    failure = RedisConnectionError("gone")
    with pytest.raises(ServiceUnavailableError) as raised, unavailable_on_redis_error():
        raise failure
    assert raised.value.__cause__ is failure


def test_an_os_error_becomes_service_unavailable_with_its_cause():
    failure = ConnectionResetError("reset")
    with pytest.raises(ServiceUnavailableError) as raised, unavailable_on_redis_error():
        raise failure
    assert raised.value.__cause__ is failure


def test_another_error_passes_through_unchanged():
    failure = ValueError("not Redis")
    with pytest.raises(ValueError, match="not Redis") as raised, unavailable_on_redis_error():
        raise failure
    assert raised.value is failure


def test_a_block_without_error_completes():
    done = []
    with unavailable_on_redis_error():
        done.append(True)
    assert done == [True]


def test_nested_blocks_raise_one_service_unavailable():
    failure = RedisConnectionError("gone")
    with pytest.raises(ServiceUnavailableError) as raised, unavailable_on_redis_error(), unavailable_on_redis_error():
        raise failure
    assert raised.value.__cause__ is failure


@pytest.mark.anyio
async def test_a_redis_error_after_an_await_becomes_service_unavailable():
    async def fail() -> None:
        raise RedisConnectionError("gone")

    with pytest.raises(ServiceUnavailableError), unavailable_on_redis_error():
        await fail()
