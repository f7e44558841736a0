"""Django for these tests: the project in ``tests/django_project`` (importable as ``django_project``).

The in-process tests run on SQLite (pytest-django's test database); the live-server tests start
``runserver`` subprocesses on a SQLite file and on a PostgreSQL database of their own.
"""

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[2]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")

import django  # noqa: E402

django.setup()


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts with an empty in-process denylist and key ring (the database is rolled back)."""
    from jwtkit.integrations.django import backend
    from jwtkit.integrations.django.denylist import denylist

    denylist.reset()
    backend._reset()
    yield
    denylist.reset()
    backend._reset()


@pytest.fixture
def user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="alice", password="correct horse battery")


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def login(api, user):
    """Obtain a pair through the view: ``{"access", "refresh"}``."""

    def obtain() -> dict:
        response = api.post("/api/token/", {"username": "alice", "password": "correct horse battery"}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    return obtain


# ---- live servers: `manage.py runserver` subprocesses on SQLite and on PostgreSQL ---------------
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

PROJECT = TESTS_DIR / "django_project"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


class LiveServer:
    """A threaded ``runserver`` on a database of its own, and the user ``alice`` in it."""

    def __init__(self, settings_module: str, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(TESTS_DIR), "DJANGO_SETTINGS_MODULE": settings_module}
        self.env.setdefault("JWTKIT_DJANGO_POLL", "0.2")
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(PROJECT / "manage.py"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def prepare(self) -> None:
        self.manage("migrate", "-v", "0")
        self.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            "get_user_model().objects.create_user(username='alice', password='correct horse battery')",
        )

    def start(self) -> str:
        """Start one more server process on the same database; its base URL."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, "runserver exited"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.1)
        raise AssertionError("runserver did not start")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def sqlite_server(tmp_path):
    server = LiveServer("django_project.settings", {"JWTKIT_DJANGO_DB": str(tmp_path / "db.sqlite3")})
    server.prepare()
    yield server
    server.stop()


def _postgres_admin():
    import psycopg

    try:
        return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI but {PG_HOST}:{PG_PORT} does not answer: {exc}")
        pytest.skip(f"PostgreSQL is not running on {PG_HOST}:{PG_PORT}")


@pytest.fixture
def postgres_server():
    """A live server on a database of this suite's own (``test_jwtkit_django_…``), dropped afterwards."""
    name = f"test_jwtkit_django_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _postgres_admin()
    admin.execute(f'CREATE DATABASE "{name}"')
    server = LiveServer("django_project.settings_postgres", {"JWTKIT_DJANGO_PG_NAME": name})
    try:
        server.prepare()
        yield server
    finally:
        server.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request):
    """A prepared live server (not yet started) on each database."""
    return request.getfixturevalue("sqlite_server" if request.param == "sqlite" else "postgres_server")
