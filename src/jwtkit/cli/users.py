"""``jwtkit users``: the accounts in the server's database, for its operator.

``create NAME`` (the password from a prompt, twice, or ``--password-stdin``), ``list`` (``--json``),
``disable NAME`` / ``enable NAME``, ``revoke NAME`` (log out everywhere), ``delete NAME``, and
``unlock NAME`` / ``unlock --ip ADDR`` (clear the login throttle).

The commands work on the database the servers use (the same ``--database`` and ``JWTKIT_*``
variables as ``jwtkit serve``), whether servers are running or not. What ends sessions (``disable``,
``revoke``, ``delete``) revokes the user's refresh families and denies their access tokens exactly
as a logout does: running servers refuse those tokens at once when the command is given their
``--redis`` (the revocation feed), and otherwise at their next database poll (every
``--revocation-poll-interval``, 0.1 s by default), as for ``jwtkit keys retire``. The server stack
is imported only when the command runs.

Exit status: 0 done, 1 ``delete`` not confirmed, 2 a usage error (unknown user, a name or password
that breaks the rules, a name taken, passwords that differ, an unreachable database).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .console import EXIT_USAGE, UsageError, human_span, safe_json_string
from .keys import _database_options, _with_service

if TYPE_CHECKING:
    from jwtkit.auth.models import AccountChange, UserAccount
    from jwtkit.auth.service import AuthService

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "users", help="manage the auth server's accounts: create, list, disable, revoke, delete, unlock",
        description="Manage the accounts in the auth server's database (running servers or not). JWTKIT_* "
                    "variables apply as for `jwtkit serve`.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION")

    create = _action(actions, "create", "create a user (the password from a prompt, or --password-stdin)",
                     "Create a user. The password is asked twice on the terminal, or read from standard input "
                     "with --password-stdin (one line). The rules of registration apply.", _create)
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    listing = _action(actions, "list", "list the users: last login, locked, disabled, live sessions",
                      "List every user: id, name, last login, whether the login throttle locks the name "
                      "(from every address) and for how long, whether disabled, and live sessions "
                      "(refresh families).", _list, name=False)
    listing.add_argument("--json", action="store_true", help="one JSON array, times as Unix seconds")

    _action(actions, "disable", "disable a user: no login or refresh; their sessions end now",
            "Disable a user: login and refresh are refused, and every session of theirs ends now "
            "(their access tokens are refused, as after a logout).", _disable)
    _action(actions, "enable", "let a disabled user log in again",
            "Let a disabled user log in again (their ended sessions stay ended).", _enable)
    _action(actions, "revoke", "log a user out everywhere (every session ends now)",
            "Log a user out everywhere: every refresh family of theirs is revoked and its access tokens "
            "refused, their cookie sessions end. They can log in again.", _revoke)
    delete = _action(actions, "delete", "delete a user (their sessions end first)",
                     "Delete a user: every session of theirs ends (as with revoke), then the account is "
                     "deleted. Asks for confirmation unless --yes.", _delete)
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    unlock = _action(actions, "unlock", "clear the login throttle of a user or an address",
                     "Clear the login throttle: of a user's name (the lock from every address), of an "
                     "address with --ip (its logins and registrations; IPv6 by /64), or of both and the "
                     "pair. The short lock of the name from one other address ends with its window. Servers "
                     "run with --redis keep the throttle there: give the same --redis.",
                     _unlock, name=False)
    unlock.add_argument("name", metavar="NAME", nargs="?", help="the username")
    unlock.add_argument("--ip", metavar="ADDR", help="a client address (IPv4, or IPv6: its /64)")
    parser.set_defaults(func=lambda args: _usage(parser))


def _action(actions: argparse._SubParsersAction[Any], verb: str, help_text: str, description: str,
            handler: Callable[[argparse.Namespace], int], *, name: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(verb, help=help_text, description=description)
    if name:
        parser.add_argument("name", metavar="NAME", help="the username (case-insensitive)")
    _database_options(parser)
    parser.set_defaults(func=handler)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _run(args: argparse.Namespace, action: Callable[[AuthService], Awaitable[T]]) -> T:
    """``keys``' service runner, with the service's input errors as usage errors."""
    from jwtkit.auth.errors import InvalidInputError, UsernameTakenError

    async def checked(service: AuthService) -> T:
        try:
            return await action(service)
        except InvalidInputError as exc:
            raise UsageError(exc.message) from None
        except UsernameTakenError:
            raise UsageError(f"a user named {args.name!r} exists already (names are case-insensitive)") from None

    return _with_service(args, checked)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError("--password-stdin: standard input is empty")
        return line.removesuffix("\n").removesuffix("\r")
    import getpass

    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
    except EOFError:
        raise UsageError("no password given (use --password-stdin to pipe one)") from None
    if first != second:
        raise UsageError("the passwords do not match")
    return first


def _create(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    user = _run(args, lambda service: service.create_user(args.name, password))
    print(f"created user {safe_json_string(user.username)} (id {user.id})")
    return 0


def _list(args: argparse.Namespace) -> int:
    accounts = _run(args, lambda service: service.list_users())
    if args.json:
        print(json.dumps([_as_json(account) for account in accounts], indent=2))
        return 0
    rows = [("ID", "USERNAME", "LAST LOGIN", "LOCKED", "DISABLED", "SESSIONS")]
    rows += [(str(a.id), safe_json_string(a.username)[1:-1], _when(a.last_login_at),
              f"yes ({human_span(a.locked_for)})" if a.locked_for > 0 else "no",
              "no" if a.disabled_at is None else _when(a.disabled_at), str(a.live_families))
             for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _as_json(account: UserAccount) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "created_at": account.created_at,
            "last_login_at": account.last_login_at, "locked": account.locked_for > 0,
            "locked_for": account.locked_for, "disabled": account.disabled_at is not None,
            "disabled_at": account.disabled_at, "live_sessions": account.live_families}


def _when(at: float | None) -> str:
    return "never" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ended(change: AccountChange, what: str) -> None:
    count, cookies = change.sessions_ended, change.cookie_sessions_ended
    extra = f" and {cookies} cookie session{'' if cookies == 1 else 's'}" if cookies else ""
    print(f"{what} {safe_json_string(change.user.username)}: {count} live session{'' if count == 1 else 's'}"
          f"{extra} ended")


def _disable(args: argparse.Namespace) -> int:
    _ended(_run(args, lambda service: service.disable_user(args.name)), "disabled")
    return 0


def _enable(args: argparse.Namespace) -> int:
    user = _run(args, lambda service: service.enable_user(args.name))
    print(f"enabled {safe_json_string(user.username)}: they can log in again")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _ended(_run(args, lambda service: service.log_out_everywhere(args.name)), "logged out")
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"delete {args.name!r}: confirm with --yes (standard input is not a terminal)")
        answer = input(f"Delete the user {safe_json_string(args.name)} and end their sessions? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not deleted", file=sys.stderr)
            return 1
    _ended(_run(args, lambda service: service.delete_user(args.name)), "deleted")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    if args.name is None and args.ip is None:
        raise UsageError("unlock: name a user (NAME) or an address (--ip ADDR)")
    if args.ip is not None:
        import ipaddress

        try:
            ipaddress.ip_network(args.ip, strict=False)
        except ValueError:
            raise UsageError(f"--ip: not an IP address or network: {args.ip!r}") from None
    keys = _run(args, lambda service: service.unlock(username=args.name, client=args.ip))
    what = " and ".join(part for part in (None if args.name is None else safe_json_string(args.name),
                                          None if args.ip is None else f"address {args.ip}") if part)
    print(f"unlocked {what}: {len(keys)} throttle count{'' if len(keys) == 1 else 's'} cleared")
    return 0
