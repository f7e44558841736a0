"""``jwtkit users`` (issue 14), the real command in a subprocess, on SQLite and on PostgreSQL: create
(password from stdin), list (``--json``), disable/enable, revoke, delete, unlock; and against a
running ``jwtkit serve`` on the same database, whose user the command revokes or disables: the
server refuses the user's tokens (401) within its poll interval, without Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from jwtkit import wiring
from web.processes import Server, clean_env, jwtkit_serve

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"
WITHIN = 10.0  # seconds a running server may take to see a revocation (it polls every 0.1 s)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """The ``--database`` (and ``--database-schema``) options of a fresh database."""
    if request.param == "sqlite":
        return ["--database", f"sqlite:///{tmp_path / 'auth.sqlite3'}"]
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return ["--database", url, "--database-schema", schema]


def jwtkit(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jwtkit", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=clean_env(), check=False)


def users(database: list[str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return jwtkit("users", *args, *database, stdin=stdin)


def listed(database: list[str]) -> dict[str, dict[str, object]]:
    result = users(database, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["username"]: entry for entry in json.loads(result.stdout)}


def create(database: list[str], name: str = "alice") -> None:
    result = users(database, "create", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert f'created user "{name}"' in result.stdout


def test_the_operator_manages_accounts_end_to_end(database: list[str]) -> None:
    create(database)
    taken = users(database, "create", "ALICE", "--password-stdin", stdin=PASSWORD + "\n")
    assert taken.returncode == 2
    assert "exists already" in taken.stderr
    weak = users(database, "create", "bob", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2
    assert "password" in weak.stderr

    entry = listed(database)["alice"]
    assert entry["last_login_at"] is None
    assert entry["locked"] is False
    assert entry["disabled"] is False
    assert entry["live_sessions"] == 0
    table = users(database, "list").stdout.splitlines()
    assert table[0].split() == ["ID", "USERNAME", "LAST", "LOGIN", "LOCKED", "DISABLED", "SESSIONS"]
    assert table[1].split()[1:3] == ["alice", "never"]

    assert users(database, "disable", "alice").returncode == 0
    assert listed(database)["alice"]["disabled"] is True
    assert users(database, "enable", "alice").returncode == 0
    assert listed(database)["alice"]["disabled"] is False

    result = users(database, "revoke", "alice")
    assert result.returncode == 0, result.stderr
    assert '"alice": 0 live sessions ended' in result.stdout

    unconfirmed = users(database, "delete", "alice")  # stdin is not a terminal, no --yes
    assert unconfirmed.returncode == 2
    assert "--yes" in unconfirmed.stderr
    assert users(database, "delete", "alice", "--yes").returncode == 0
    assert listed(database) == {}


# ---- usage errors, in-process (``main``: no interpreter start per case) -------------------------


@pytest.fixture
def sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for name in wiring.variable_names():
        monkeypatch.delenv(name, raising=False)
    return ["--database", str(tmp_path / "auth.sqlite3")]


@pytest.mark.parametrize("action", ["disable", "enable", "revoke", "delete", "unlock"])
def test_an_unknown_user_is_a_usage_error(cli, sqlite: list[str], action: str) -> None:
    result = cli("users", action, "nobody", *(["--yes"] if action == "delete" else []), *sqlite)
    assert result.code == 2
    assert "no user named 'nobody'" in result.err


def test_usage_errors_of_unlock_and_create(cli, sqlite: list[str]) -> None:
    assert cli("users", "unlock", *sqlite).code == 2
    bad_ip = cli("users", "unlock", "--ip", "not-an-ip", *sqlite)
    assert bad_ip.code == 2
    assert "--ip" in bad_ip.err
    assert cli("users", "create", "alice", "--password-stdin", *sqlite, stdin="").code == 2
    assert cli("users").code == 2


def test_the_password_prompt_asks_twice_and_refuses_a_mismatch(cli, sqlite: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    mismatch = cli("users", "create", "alice", *sqlite)
    assert mismatch.code == 2
    assert "do not match" in mismatch.err
    answers = iter([PASSWORD, PASSWORD])
    created = cli("users", "create", "alice", *sqlite)
    assert created.code == 0, created.err


# ---- against a running server on the same database ------------------------------------------


@pytest.fixture
def server(database: list[str], tmp_path: Path) -> Iterator[Server]:
    with jwtkit_serve(tmp_path / "server.log", *database) as running:
        yield running


def log_in(server: Server, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(server.url + "/auth/token", json={"username": "alice", "password": password}, timeout=30)


def me(server: Server, access_token: str) -> int:
    return httpx.get(server.url + "/auth/me", headers={"Authorization": f"Bearer {access_token}"},
                     timeout=30).status_code


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WITHIN
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {WITHIN} s")
        time.sleep(0.05)


@pytest.mark.slow
def test_revoke_logs_a_user_out_of_a_running_server(server: Server, database: list[str]) -> None:
    create(database)
    pairs = [log_in(server).json() for _ in range(2)]
    assert all(me(server, pair["access_token"]) == 200 for pair in pairs)
    assert listed(database)["alice"]["live_sessions"] == 2

    result = users(database, "revoke", "alice")

    assert result.returncode == 0, result.stderr
    assert "2 live sessions ended" in result.stdout
    for pair in pairs:
        eventually(lambda pair=pair: me(server, pair["access_token"]) == 401, "the server refusing the token")
        refreshed = httpx.post(server.url + "/auth/token/refresh", json={"refresh_token": pair["refresh_token"]},
                               timeout=30)
        assert refreshed.status_code == 401
    assert log_in(server).status_code == 200  # revoked, not disabled: they log in again


@pytest.mark.slow
def test_a_user_disabled_while_the_server_runs_is_refused_until_enabled(server: Server, database: list[str]) -> None:
    create(database)
    pair = log_in(server).json()
    assert listed(database)["alice"]["last_login_at"] is not None

    assert users(database, "disable", "alice").returncode == 0

    eventually(lambda: me(server, pair["access_token"]) == 401, "the server refusing the disabled user's token")
    assert httpx.post(server.url + "/auth/token/refresh", json={"refresh_token": pair["refresh_token"]},
                      timeout=30).status_code == 401
    assert log_in(server).status_code == 401
    assert users(database, "enable", "alice").returncode == 0
    assert log_in(server).status_code == 200


@pytest.mark.slow
def test_unlock_lets_a_locked_out_user_log_in_again(server: Server, database: list[str]) -> None:
    create(database)
    for _ in range(5):  # the short lock of (alice, this address)
        assert log_in(server, "wrong password").status_code == 401
    assert log_in(server).status_code == 429

    result = users(database, "unlock", "alice", "--ip", "127.0.0.1")

    assert result.returncode == 0, result.stderr
    assert log_in(server).status_code == 200


@pytest.mark.slow
def test_a_password_changed_on_the_server_ends_the_other_sessions(server: Server, database: list[str]) -> None:
    create(database)
    this, other = log_in(server).json(), log_in(server).json()
    response = httpx.post(server.url + "/auth/password", json={"current_password": PASSWORD, "new_password": NEW},
                          headers={"Authorization": f"Bearer {this['access_token']}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert me(server, other["access_token"]) == 401
    assert me(server, response.json()["access_token"]) == 200
    assert listed(database)["alice"]["live_sessions"] == 1


@pytest.mark.slow
def test_no_register_closes_registration_and_the_cli_makes_the_accounts(database: list[str], tmp_path: Path) -> None:
    with jwtkit_serve(tmp_path / "closed.log", *database, "--no-register") as server:
        closed = httpx.post(server.url + "/auth/register", json={"username": "bob", "password": PASSWORD}, timeout=30)
        assert closed.status_code == 403
        assert closed.json()["error"] == "registration_closed"
        create(database)
        assert log_in(server).status_code == 200
