"""``jwtkit keys rotate``: make a new active signing key in the server's database.

The previous key is retired, not deleted: it stays in the JWKS (and accepted) until every token
it signed has expired, so live tokens keep working. Running servers pick the new key up at once
when the command is given their ``--redis`` (the rotation is announced on the revocation feed),
and otherwise at their next database poll (every ``--revocation-poll-interval``, 0.1 s by
default). The server stack is imported only when the command runs (STYLE.md §11).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .console import UsageError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("keys", help="manage the auth server's signing keys",
                                   description="Manage the auth server's signing keys (in its database).")
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    rotate = actions.add_parser(
        "rotate", help="make a new active signing key; the old one stays published until its tokens expire",
        description="Make a new active signing key. JWTKIT_* variables apply as for `jwtkit serve` "
                    "(JWTKIT_ALG, JWTKIT_KEY_ENCRYPTION_SECRET, the TTLs that bound the old key's life).",
    )
    rotate.add_argument("--database", metavar="URL", help="as for `jwtkit serve` (default: ./jwtkit.sqlite3)")
    rotate.add_argument("--database-schema", metavar="NAME", help="as for `jwtkit serve` (PostgreSQL only)")
    rotate.add_argument("--redis", metavar="URL",
                        help="the servers' Redis: announce the new key at once (without it they pick it up "
                             "at their next key-ring reload)")
    rotate.add_argument("--redis-prefix", metavar="PREFIX", help="as for `jwtkit serve` (default jwtkit:)")
    rotate.set_defaults(func=_rotate)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _rotate(args: argparse.Namespace) -> int:
    from jwtkit import wiring
    from jwtkit.auth.errors import ServiceUnavailableError

    try:
        settings = wiring.ServerSettings.from_env(database_url=args.database, database_schema=args.database_schema,
                                                  redis_url=args.redis, redis_prefix=args.redis_prefix)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    async def rotate() -> str:
        service = await wiring.open_service(settings)
        try:
            return await service.rotate_keys()
        finally:
            await service.close()

    try:
        kid = asyncio.run(rotate())
    except ServiceUnavailableError:
        raise UsageError(f"cannot open the database {wiring.redacted(settings.database_url)}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(kid)
    return 0
