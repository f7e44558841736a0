"""Fixtures for the JWKS client tests: the key and the misbehaving local JWKS server (shared with
the integration tests, in ``tests/support``), here called ``server``; a fake clock."""

from __future__ import annotations

import pytest

from support.jwks_fixtures import jwks_server as jwks_server
from support.jwks_fixtures import key as key

from .server import FakeClock, JWKSServer


@pytest.fixture
def server(jwks_server: JWKSServer) -> JWKSServer:
    return jwks_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
