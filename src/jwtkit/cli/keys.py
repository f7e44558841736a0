"""``jwtkit keys rotate`` and ``jwtkit keys retire KID``: the signing keys in the server's database.

``rotate`` makes a new active key. The previous key is retired, not deleted: it stays in the JWKS
(and accepted) until every token it signed has expired, so live tokens keep working.

``retire KID`` is the answer to a leaked key: trust in it ends now. It leaves the JWKS, every
token it signed is refused, and the sessions whose latest tokens it signed are ended (the command
says how many users must log in again). Retiring the active key first rotates, so the servers
always have a key to sign with: refusing instead would leave the leaked key signing until a
second command, in the middle of an incident.

Running servers pick either change up at once when the command is given their ``--redis`` (it is
announced on the revocation feed), and otherwise at their next database poll (every
``--revocation-poll-interval``, 0.1 s by default). The server stack is imported only when the
command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .console import EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from jwtkit.auth.service import AuthService

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("keys", help="manage the auth server's signing keys",
                                   description="Manage the auth server's signing keys (in its database).")
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    rotate = actions.add_parser(
        "rotate", help="make a new active signing key; the old one stays published until its tokens expire",
        description="Make a new active signing key. JWTKIT_* variables apply as for `jwtkit serve` "
                    "(JWTKIT_ALG, JWTKIT_KEY_ENCRYPTION_SECRET, the TTLs that bound the old key's life).",
    )
    _database_options(rotate)
    rotate.set_defaults(func=_rotate)
    retire = actions.add_parser(
        "retire", help="stop trusting a signing key now (a leaked key): its tokens and sessions end",
        description="Stop trusting the signing key KID now: it leaves the JWKS, every token it signed is "
                    "refused, and the sessions whose latest tokens it signed are ended (their users log in "
                    "again; the command says how many). Retiring the active key makes a new one first. "
                    "JWTKIT_* variables apply as for `jwtkit serve`.",
    )
    retire.add_argument("kid", metavar="KID", help="the key's kid (the JWKS, or a token's header, shows it)")
    _database_options(retire)
    retire.set_defaults(func=_retire)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", help="as for `jwtkit serve` (default: ./jwtkit.sqlite3)")
    parser.add_argument("--database-schema", metavar="NAME", help="as for `jwtkit serve` (PostgreSQL only)")
    parser.add_argument("--redis", metavar="URL",
                        help="the servers' Redis: announce the change at once (without it they pick it up "
                             "at their next key-ring reload)")
    parser.add_argument("--redis-prefix", metavar="PREFIX", help="as for `jwtkit serve` (default jwtkit:)")


def _with_service(args: argparse.Namespace, action: Callable[[AuthService], Awaitable[T]]) -> T:
    """Open the service the options describe, run ``action`` on it, close it; usage errors for
    what the operator can fix (settings, an unreachable database, a wrong key secret)."""
    import asyncio

    from jwtkit import wiring
    from jwtkit.auth.errors import ServiceUnavailableError

    try:
        settings = wiring.ServerSettings.from_env(database_url=args.database, database_schema=args.database_schema,
                                                  redis_url=args.redis, redis_prefix=args.redis_prefix)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    async def run() -> T:
        service = await wiring.open_service(settings)
        try:
            return await action(service)
        finally:
            await service.close()

    try:
        return asyncio.run(run())
    except ServiceUnavailableError:
        raise UsageError(f"cannot open the database {wiring.redacted(settings.database_url)}") from None
    except (ValueError, LookupError) as exc:
        raise UsageError(str(exc)) from None


def _rotate(args: argparse.Namespace) -> int:
    print(_with_service(args, lambda service: service.rotate_keys()))
    return 0


def _retire(args: argparse.Namespace) -> int:
    retired = _with_service(args, lambda service: service.retire_key(args.kid))
    if retired.replaced_by is not None:
        print(f"{retired.kid} was the active signing key: the new active key is {retired.replaced_by}")
    print(f"retired signing key {retired.kid}: no longer trusted, removed from the JWKS")
    sessions = retired.sessions_ended
    print(f"{sessions} live session{'' if sessions == 1 else 's'} signed with it ended: "
          f"{'that user must' if sessions == 1 else 'those users must'} log in again")
    return 0
