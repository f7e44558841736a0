"""``jwtkit encode``: sign a JSON object of claims into a JWT and print it."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from jwtkit import SUPPORTED_ALGORITHMS, InvalidKeyError, Key, KeySet, encode

from .console import UsageError
from .keyfile import read_key_file

_DURATION = re.compile(r"(\d{1,9})([smhd])")
_BARE_NUMBER = re.compile(r"\d{1,9}")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_DESCRIPTION = """\
Sign CLAIMS_JSON (a JSON object) as a JWT with the private key in --key and print the token.

The key file may be a private JWK (from `jwtkit keygen`), a JWKS (pick the key with --kid
when it holds several), a private PEM, or the raw bytes of an HMAC secret (HS256 unless
--alg says otherwise; a trailing newline is part of the secret and triggers a warning).
The header gets "alg" from the key, "typ": "JWT", and the key's "kid".
"""

_EPILOG = """\
examples:
  jwtkit encode --key signing.jwk '{"sub": "42"}'               adds iat
  jwtkit encode --key signing.jwk --exp 15m '{"sub": "42", "aud": "api"}'
  jwtkit encode --key signing.pem --alg PS256 --exp 2h @claims.json
  echo '{"sub": "42"}' | jwtkit encode --key secret.jwk --no-iat -
"""


def parse_duration(text: str) -> int:
    """Seconds in ``90s``, ``15m``, ``2h``, ``7d``. A bare number is refused: ``15`` is as likely
    to mean minutes as seconds, and a token that expires 60 times too early (or late) is a bug."""
    if _BARE_NUMBER.fullmatch(text.strip()):
        number = text.strip()
        raise argparse.ArgumentTypeError(f"{text!r} has no unit: {number}s? {number}m? (durations: 90s, 15m, 2h, 7d)")
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 15m, 2h or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "encode",
        help="sign claims into a JWT",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "claims", metavar="CLAIMS_JSON", help="a JSON object; '-' reads it from stdin, '@FILE' from FILE"
    )
    parser.add_argument("--key", required=True, metavar="FILE", help="the signing key: JWK, JWKS, PEM or raw secret")
    parser.add_argument(
        "--alg",
        choices=SUPPORTED_ALGORITHMS,
        metavar="ALG",
        help="bind a key that has no 'alg' (RSA PEM: RS256 or PS256...; raw secret: HS256, HS384, HS512)",
    )
    parser.add_argument("--kid", help="the header kid (default: the key's); picks the key when --key is a JWKS")
    parser.add_argument(
        "--exp",
        type=parse_duration,
        metavar="DURATION",
        help="set exp to now + DURATION: 90s, 15m, 2h, 7d (the claims must not already have exp)",
    )
    parser.add_argument(
        "--iat",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add iat (now) unless the claims have one (default: yes)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    claims = _load_claims(args.claims)
    key = _signing_key(read_key_file(args.key, alg=args.alg), args.key, args.alg, args.kid)
    now = int(time.time())
    if args.exp is not None:
        if "exp" in claims:
            raise UsageError("the claims already have 'exp'; remove it or drop --exp")
        claims["exp"] = now + args.exp
    if args.iat and "iat" not in claims:
        claims["iat"] = now
    headers = {"kid": args.kid} if args.kid is not None else None
    try:
        token = encode(claims, key, headers=headers)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(token)
    return 0


def _load_claims(source: str) -> dict[str, Any]:
    if source == "-":
        text, where = sys.stdin.read(), "the claims on stdin"
    elif source.startswith("@"):
        try:
            with open(source[1:], encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read claims file {source[1:]}: {exc}") from None
        where = source[1:]
    else:
        text, where = source, "CLAIMS_JSON"
    try:
        claims = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise UsageError(f"{where} is nested too deeply") from None
    if not isinstance(claims, dict):
        found = _JSON_TYPES.get(type(claims), "null")
        raise UsageError(f'{where} must be a JSON object such as \'{{"sub": "42"}}\', not {found}')
    return claims


def _signing_key(source: Key | KeySet, path: str, alg: str | None, kid: str | None) -> Key:
    if isinstance(source, KeySet):
        if kid is not None:
            found = source.get(kid)
            if found is None:
                raise UsageError(f"{path} has no key with kid {kid!r}")
            key = found
        elif len(source) == 1:
            key = next(iter(source))
        else:
            raise UsageError(f"{path} holds {len(source)} keys; choose one with --kid")
        if alg is not None and key.alg is None:
            try:
                key = Key.from_jwk(key.to_jwk(private=key.is_private), alg=alg)
            except InvalidKeyError as exc:
                raise UsageError(f"{path}: {exc.reason}") from None
        elif alg is not None and key.alg != alg:
            raise UsageError(f"the key {key.kid!r} in {path} is bound to {key.alg}, not {alg}")
    else:
        key = source
    if not key.is_private:
        raise UsageError(f"{path} holds a public key; signing needs the private key")
    try:
        _ = key.signing_algorithm  # raises for an RSA or oct key with no alg
    except ValueError:
        raise UsageError(f"the {key.kty} key in {path} has no 'alg'; choose one with --alg") from None
    return key
