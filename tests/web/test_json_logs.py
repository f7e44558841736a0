"""``jwtkit serve --log-format json`` as a real process: every line it writes (jwtkit's, uvicorn's
error and access logs) is one JSON object, and after logins, failed logins, a session login,
refreshes, a reuse, junk tokens, a token in a query string and a logout, no line contains a token,
a password, a cookie value or an ``Authorization`` header."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from .conftest import PASSWORD, bearer
from .processes import jwtkit_serve

WRONG_PASSWORD = "not-the-password-42"
JUNK_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWp1bms"


def secrets_of(*tokens: object) -> set[str]:
    """Each token (strings only: a pair's ``expires_in`` is not one), and each of its segments
    but plain numbers (a partial leak is a leak)."""
    found = set()
    for token in tokens:
        if isinstance(token, str):
            found.add(token)
            found.update(part for part in token.split(".") if len(part) >= 8 and not part.isdigit())
    return found


def drive(base_url: str) -> tuple[set[str], str]:
    """Traffic that handles every kind of secret; returns the secrets seen and the request id of the login."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert http.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
        login = http.post("/auth/token", json={"username": "alice", "password": PASSWORD},
                          headers={"X-Request-ID": "login-request-1"})
        assert login.status_code == 200
        first = login.json()
        cookies = {cookie.value for cookie in http.cookies.jar if cookie.value}  # the device cookie
        http.cookies.clear()
        for _ in range(3):
            assert http.post("/auth/token", json={"username": "alice", "password": WRONG_PASSWORD}).status_code == 401
        assert http.post("/auth/token", json={"username": PASSWORD, "password": PASSWORD}).status_code == 401
        session = http.post("/session/login", json={"username": "alice", "password": PASSWORD})
        assert session.status_code == 200
        session_id = session.cookies["sessionid"]
        cookies |= {cookie.value for cookie in http.cookies.jar if cookie.value}
        assert http.get("/session/me").status_code == 200  # the client sends its cookies
        http.cookies.clear()
        second = http.post("/auth/token/refresh", json={"refresh_token": first["refresh_token"]}).json()
        assert http.post("/auth/token/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
        third = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        assert http.get("/auth/me", headers=bearer(third["access_token"])).status_code == 200
        assert http.get("/auth/me", headers=bearer(JUNK_TOKEN)).status_code == 401
        assert http.get("/auth/me", headers={"Authorization": f"Basic {PASSWORD}"}).status_code == 401
        assert http.get("/auth/me", params={"access_token": third["access_token"]}).status_code == 401
        assert http.post("/auth/token/verify", json={"token": JUNK_TOKEN + "x" * 50}).status_code == 401
        assert http.post("/auth/token", json={"username": "alice", "password": 12345678}).status_code == 422
        assert http.post("/auth/logout", json={"refresh_token": third["refresh_token"]},
                         headers=bearer(third["access_token"])).status_code == 204
    assert session_id in cookies
    assert len(cookies) >= 2
    secrets = {PASSWORD, WRONG_PASSWORD} | secrets_of(
        JUNK_TOKEN, *cookies, *first.values(), *second.values(), *third.values())
    return {s for s in secrets if isinstance(s, str) and len(s) >= 8}, "login-request-1"


def test_json_logs_of_a_real_server_are_json_and_leak_no_secret(tmp_path: Path):
    log = tmp_path / "server.log"
    with jwtkit_serve(log, "--database", f"sqlite:///{tmp_path / 'auth.db'}", "--log-format", "json") as server:
        secrets, login_request = drive(server.url)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object
        assert {"time", "level", "logger", "event"} <= entry.keys(), line
        entries.append(entry)
        for secret in secrets:
            assert secret not in line, f"a secret in the log: {line}"
    loggers = {entry["logger"] for entry in entries}
    assert {"uvicorn.access", "uvicorn.error", "jwtkit.events"} <= loggers
    access = [entry for entry in entries if entry["logger"] == "uvicorn.access"]
    assert all("request_id" in entry for entry in access)
    assert any(entry["path"] == "/auth/me" and entry["status"] == 401 for entry in access)  # no query string
    login = [entry for entry in entries if entry.get("request_id") == login_request]
    assert {entry["logger"] for entry in login} == {"jwtkit.events", "uvicorn.access"}
    assert all(entry["user_id"] == 1 for entry in login)  # the access line of a login knows its user
    events = [entry["event"] for entry in entries if entry["logger"] == "jwtkit.events"]
    assert events.count("login failed") == 4
    assert "refresh reused (user 1)" in events


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_log_format_setting_reads_from_the_environment(log_format):
    from jwtkit.wiring import ServerSettings

    assert ServerSettings.from_env({"JWTKIT_LOG_FORMAT": log_format}).log_format == log_format


def test_an_unknown_log_format_is_refused():
    from jwtkit.wiring import ServerSettings

    with pytest.raises(ValueError, match="log_format"):
        ServerSettings(log_format="xml")
