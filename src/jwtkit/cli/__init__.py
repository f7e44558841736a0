"""The ``jwtkit`` command: make keys, sign tokens, inspect and verify them, run the server.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``func(args) -> int``. ``keygen``, ``encode`` and ``decode`` need only the
token core and start fast; ``serve``, ``keys`` and ``users`` import the server stack when they run.

Exit status: 0 success, 1 the token is invalid, 2 a usage error (arguments, files, JSON, or an
optional dependency that is not installed: the message names the ``jwtkit[…]`` extra).
"""

from __future__ import annotations

import argparse
import os
import sys

from jwtkit import JWTError, __version__

from .console import EXIT_INVALID_TOKEN, EXIT_USAGE, UsageError
from .extras import missing_extra_message

__all__ = ["EXIT_INVALID_TOKEN", "EXIT_USAGE", "build_parser", "main"]

_EPILOG = """\
examples:
  jwtkit keygen --alg ES256 --out signing.jwk --public-out verify.jwk
  jwtkit encode --key signing.jwk --exp 15m '{"sub": "42", "aud": "api"}' > token.txt
  jwtkit decode - --key verify.jwk --audience api < token.txt
  jwtkit decode eyJhbGciOi...          (inspect only: nothing is verified)

exit status: 0 success, 1 invalid token, 2 usage error (arguments, key file, claims JSON).
Run `jwtkit COMMAND --help` for the options of each command.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jwtkit`` command, with every subcommand registered."""
    from . import decode, encode, keygen, keys, serve, users

    parser = argparse.ArgumentParser(
        prog="jwtkit",
        description="JSON Web Tokens from the command line: make keys, sign, inspect and verify tokens.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jwtkit {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (keygen, encode, decode, serve, keys, users):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``jwtkit`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or argparse's own usage error
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "func", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JWTError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return EXIT_INVALID_TOKEN
    except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
        advice = missing_extra_message(exc)
        if advice is None:
            raise
        print(f"error: {advice}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): no traceback, and none at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a process killed by SIGPIPE
