"""Fixtures for the framework integration tests: a test key and a misbehaving JWKS server (shared
with the JWKS client tests, in ``tests/support``), and a real ``jwtkit serve`` issuer (its process
stopped by the fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.jwks_fixtures import jwks_server as jwks_server
from support.jwks_fixtures import key as key

from .issuer import Issuer, running_issuer


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    with running_issuer(tmp_path) as running:
        yield running
