"""The composition root: settings in, objects out (settings → stores → service → app).

- :mod:`.settings`: ``ServerSettings`` (containing the service's ``AuthSettings``), validated once;
- :mod:`.env`: the ``JWTKIT_*`` variables, read and written (nothing else in jwtkit reads ``os.environ``);
- :mod:`.stores`: which storage adapters a database URL and the scale-out settings choose;
- :mod:`.app`: the service and the HTTP app over them.

Running the app (uvicorn, logging, worker processes) is ``jwtkit serve``'s job: :mod:`jwtkit.cli.server`.

Example::

    settings = ServerSettings.from_env(port=9000)
    app = build_app(settings)
"""

from __future__ import annotations

from .app import (
    app_from_env,
    build_app,
    key_protection,
    open_service,
    polls_database,
    prepare,
    redacted,
    redis_ping_interval,
)
from .env import ENV_PREFIX
from .settings import AUTH_SETTINGS, DEFAULT_DATABASE_URL, ServerSettings, normalize_database_url, variable_names
from .stores import in_process_database, open_stores

__all__ = ["AUTH_SETTINGS", "DEFAULT_DATABASE_URL", "ENV_PREFIX", "ServerSettings", "app_from_env", "build_app",
           "in_process_database", "key_protection", "normalize_database_url", "open_service", "open_stores",
           "polls_database", "prepare", "redacted", "redis_ping_interval", "variable_names"]
