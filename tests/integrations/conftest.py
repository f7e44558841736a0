"""Fixtures for the framework integration tests: a test key, a misbehaving JWKS server, and a
real ``jwtkit serve`` issuer (its process stopped by the fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import jwtkit
from jwks.server import JWKSServer

from .issuer import Issuer, running_issuer


@pytest.fixture
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k1")


@pytest.fixture
def jwks_server(key: jwtkit.Key) -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.publish(key)
    yield server
    server.close()


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    with running_issuer(tmp_path) as running:
        yield running
