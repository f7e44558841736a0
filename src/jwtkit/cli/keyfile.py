"""Key files for the CLI: reading a JWK, a JWKS, a PEM or a raw HMAC secret; writing private keys.

The format is recognised from the content, never from the file name:

- a JSON object with ``keys`` is a JWKS (:class:`~jwtkit.KeySet`), any other JSON object a JWK;
- text with a ``-----BEGIN`` armour is PEM (private key, public key or certificate);
- anything else is the raw bytes of an HMAC secret, used exactly as stored.
"""

from __future__ import annotations

import json
import os
import sys

from jwtkit import InvalidKeyError, Key, KeySet

from .console import UsageError

#: Key files larger than this are refused before reading (a JWKS of hundreds of keys fits).
MAX_KEY_FILE_SIZE = 1024 * 1024
_HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


def read_key_file(path: str, *, alg: str | None = None) -> Key | KeySet:
    """The key (or key set) stored in ``path``, bound to ``alg`` when one is given.

    A raw secret without ``alg`` is an HS256 key. A secret ending in a newline is used with
    the newline (it is part of the bytes), and a warning says so on stderr.

    Raises:
        UsageError: the file cannot be read, or holds nothing usable for ``alg``.
    """
    data = _read_bounded(path)
    stripped = data.strip()
    try:
        if stripped.startswith(b"{"):
            try:
                doc = json.loads(stripped)
            except (ValueError, RecursionError) as exc:
                raise UsageError(f"{path} looks like JSON but is not valid JSON: {exc}") from None
            if isinstance(doc, dict) and "keys" in doc:
                return KeySet.from_jwks(doc)
            return Key.from_jwk(doc, alg=alg)
        if b"-----BEGIN" in stripped:
            return Key.from_pem(stripped, alg=alg)
        return _read_secret(data, path, alg)
    except InvalidKeyError as exc:
        raise UsageError(f"{path}: {exc.reason}") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def _read_bounded(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_KEY_FILE_SIZE + 1)
    except OSError as exc:
        raise UsageError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE_SIZE:
        raise UsageError(f"{path} is larger than {MAX_KEY_FILE_SIZE} bytes; that is not a key file")
    return data


def _read_secret(data: bytes, path: str, alg: str | None) -> Key:
    alg = alg or "HS256"
    if alg not in _HMAC_ALGORITHMS:
        raise UsageError(
            f"{path} is not a JWK, JWKS or PEM file, so it would be a raw HMAC secret, which cannot sign {alg}"
        )
    if data.endswith(b"\n"):
        print(
            f"warning: {path} ends with a newline, which is used as part of the secret "
            "(write secrets with `printf %s`, or use a JWK from `jwtkit keygen --alg HS256`)",
            file=sys.stderr,
        )
    return Key.from_secret(data, alg=alg)


def write_key_file(path: str, data: bytes, *, private: bool, force: bool = False) -> None:
    """Write ``data`` to ``path``: mode 0600 for private material, 0644 for public keys.

    The mode is set before any byte is written, also when ``force`` overwrites an existing
    file (whose old mode would otherwise stay).

    Raises:
        UsageError: the file exists (without ``force``) or cannot be written.
    """
    mode = 0o600 if private else 0o644
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise UsageError(f"{path} already exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            fd = -1
            file.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if fd != -1:
            os.close(fd)
