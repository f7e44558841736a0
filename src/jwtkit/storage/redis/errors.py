"""Redis failures become the port's :class:`~jwtkit.auth.errors.ServiceUnavailableError`
(ports rule: an adapter never leaks its backend's exception types)."""

from __future__ import annotations

from types import TracebackType

from redis.exceptions import RedisError

from jwtkit.auth.errors import ServiceUnavailableError

__all__ = ["REDIS_ERRORS", "unavailable_on_redis_error"]

# redis-py wraps socket failures in its own ConnectionError/TimeoutError; OSError covers the rest.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class _UnavailableOnRedisError:
    """The context manager of :func:`unavailable_on_redis_error`: stateless, so one serves every
    block (a ``@contextmanager`` generator would cost ~10k instructions per use on the session
    read, a tenth of ``/session/me``)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if isinstance(exc, REDIS_ERRORS):
            raise ServiceUnavailableError() from exc


_UNAVAILABLE_ON_REDIS_ERROR = _UnavailableOnRedisError()


def unavailable_on_redis_error() -> _UnavailableOnRedisError:
    """Re-raise any Redis failure inside the block as ``ServiceUnavailableError`` (cause chained)."""
    return _UNAVAILABLE_ON_REDIS_ERROR
