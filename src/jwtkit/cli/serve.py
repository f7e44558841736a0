"""``jwtkit serve``: run the auth server on uvicorn.

Every flag has a ``JWTKIT_*`` environment variable (flags win); see :mod:`jwtkit.wiring.settings`.
Running the server (uvicorn, logging, workers) is :mod:`.server`.
The server stack is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .console import UsageError

_EPILOG = """\
environment (flags win): JWTKIT_DATABASE_URL, JWTKIT_DATABASE_SCHEMA, JWTKIT_REDIS_URL,
  JWTKIT_REDIS_PREFIX, JWTKIT_REVOCATION_FAIL_OPEN (1/0), JWTKIT_REVOCATION_MAX_STALENESS,
  JWTKIT_REVOCATION_POLL_INTERVAL, JWTKIT_HOST, JWTKIT_PORT,
  JWTKIT_ACCESS_TTL, JWTKIT_REFRESH_TTL, JWTKIT_SESSION_TTL, JWTKIT_REFRESH_REUSE_GRACE,
  JWTKIT_ISSUER, JWTKIT_AUDIENCE,
  JWTKIT_ALG, JWTKIT_WORKERS, JWTKIT_ACCESS_LOG (1/0), JWTKIT_FORWARDED_ALLOW_IPS,
  JWTKIT_COOKIE_SECURE, JWTKIT_CORS_ORIGINS (comma-separated), JWTKIT_REGISTER_MAX_PER_CLIENT,
  JWTKIT_UI (1/0), JWTKIT_REGISTER (1/0), JWTKIT_METRICS (1/0), JWTKIT_LOG_FORMAT (text/json),
  JWTKIT_ACCESS_TOKEN_PROFILE, JWTKIT_ACCESS_TOKEN_CLIENT_ID, JWTKIT_ACCESS_TOKEN_SCOPE,
  JWTKIT_INTROSPECTION_CLIENT_ID, and two secrets, environment only:
  JWTKIT_KEY_ENCRYPTION_SECRET (at least 16 characters; encrypts the private signing keys at rest) and
  JWTKIT_INTROSPECTION_CLIENT_SECRET (at least 16 characters; turns on POST /oauth/introspect).

examples:
  jwtkit serve                                   # ./jwtkit.sqlite3 on http://127.0.0.1:8000
  jwtkit serve --database sqlite:///var/lib/jwtkit/auth.db --port 9000 --issuer https://auth.example
  JWTKIT_KEY_ENCRYPTION_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') jwtkit serve
  jwtkit serve --forwarded-allow-ips 127.0.0.1   # behind nginx on the same host
  jwtkit serve --access-token-profile rfc9068 --issuer https://auth.example --audience https://api.example

The page (token debugger, the login flow live): http://HOST:PORT/   API docs: http://HOST:PORT/docs
"""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the auth server (login, JWT pairs, refresh, JWKS, sessions)",
        description="Run the auth server: FastAPI on uvicorn over SQLite (default) or PostgreSQL.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", metavar="URL",
                        help="sqlite:///PATH (default: ./jwtkit.sqlite3), a file path, postgresql://..., or memory://")
    parser.add_argument("--database-schema", metavar="NAME",
                        help="PostgreSQL only: keep every table in this schema (created if missing)")
    parser.add_argument("--redis", metavar="URL",
                        help="Redis URL: revocations reach every worker at once, login throttling is shared")
    parser.add_argument("--redis-prefix", metavar="PREFIX",
                        help="namespace of the Redis keys and channel (default jwtkit:)")
    parser.add_argument("--revocation-fail-open", action="store_const", const=True,
                        help="while revocations cannot be kept current (Redis down, or database polls failing, "
                             "past the staleness bound), "
                             "keep accepting access tokens not known revoked, with a warning (default: refuse "
                             "them, fail closed)")
    parser.add_argument("--revocation-max-staleness", type=float, metavar="SECONDS",
                        help="how long revocations may go unconfirmed (feed down, database polls failing or "
                             "starved by load) before the revocation mode applies (default 1.0)")
    parser.add_argument("--revocation-poll-interval", type=float, metavar="SECONDS",
                        help="without --redis: how often each server polls the database for revocations and "
                             "key rotations made by the others (default 0.1; below --revocation-max-staleness)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--access-ttl", type=int, metavar="SECONDS", help="access token lifetime (default 300)")
    parser.add_argument("--refresh-ttl", type=int, metavar="SECONDS", help="refresh token lifetime (default 86400)")
    parser.add_argument("--refresh-reuse-grace", type=float, metavar="SECONDS",
                        help="a refresh token spent again within SECONDS of its first spend gets the same "
                             "rotated pair instead of revoking its family (concurrent requests of one client); "
                             "later reuse still revokes (default 0: off; keep it to a few seconds)")
    parser.add_argument("--session-ttl", type=int, metavar="SECONDS", help="session lifetime (default 1209600)")
    parser.add_argument("--issuer", metavar="ISS", help="the iss claim of issued tokens (checked on verify)")
    parser.add_argument("--audience", metavar="AUD", help="the aud claim of issued tokens (checked on verify)")
    parser.add_argument("--alg", help="signing algorithm (default ES256; asymmetric only)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes (default 1); without --redis they share revocations, key "
                             "rotations and login throttling through the database")
    parser.add_argument("--register-max-per-client", type=int, metavar="N",
                        help="registrations (taken names included) allowed per client address (IPv6: /64) "
                             "per hour (default 20); raise it when many people sign up behind one address")
    parser.add_argument("--no-access-log", dest="access_log", action="store_const", const=False,
                        help="do not log one line per request")
    parser.add_argument("--forwarded-allow-ips", metavar="IPS",
                        help="comma-separated addresses or networks of reverse proxies whose Forwarded / "
                             "X-Forwarded-For / X-Forwarded-Proto headers are trusted (default: none; '*' trusts "
                             "every peer: only when nothing else can reach the server)")
    parser.add_argument("--cookie-secure", choices=["always", "auto", "never"],
                        help="the session cookie's Secure attribute (default auto: when the original scheme is https)")
    parser.add_argument("--cors-origin", dest="cors_origins", action="append", metavar="ORIGIN",
                        help="let browser pages on ORIGIN (https://app.example) call the API with credentials; "
                             "repeatable (default: CORS off)")
    parser.add_argument("--no-ui", dest="ui", action="store_const", const=False,
                        help="do not serve the page at / (token debugger, live flow): API only")
    parser.add_argument("--no-register", dest="register", action="store_const", const=False,
                        help="close public registration: POST /auth/register answers 403 registration_closed; "
                             "accounts are made with `jwtkit users create`")
    parser.add_argument("--access-token-profile", choices=["simple", "rfc9068"],
                        help="access token format (default simple); rfc9068: header typ at+jwt, claims iss, aud, "
                             "sub, client_id, scope (RFC 9068; needs --issuer and --audience)")
    parser.add_argument("--access-token-client-id", metavar="ID",
                        help="rfc9068: the client_id claim of access tokens (default jwtkit)")
    parser.add_argument("--access-token-scope", metavar="SCOPE",
                        help="rfc9068: the scope claim of access tokens, space-separated (default api)")
    parser.add_argument("--introspection-client-id", metavar="ID",
                        help="the client allowed to call POST /oauth/introspect (default resource-server); its "
                             "secret comes from JWTKIT_INTROSPECTION_CLIENT_SECRET (no secret: endpoint off)")
    parser.add_argument("--metrics", action="store_const", const=True,
                        help="serve Prometheus metrics at GET /metrics (needs the metrics extra; keep /metrics "
                             "off the public internet at your proxy). With --workers, prometheus' multiprocess "
                             "mode in PROMETHEUS_MULTIPROC_DIR (default: a temporary directory)")
    parser.add_argument("--log-format", choices=["text", "json"],
                        help="text (default) or json: one JSON object per line (time, level, logger, event, "
                             "request_id, user_id), uvicorn's access and error logs included")
    parser.set_defaults(func=_handle)


def _announcer(log_format: str) -> Callable[[str], None]:
    """How the "listening on" line is written: printed, or a JSON log line with ``--log-format json``."""
    if log_format == "json":
        import logging

        return logging.getLogger("jwtkit.serve").info
    return lambda line: print(line, flush=True)


def _handle(args: argparse.Namespace) -> int:
    from jwtkit import wiring

    from .server import run

    try:
        settings = wiring.ServerSettings.from_env(
            database_url=args.database, database_schema=args.database_schema, redis_url=args.redis,
            redis_prefix=args.redis_prefix, revocation_fail_open=args.revocation_fail_open,
            revocation_max_staleness=args.revocation_max_staleness,
            revocation_poll_interval=args.revocation_poll_interval, host=args.host, port=args.port,
            access_ttl=args.access_ttl, refresh_ttl=args.refresh_ttl, session_ttl=args.session_ttl,
            refresh_reuse_grace=args.refresh_reuse_grace,
            issuer=args.issuer, audience=args.audience, alg=args.alg, workers=args.workers,
            access_log=args.access_log, forwarded_allow_ips=args.forwarded_allow_ips,
            cookie_secure=args.cookie_secure, cors_origins=args.cors_origins,
            register_max_per_client=args.register_max_per_client, ui=args.ui, register=args.register,
            access_token_profile=args.access_token_profile, access_token_client_id=args.access_token_client_id,
            access_token_scope=args.access_token_scope, introspection_client_id=args.introspection_client_id,
            metrics=args.metrics, log_format=args.log_format,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if settings.workers > 1 and settings.redis_url is None:
        print(f"jwtkit serve: note: {settings.workers} workers without --redis: revocations and key rotations "
              f"reach the other workers by polling the database (every {settings.revocation_poll_interval:g} s); "
              "--redis makes that immediate", file=sys.stderr)
    try:
        started = run(settings, announce=_announcer(settings.log_format))
    except OSError as exc:  # the port is taken, the address is not ours
        raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
    return 0 if started else 1
