"""Fixtures for the JWKS client tests: a misbehaving local JWKS server, keys, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import jwtkit

from .server import FakeClock, JWKSServer


@pytest.fixture
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k1")


@pytest.fixture
def server(key: jwtkit.Key) -> Iterator[JWKSServer]:
    jwks = JWKSServer()
    jwks.publish(key)
    yield jwks
    jwks.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

