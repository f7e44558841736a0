"""The in-process Django suite again, on PostgreSQL: a pytest run in a subprocess with the project's
PostgreSQL settings, on a test database of its own (``test_jwtkit_django_…``, created and dropped by
pytest-django; the shared ``test`` database is never touched)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
TESTS_DIR = HERE.parents[1]


def require_postgres() -> None:
    import psycopg

    try:
        psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI but does not answer: {exc}")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


def test_the_django_suite_passes_on_postgresql():
    require_postgres()
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "DJANGO_SETTINGS_MODULE": "django_project.settings_postgres",
        "JWTKIT_DJANGO_PG_NAME": f"jwtkit_django_{os.getpid()}_{secrets.token_hex(3)}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider", "-m", "not slow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
