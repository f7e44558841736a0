"""``jwtkit keygen``: a new signing key, as a private JWK (default) or PKCS#8 PEM."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

from jwtkit import SUPPORTED_ALGORITHMS, Key

from .console import UsageError
from .keyfile import write_key_file

_DESCRIPTION = """\
Generate a new random key for ALG and print it (or write it with --out) as a private JWK.

RSA keys have 2048 bits; HMAC (HS*) secrets are as long as their hash output and exist only
as JWK (kty "oct"). The JWK carries "alg" and "kid", so `jwtkit encode` and `jwtkit decode`
need no --alg with it; a PEM file carries neither.

Files are created with mode 0600 (private) or 0644 (--public-out), and never overwritten
without --force.
"""

_EPILOG = """\
examples:
  jwtkit keygen --alg ES256                                  print a private JWK
  jwtkit keygen --alg EdDSA --out signing.jwk --public-out verify.jwk
  jwtkit keygen --alg RS256 --pem --out signing.pem          PKCS#8 PEM, for other tools
  jwtkit keygen --alg HS256 --kid 2026-07 --out secret.jwk   shared secret (JWK only)
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="generate a signing key (private JWK or PEM)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--alg",
        required=True,
        choices=SUPPORTED_ALGORITHMS,
        metavar="ALG",
        help=f"the algorithm the key is bound to: {', '.join(SUPPORTED_ALGORITHMS)}",
    )
    parser.add_argument(
        "--kid",
        help="the key id (default: the RFC 7638 thumbprint of the public key; "
        "for HS* keys a random id, since a thumbprint of a secret would publish a hash of it)",
    )
    parser.add_argument("--pem", action="store_true", help="write PEM (PKCS#8) instead of JWK; not for HS*")
    parser.add_argument("--out", metavar="FILE", help="write the private key to FILE (mode 0600) instead of stdout")
    parser.add_argument(
        "--public-out", metavar="FILE", help="also write the public key to FILE (mode 0644), as JWK or --pem"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    alg: str = args.alg
    hmac = alg.startswith("HS")
    if hmac and args.pem:
        raise UsageError(f"{alg} keys are shared secrets with no PEM form; use the JWK output")
    if hmac and args.public_out:
        raise UsageError(f"an {alg} key is a shared secret: it has no public half for --public-out")
    for path in (args.out, args.public_out):
        if path and not args.force and os.path.lexists(path):
            raise UsageError(f"{path} already exists; pass --force to overwrite it")
    if args.out and args.out == args.public_out:
        raise UsageError("--out and --public-out name the same file")
    key = Key.generate(alg)
    kid = args.kid if args.kid is not None else (secrets.token_urlsafe(16) if hmac else key.thumbprint())

    private_bytes = key.to_pem(private=True) if args.pem else _jwk_text(key.to_jwk(private=True), kid)
    if args.out:
        write_key_file(args.out, private_bytes, private=True, force=args.force)
        print(f"wrote the private {alg} key to {args.out} (mode 0600), kid {kid}", file=sys.stderr)
    else:
        sys.stdout.write(private_bytes.decode("ascii"))
    if args.public_out:
        public = key.public_key()
        public_bytes = public.to_pem() if args.pem else _jwk_text(public.to_jwk(), kid)
        write_key_file(args.public_out, public_bytes, private=False, force=args.force)
        print(f"wrote the public key to {args.public_out}", file=sys.stderr)
    return 0


def _jwk_text(jwk: dict[str, Any], kid: str) -> bytes:
    jwk["kid"] = kid
    return (json.dumps(jwk, indent=2) + "\n").encode("ascii")
