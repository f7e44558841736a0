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
