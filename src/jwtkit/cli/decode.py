"""``jwtkit decode``: show a token's header and claims, and verify it when given a key."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from jwtkit import SUPPORTED_ALGORITHMS, Key, KeySet, Verifier, decode_unverified

from .console import Palette, UsageError, describe_time, palette_for, render_json, safe_json_string
from .keyfile import read_key_file

_TIME_CLAIMS = ("exp", "nbf", "iat")
# What a pasted Authorization header puts before the token: "Bearer eyJ…", "Authorization: Bearer eyJ…".
_SCHEME = re.compile(r"(?:authorization\s*:\s*)?bearer\s+", re.IGNORECASE)

_DESCRIPTION = """\
Show the header and claims of TOKEN, with exp/nbf/iat in human terms.

With --key (or --jwks), the token is verified: signature, exp/nbf/iat, and
--audience/--issuer/--require. Without either nothing is verified: the output says
"signature: not verified" and the exit status only tells whether the token parses.
A pasted "Bearer eyJ..." (or a whole Authorization header) is accepted: the scheme is removed,
and a note on stderr says so.

--jwks URL fetches the key set of a live server (e.g. https://auth.example/.well-known/jwks.json):
https only (plain http to a loopback address only), no redirects, 10 s and 512 KiB at most.

The key file may be a public (or private) JWK, a JWKS (the token's kid picks the key), a
PEM public key, private key or certificate, or the raw bytes of an HMAC secret. The allowed
algorithms are --alg, or else those the key is bound to (a JWK's "alg"; for an EC or Ed25519
key its curve's; RS*/PS* for an RSA PEM; HS256 for a raw secret).

A token that fails prints ONE line, "error: <reason>", on stderr and nothing on stdout.
"""

_EPILOG = """\
examples:
  jwtkit decode eyJhbGciOiJFUzI1NiIs...                  inspect only
  jwtkit decode - --key verify.jwk < token.txt            verify (TOKEN from stdin)
  jwtkit decode "$TOKEN" --key jwks.json --audience api --issuer https://auth.example
  jwtkit decode "$TOKEN" --key public.pem --alg RS256 --leeway 30 --require exp
  jwtkit decode "$TOKEN" --jwks http://127.0.0.1:8000/.well-known/jwks.json

exit status: 0 valid (or, without --key, parseable), 1 invalid token, 2 usage error.
Colour is used only on a terminal and never when NO_COLOR is set.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="show a token and verify it with --key",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("token", metavar="TOKEN", help="the JWT; '-' reads it from stdin")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--key", metavar="FILE", help="verify with this key: JWK, JWKS, PEM or raw secret")
    source.add_argument("--jwks", metavar="URL", help="verify with the key set served at URL (https, or loopback)")
    parser.add_argument(
        "--alg", choices=SUPPORTED_ALGORITHMS, metavar="ALG", help="the only algorithm to accept (default: the key's)"
    )
    parser.add_argument(
        "--audience", action="append", metavar="AUD", help="an audience this service answers to (repeatable)"
    )
    parser.add_argument("--issuer", action="append", metavar="ISS", help="the expected issuer (repeatable)")
    parser.add_argument("--require", action="append", metavar="CLAIM", help="a claim that must be present (repeatable)")
    parser.add_argument("--leeway", type=float, metavar="SECONDS", help="clock skew allowed for exp/nbf/iat")
    parser.add_argument("--json", action="store_true", help="print {header, claims, verified} as JSON instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    token = _without_scheme((sys.stdin.read() if args.token == "-" else args.token).strip())
    if args.key is None and args.jwks is None:
        given = [f"--{name}" for name in ("alg", "audience", "issuer", "require", "leeway") if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)} only make sense with --key or --jwks")
        header, claims = decode_unverified(token)
        verdict = None
    else:
        verifier, alg_hint = _verifier(args)
        header, _ = decode_unverified(token)
        claims = verifier.verify(token)
        verdict = _verdict(header, alg_hint)

    if args.json:
        print(json.dumps({"header": header, "claims": claims, "verified": verdict is not None}, indent=2))
    else:
        sys.stdout.write(render_report(header, claims, verdict, now=time.time(), palette=palette_for(sys.stdout)))
    return 0


def _without_scheme(token: str) -> str:
    """``token`` without a pasted ``Bearer `` (or ``Authorization: Bearer ``) prefix."""
    match = _SCHEME.match(token)
    if match is None:
        return token
    print(f"note: removed {match.group().strip()!r} before the token", file=sys.stderr)
    return token[match.end():].strip()


def _verifier(args: argparse.Namespace) -> tuple[Verifier, str]:
    if args.jwks is not None:
        from .remote_jwks import fetch_jwks  # urllib: only when asked for

        source: Key | KeySet = fetch_jwks(args.jwks)
    else:
        source = read_key_file(args.key, alg=args.alg)
    algorithms = [args.alg] if args.alg else sorted(_algorithms_of(source))
    try:
        verifier = Verifier(
            source,
            algorithms=algorithms,
            audience=args.audience,
            issuer=args.issuer,
            leeway=args.leeway or 0,
            required=args.require or (),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return verifier, ", ".join(algorithms)


def _algorithms_of(source: Key | KeySet) -> set[str]:
    if isinstance(source, Key):
        return set(source.algorithms)
    return {alg for key in source for alg in key.algorithms}


def _verdict(header: dict[str, Any], fallback: str) -> str:
    alg = header.get("alg")
    kid = header.get("kid")
    described = safe_json_string(alg)[1:-1] if isinstance(alg, str) else fallback
    if isinstance(kid, str):
        described += f", kid {safe_json_string(kid)[1:-1]}"
    return f"valid ({described})"


def render_report(
    header: dict[str, Any], claims: dict[str, Any], verdict: str | None, *, now: float, palette: Palette
) -> str:
    """The human report: header, claims, times in words, and the signature verdict."""
    lines = [palette.heading("header"), render_json(header, palette), palette.heading("claims")]
    lines.append(render_json(claims, palette))
    times = [(name, *describe_time(name, claims[name], now)) for name in _TIME_CLAIMS if name in claims]
    if times:
        lines.append(palette.heading("times"))
        lines.extend(f"  {name}  {when}  {palette.dim('(' + meaning + ')')}" for name, when, meaning in times)
    if verdict is None:
        lines.append("signature: " + palette.warn("not verified (no --key given)"))
    else:
        lines.append("signature: " + palette.good(verdict))
    return "\n".join(lines) + "\n"
