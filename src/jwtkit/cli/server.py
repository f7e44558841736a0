"""Running the auth server on uvicorn: logging, the start line, the socket, the worker processes.

``jwtkit serve`` (:mod:`.serve`) parses the flags into :class:`~jwtkit.wiring.ServerSettings` and
calls :func:`run`; the app itself comes from the composition root (:func:`jwtkit.wiring.build_app`).
The server stack is imported only when this module is (the ``serve`` command imports it when it runs).
"""

from __future__ import annotations

import asyncio
import atexit
import io
import logging
import logging.config
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jwtkit.wiring import (
    ServerSettings,
    build_app,
    in_process_database,
    key_protection,
    polls_database,
    prepare,
    redacted,
)
from jwtkit.wiring.env import export_env

__all__ = ["run"]

# The start-up lines keep the logger name they had before running moved out of jwtkit.wiring.
log = logging.getLogger("jwtkit.wiring")


def run(settings: ServerSettings, *, announce: Callable[[str], None] = print) -> bool:
    """Serve the app with uvicorn until interrupted; ``announce`` gets the line saying where it listens.

    With one worker the socket is bound here first, so ``port=0`` picks a free port and the
    announced URL is the real one; the line comes once the service is open (the database reached,
    the key ring loaded). With ``workers > 1`` uvicorn binds the port and starts that many
    processes, each building its own service from these settings (passed as ``JWTKIT_*`` variables).
    Returns ``False`` when the app failed to start (uvicorn has logged why).

    Raises:
        OSError: the address cannot be bound.
    """
    import uvicorn

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # the access log goes there: one line per request, now
    from jwtkit.wiring.log_format import log_config

    logs = log_config(settings.log_format)
    if settings.log_format == "json":
        logging.config.dictConfig(logs)  # the lines before uvicorn's too
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.metrics:
        _prepare_metrics(settings)
    log.log(*key_protection(settings))

    options: dict[str, Any] = {
        "access_log": settings.access_log, "server_header": False, "log_level": "info", "lifespan": "on",
        # the app reads the proxy headers (--forwarded-allow-ips, jwtkit.web.proxy), uvicorn not at all
        "proxy_headers": False,
        # httptools with a cap on request heads (431), at httptools' speed (jwtkit.web.protocol)
        "http": "jwtkit.web.protocol:BoundedHttpToolsProtocol",
        "log_config": logs,  # the access log without query strings; JSON with --log-format json
    }
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    details = (f"database {redacted(settings.database_url)}, {settings.auth.alg}, access {settings.auth.access_ttl} s, "
               f"refresh {settings.auth.refresh_ttl} s, {workers}")
    if settings.redis_url is not None:
        details += f", redis {redacted(settings.redis_url)}"
    elif polls_database(settings):
        details += f", revocations polled from the database every {settings.revocation_poll_interval:g} s"
    if settings.auth.refresh_reuse_grace:
        details += f", refresh reuse grace {settings.auth.refresh_reuse_grace:g} s"
    if settings.auth.revocation_fail_open:
        details += ", revocation checks FAIL OPEN while the feed is stale"
    if settings.forwarded_allow_ips:
        details += f", proxy headers trusted from {settings.forwarded_allow_ips}"
    if settings.auth.access_token_profile != "simple":
        details += f", access tokens {settings.auth.access_token_profile}"
    if settings.auth.introspection_client_secret is not None:  # the client's id, never its secret
        details += f", introspection for client {settings.auth.introspection_client_id}"
    if settings.cors_origins:
        details += f", CORS for {' '.join(settings.cors_origins)}"
    if settings.metrics:
        details += ", metrics at /metrics"
    if not in_process_database(settings.database_url) and not _prepared(settings):
        return False
    if settings.workers > 1:
        export_env(settings.to_env())  # the workers rebuild these settings in app_from_env
        announce(f"jwtkit serve: listening on {_url(settings.host, settings.port)} ({details})")
        uvicorn.run("jwtkit.wiring:app_from_env", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, **options)
        return True
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        sock.listen(2048)
        url = _url(*sock.getsockname()[:2])
        app = build_app(settings, on_open=lambda: announce(f"jwtkit serve: listening on {url} ({details})"))
        server = uvicorn.Server(uvicorn.Config(app, **options))
        server.run(sockets=[sock])
        return server.started


def _prepare_metrics(settings: ServerSettings) -> None:
    """Fail early (the CLI names the ``metrics`` extra) when ``prometheus_client`` is missing; with
    several workers, give them prometheus' multiprocess directory: the operator's
    ``PROMETHEUS_MULTIPROC_DIR`` (emptied of the last run's files), else a new temporary one,
    removed at exit. Set before the workers import ``prometheus_client``, which reads it then."""
    import prometheus_client  # noqa: F401  (ModuleNotFoundError: the CLI names the extra)

    if settings.workers == 1:
        return
    from jwtkit.web.metrics import MULTIPROC_ENV
    from jwtkit.wiring.env import environment_value

    directory = environment_value(MULTIPROC_ENV)
    if directory:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="jwtkit-metrics-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    export_env({MULTIPROC_ENV: directory})


def _prepared(settings: ServerSettings) -> bool:
    """Run :func:`prepare` before serving; on failure log one line that says why (not a traceback
    from inside the server's startup) and return False."""
    from jwtkit.auth.errors import ServiceUnavailableError
    from jwtkit.storage.sql import SchemaTooNewError, UsernameCollisionError

    try:
        asyncio.run(prepare(settings))
    except ServiceUnavailableError:
        log.error("cannot open the database %s%s: not starting", redacted(settings.database_url),
                  f" or Redis {redacted(settings.redis_url)}" if settings.redis_url else "")
        return False
    except (SchemaTooNewError, UsernameCollisionError, ValueError) as exc:
        log.error("cannot use the database %s: %s", redacted(settings.database_url), exc)
        return False
    return True


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
