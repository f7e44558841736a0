"""Redis failures become the port's :class:`~jwtkit.auth.errors.ServiceUnavailableError`
(ports rule: an adapter never leaks its backend's exception types)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from jwtkit.auth.errors import ServiceUnavailableError

__all__ = ["REDIS_ERRORS", "unavailable_on_redis_error"]

# redis-py wraps socket failures in its own ConnectionError/TimeoutError; OSError covers the rest.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


@contextmanager
def unavailable_on_redis_error() -> Iterator[None]:
    """Re-raise any Redis failure inside the block as ``ServiceUnavailableError`` (cause chained)."""
    try:
        yield
    except REDIS_ERRORS as exc:
        raise ServiceUnavailableError() from exc
