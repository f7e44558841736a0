"""A Django project that follows Simple JWT's getting-started page, switched to jwtkit.

``settings`` uses SQLite (the test run's in-memory database, or ``JWTKIT_DJANGO_DB`` for a
server subprocess); ``settings_postgres`` uses PostgreSQL database ``JWTKIT_DJANGO_PG_NAME``.
Simple JWT's own views are mounted under ``/simplejwt/`` for the interop and shape tests.
"""
