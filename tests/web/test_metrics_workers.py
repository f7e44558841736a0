"""``jwtkit serve --workers 2 --metrics``: prometheus' multiprocess mode. Whichever worker answers a
scrape, the counters are the sum over both workers (each writes its own files in the
``PROMETHEUS_MULTIPROC_DIR`` the server made), and the gauges are there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import sign_up
from .processes import free_port, jwtkit_serve

pytestmark = pytest.mark.slow

REQUESTS = 20


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One scrape on a new connection (so any worker may answer it), parsed by prometheus-client."""
    text = httpx.get(url + "/metrics", timeout=30).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_worker_answers_the_sum_of_both(tmp_path: Path):
    args = ("--database", f"sqlite:///{tmp_path / 'auth.db'}", "--workers", "2", "--metrics")
    with jwtkit_serve(tmp_path / "server.log", *args, port=free_port()) as server:
        sign_up(server.url)
        before = scrape(server.url)
        for _ in range(REQUESTS):
            assert httpx.get(server.url + "/health", timeout=30).status_code == 200  # a new connection each
        scrapes = [scrape(server.url) for _ in range(6)]
    health = ("jwtkit_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200")))
    logins = ("jwtkit_logins_total", (("outcome", "ok"),))
    for parsed in scrapes:
        assert parsed[health] - before.get(health, 0) == REQUESTS
        assert parsed[logins] == 1
        assert parsed[("jwtkit_key_ring_size", ())] == 1
        assert parsed[("jwtkit_revocation_feed_fresh", ())] == 1
