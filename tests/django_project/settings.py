"""Settings of the test project (SQLite): a ``startproject`` project with DRF and jwtkit."""

import os
from datetime import timedelta

SECRET_KEY = "test-secret-key-for-jwtkit-django-integration-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",  # kept while switching: its blacklist is honoured
    "jwtkit.integrations.django",
    "django_project.custom_users",  # user models unlike auth.User (tables created by the test runner only)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "jwtkit.integrations.django.middleware.JWTAuthenticationMiddleware",
]

ROOT_URLCONF = "django_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_SQLITE_FILE = os.environ.get("JWTKIT_DJANGO_DB")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _SQLITE_FILE or ":memory:",
        # Concurrent writers wait up to 30 s for the lock (Django's default transaction mode).
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests; never in production

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwtkit.integrations.django.authentication.JWTAuthentication"],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

JWTKIT = {
    # No poller thread inside the test process (the database is rolled back under it); requests
    # re-read the table once the copy is a second old. Server subprocesses set their own.
    "DENYLIST_POLL_INTERVAL": float(os.environ.get("JWTKIT_DJANGO_POLL", "0")),
    "DENYLIST_MAX_STALENESS": 1.0,
}
