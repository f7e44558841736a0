"""Real concurrent requests against live servers (``runserver`` subprocesses, threaded), on SQLite
and on PostgreSQL: rotation is race-free, and revocation crosses processes within the bound."""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow
N = 20


def post(base: str, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def get(base: str, path: str, token: str) -> int:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def login(base: str) -> dict:
    status, pair = post(base, "/api/token/", {"username": "alice", "password": "correct horse battery"})
    assert status == 200, pair
    return pair


def refresh_concurrently(base: str, refresh: str, n: int) -> list[tuple[int, dict]]:
    """n connections opened first, then released together by a barrier, all sending ``refresh``."""
    url = urlsplit(base)
    body = json.dumps({"refresh": refresh})
    connections = [http.client.HTTPConnection(url.hostname, url.port, timeout=60) for _ in range(n)]
    for conn in connections:
        conn.connect()
    barrier = threading.Barrier(n)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker(conn: http.client.HTTPConnection) -> None:
        barrier.wait()
        conn.request("POST", "/api/token/refresh/", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        outcome = (response.status, json.loads(response.read() or b"{}"))
        with lock:
            results.append(outcome)
        conn.close()

    threads = [threading.Thread(target=worker, args=(conn,)) for conn in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_concurrent_refreshes_of_one_token_give_exactly_one_session(live):
    base = live.start()
    pair = login(base)

    results = refresh_concurrently(base, pair["refresh"], N)

    statuses = sorted(status for status, _ in results)
    assert len(results) == N
    assert statuses == [200] + [401] * (N - 1)
    losers = [body for status, body in results if status == 401]
    assert all(body == {"detail": "Token is blacklisted", "code": "token_not_valid"} for body in losers)


def simplejwt_refresh_token(user_id: str) -> str:
    """A refresh token as Simple JWT issues it (HS256 with SECRET_KEY, its claims), minted with PyJWT."""
    import uuid

    import jwt

    from django_project.settings import SECRET_KEY

    now = int(time.time())
    claims = {"token_type": "refresh", "exp": now + 3600, "iat": now, "jti": uuid.uuid4().hex, "user_id": user_id}
    return jwt.encode(claims, SECRET_KEY, algorithm="HS256")


def test_twenty_concurrent_refreshes_of_a_simplejwt_token_give_exactly_one_session(live):
    base = live.start()
    login(base)  # alice is user 1

    results = refresh_concurrently(base, simplejwt_refresh_token("1"), N)

    assert sorted(status for status, _ in results) == [200] + [401] * (N - 1)


def test_after_the_race_the_whole_family_is_revoked(live):
    base = live.start()
    pair = login(base)
    results = refresh_concurrently(base, pair["refresh"], N)
    winner = next(body for status, body in results if status == 200)

    assert post(base, "/api/token/refresh/", {"refresh": winner["refresh"]})[0] == 401
    assert get(base, "/api/me/", winner["access"]) == 401
    assert get(base, "/api/me/", pair["access"]) == 401


def test_a_logout_on_one_server_process_reaches_another_within_the_poll_interval(live):
    first, second = live.start(), live.start()
    pair = login(first)
    assert get(second, "/api/me/", pair["access"]) == 200

    status, _ = post(
        first, "/api/token/blacklist/", {"refresh": pair["refresh"]}, {"Authorization": f"Bearer {pair['access']}"}
    )
    assert status == 200
    assert get(first, "/api/me/", pair["access"]) == 401

    deadline = time.monotonic() + 10  # the bound is the poll interval (0.2 s) + one read; generous for a loaded CI
    while get(second, "/api/me/", pair["access"]) != 401:
        assert time.monotonic() < deadline, "the second process never learned of the logout"
        time.sleep(0.1)
