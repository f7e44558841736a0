"""The soak in CI: ``benchmarks/soak.py`` for two minutes (the README's figure is its 30-minute run).

Two-worker ``jwtkit serve`` on PostgreSQL (a private schema) and a private ``redis-server`` that is
restarted half-way, under the mixed load of register, login, me, refresh, logout and the cookie
session. The same three verdicts as the long run: no 5xx outside the Redis outage, worker memory flat
after the warm-up, no row left past its expiry longer than one purge interval. Under ``CI=true`` a
missing PostgreSQL or ``redis-server`` fails the test (the ``postgres_url`` fixture and the check below).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# The first test runs the two-minute soak (its setup): the hang guard covers that.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture(scope="module")
def result(postgres_url: str) -> dict[str, object]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("the soak needs redis-server (its own, on a free port) and CI is set")
        pytest.skip("redis-server is not installed")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import soak
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert postgres_url == soak.POSTGRES_URL
    args = soak.parser().parse_args(["--minutes", "2"])
    return soak.soak(args)


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """Module-scoped twin of the conftest fixture (the soak runs once for the three tests)."""
    from conftest import POSTGRES_URL, _postgres_listening

    if not _postgres_listening():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} and CI is set")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return POSTGRES_URL


def test_the_soak_answers_no_5xx_outside_the_redis_outage(result):
    assert result["outage_s"] is not None, "Redis was never restarted"
    assert result["ok_no_5xx"], result["failures_outside_outage"]


def test_the_soak_keeps_worker_memory_flat_after_warm_up(result):
    assert not result["workers_replaced"]
    assert result["ok_memory_flat"], (result["rss_kb_baseline"], result["rss_kb_last"], result["rss_max_deviation"])


def test_the_soak_leaves_no_row_past_its_expiry_for_longer_than_one_purge(result):
    assert result["ok_tables_bounded"], result["rows_stale_max"]
    assert result["rows_peak"]["refresh_tokens"] > 0  # the tables were really used
