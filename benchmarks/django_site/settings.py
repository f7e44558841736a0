"""A startproject-like site with DRF, Simple JWT (with its blacklist app, as its docs recommend for
rotation) and jwtkit's app, on SQLite (``BENCH_DJANGO_DB``). Both use HS256 with ``SECRET_KEY``.

Deployed as a careful production site would be, the same for both libraries: ``DEBUG`` off,
startproject's middleware, and persistent database connections (``CONN_MAX_AGE``, from
``BENCH_DJANGO_CONN_MAX_AGE``: "none" = kept for the process's life, the default; a number of
seconds; "0" = Django's default, a new connection per request, which is what the ASGI handler
needs: it runs each request in a thread of its own, so a kept connection would never be reused)."""

import os

import django

SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "jwtkit.integrations.django",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "django_site.urls"
WSGI_APPLICATION = "django_site.wsgi.application"
ASGI_APPLICATION = "django_site.asgi.application"
# A lock wait of up to 20 s (Django's default, 5 s, fails writers under 16 concurrent refreshes on a loaded machine).
_CONN_MAX_AGE = os.environ.get("BENCH_DJANGO_CONN_MAX_AGE", "none")
_OPTIONS: dict[str, object] = {"timeout": 20}
if os.environ.get("BENCH_DJANGO_SQLITE", "tuned") == "tuned":
    # SQLite as a production site runs it: WAL (readers never wait for the writer, a commit appends to the
    # log), synchronous=NORMAL (durable at checkpoints; a power cut may lose the last commits, never corrupt),
    # and write transactions that take the lock when they begin (no failed read-to-write upgrades).
    _OPTIONS["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    if django.VERSION >= (5, 1):
        _OPTIONS["transaction_mode"] = "IMMEDIATE"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_DJANGO_DB"],
        "OPTIONS": _OPTIONS,
        "CONN_MAX_AGE": None if _CONN_MAX_AGE == "none" else int(_CONN_MAX_AGE),
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # logins are not what is measured
SIMPLE_JWT = {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": []}
LOGGING = {  # a 500 during a run shows its traceback in server.log
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
