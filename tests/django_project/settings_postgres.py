"""The test project on PostgreSQL: database ``JWTKIT_DJANGO_PG_NAME`` (created and dropped by the tests)."""

import os

from .settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("JWTKIT_DJANGO_PG_NAME", "test_jwtkit_django"),
        "USER": os.environ.get("JWTKIT_DJANGO_PG_USER", "postgres"),
        "HOST": os.environ.get("JWTKIT_DJANGO_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("JWTKIT_DJANGO_PG_PORT", "5432"),
    }
}
