"""The fixtures of the JWKS-client tests and of the integration tests: a test signing key, and a
local JWKS server that publishes it (``tests/jwks/server.py``; it misbehaves on command). Their
conftests import them from here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import jwtkit
from jwks.server import JWKSServer


@pytest.fixture
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k1")


@pytest.fixture
def jwks_server(key: jwtkit.Key) -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.publish(key)
    yield server
    server.close()
