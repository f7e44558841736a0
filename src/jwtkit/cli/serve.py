"""``jwtkit serve``: placeholder until the auth server lands (issue 3)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("serve", help="run the auth server (not available yet)")
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    print("jwtkit serve: not available yet", file=sys.stderr)
    return 2
