"""``Key``: signing and verification key material bound to its algorithm (RFC 7517, RFC 7518 §6).

A key knows its type, curve and (when given) its one algorithm. A key without an ``alg``
is bound to its family: an EC P-256 key can only be ES256, an RSA key only RS*/PS*, an
``oct`` secret only HS*. The token never chooses what kind of key it is verified with,
which is the structural answer to algorithm confusion (CVE-2017-11424, CVE-2022-29217,
CVE-2024-33663).

Everything expensive (parsing, validation, preparing HMAC contexts and padding objects)
happens here, once; the per-token path only calls prepared closures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from jwtkit.errors import InvalidKeyError, WeakKeyError

from .algorithms import ALGORITHMS, EC_CURVES, Algorithm, Verify, default_algorithm, get_algorithm
from .jwk import parse_jwk, private_members, public_members, thumbprint
from .material import PrivateKey, PublicKey, check_rsa_modulus, load_pem
from .signer import PreparedSigner
from .sniff import looks_like_key_material

_HMAC_ALGS = tuple(name for name, a in ALGORITHMS.items() if a.family == "hmac")


class Key:
    """A signing or verification key, bound to its algorithm.

    Make one with :meth:`generate`, :meth:`from_secret`, :meth:`from_pem` or
    :meth:`from_jwk`; keys are immutable.

    Example::

        key = Key.generate("ES256", kid="2026-11")
        token = jwtkit.encode({"sub": "42"}, key)
        jwtkit.decode(token, key.public_key(), algorithms=["ES256"])
    """

    __slots__ = (
        "_alg",
        "_crv",
        "_default_signer",
        "_kid",
        "_kty",
        "_private",
        "_public",
        "_signers",
        "_verifiers",
    )

    _kty: str
    _crv: str | None
    _alg: str | None
    _kid: str | None
    _private: PrivateKey | bytes | None
    _public: PublicKey | bytes
    _signers: dict[str, PreparedSigner]
    _verifiers: dict[str, Verify]
    _default_signer: PreparedSigner | None

    def __init__(self) -> None:
        raise TypeError("use Key.generate, Key.from_secret, Key.from_pem or Key.from_jwk")

    @classmethod
    def _make(
        cls,
        kty: str,
        crv: str | None,
        private: PrivateKey | bytes | None,
        public: PublicKey | bytes,
        alg: str | None,
        kid: str | None,
    ) -> Key:
        self = object.__new__(cls)
        for name, value in (
            ("_kty", kty),
            ("_crv", crv),
            ("_private", private),
            ("_public", public),
            ("_alg", alg),
            ("_kid", kid),
            ("_signers", {}),
            ("_verifiers", {}),
            ("_default_signer", None),
        ):
            object.__setattr__(self, name, value)
        if kid is not None and not isinstance(kid, str):
            raise TypeError(f"kid must be a string, not {type(kid).__name__}")
        if alg is not None:
            self._check_fits(get_algorithm(alg))
        elif kty == "oct":
            _check_secret_length(public, ALGORITHMS["HS256"])  # type: ignore[arg-type]
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Key is immutable")

    # ------------------------------------------------------------------ properties
    @property
    def alg(self) -> str | None:
        """The algorithm this key is bound to, or None when only its family is fixed."""
        return self._alg

    @property
    def kid(self) -> str | None:
        """The key id (JWK ``kid``), or None."""
        return self._kid

    @property
    def kty(self) -> str:
        """The JWK key type: ``"oct"``, ``"RSA"``, ``"EC"`` or ``"OKP"``."""
        return self._kty

    @property
    def crv(self) -> str | None:
        """The JWK curve for EC and OKP keys, else None."""
        return self._crv

    @property
    def is_private(self) -> bool:
        """True when this key can sign (a secret or a private key)."""
        return self._private is not None

    @property
    def algorithms(self) -> frozenset[str]:
        """Every algorithm name this key may be used with."""
        if self._alg is not None:
            return frozenset((self._alg,))
        return frozenset(name for name, a in ALGORITHMS.items() if self._fits(a))

    @property
    def signing_algorithm(self) -> str:
        """The ``alg`` this key signs with: its bound one, or the one its curve implies.

        Raises:
            ValueError: an RSA or ``oct`` key without a bound algorithm (several would fit).
        """
        if self._alg is not None:
            return self._alg
        implied = default_algorithm(self._kty, self._crv)
        if implied is None:
            raise ValueError(f"this {self._kty} key has no 'alg'; bind one, e.g. Key.from_jwk(..., alg=...)")
        return implied

    # ------------------------------------------------------------------ binding rules
    def _fits(self, alg: Algorithm) -> bool:
        if alg.kty != self._kty or (alg.curves and self._crv not in alg.curves):
            return False
        if self._alg is not None and alg.name != self._alg:
            return False
        if alg.family == "hmac":
            return len(self._public) >= alg.min_key_size  # type: ignore[arg-type]
        return True

    def _check_fits(self, alg: Algorithm) -> None:
        if alg.kty != self._kty or (alg.curves and self._crv not in alg.curves):
            what = f"{self._kty} {self._crv}" if self._crv else self._kty
            raise InvalidKeyError(f"algorithm {alg.name} cannot use a {what} key", claim="alg")
        if alg.family == "hmac":
            _check_secret_length(self._public, alg)  # type: ignore[arg-type]

    def fits(self, alg: str) -> bool:
        """Whether this key may verify or sign with ``alg``."""
        a = ALGORITHMS.get(alg) if isinstance(alg, str) else None
        return a is not None and self._fits(a)

    def _signer(self, alg: str) -> PreparedSigner:
        signer = self._signers.get(alg)
        if signer is None:
            if self._private is None:
                raise ValueError("a public key cannot sign; use the private key")
            descriptor = get_algorithm(alg)
            self._check_fits(descriptor)
            signer = PreparedSigner(alg, self._kid, descriptor.signer(self._private))
            self._signers[alg] = signer
        return signer

    def _signer_for_default(self) -> PreparedSigner:
        """The signer for :attr:`signing_algorithm`: the encode fast path."""
        signer = self._default_signer
        if signer is None:
            signer = self._signer(self.signing_algorithm)
            object.__setattr__(self, "_default_signer", signer)
        return signer

    def _verifier(self, alg: str) -> Verify:
        verifier = self._verifiers.get(alg)
        if verifier is None:
            descriptor = get_algorithm(alg)
            self._check_fits(descriptor)
            verifier = self._verifiers[alg] = descriptor.verifier(self._public)
        return verifier

    # ------------------------------------------------------------------ constructors
    @classmethod
    def generate(cls, alg: str, kid: str | None = None) -> Key:
        """A new random key for ``alg`` (RSA: 2048 bits; HMAC: as long as the hash output).

        Example: ``Key.generate("ES256", kid="k1")``.
        """
        descriptor = get_algorithm(alg)
        family = descriptor.family
        if family == "hmac":
            return cls.from_secret(os.urandom(descriptor.min_key_size), alg=alg, kid=kid)
        private: PrivateKey
        if family in ("rsa-pkcs1", "rsa-pss"):
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif family == "ecdsa":
            private = ec.generate_private_key(EC_CURVES[descriptor.curves[0]]())
        elif descriptor.curves == ("Ed448",):
            private = ed448.Ed448PrivateKey.generate()
        else:
            private = ed25519.Ed25519PrivateKey.generate()
        return cls.from_cryptography(private, alg=alg, kid=kid)

    @classmethod
    def from_secret(cls, secret: bytes | str, alg: str = "HS256", kid: str | None = None) -> Key:
        """An HMAC key from a shared secret.

        Raises:
            WeakKeyError: the secret is shorter than the hash output (RFC 7518 §3.2).
            InvalidKeyError: the "secret" is public key material (PEM, DER, X.509, OpenSSH,
                JWK JSON); using a public key as an HMAC secret is the algorithm-confusion attack.
            ValueError: ``alg`` is not an HMAC algorithm.
        """
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if not isinstance(secret, bytes | bytearray | memoryview):
            raise TypeError(f"secret must be bytes, not {type(secret).__name__}")
        secret = bytes(secret)
        if alg not in _HMAC_ALGS:
            raise ValueError(f"from_secret makes HMAC keys ({', '.join(_HMAC_ALGS)}), not {alg!r}")
        if looks_like_key_material(secret):
            raise InvalidKeyError(
                "this secret is asymmetric key material (PEM, DER, certificate, OpenSSH or JWK); "
                "an HMAC secret must be random bytes: load public keys with Key.from_pem or Key.from_jwk"
            )
        return cls._make("oct", None, secret, secret, alg, kid)

    @classmethod
    def from_pem(
        cls,
        pem: bytes | str,
        alg: str | None = None,
        kid: str | None = None,
        password: bytes | None = None,
    ) -> Key:
        """A key from PEM text: a private key (PKCS#8, PKCS#1, SEC1), a public key, or a certificate.

        Raises:
            InvalidKeyError: not a PEM key of a supported type, or ``alg`` does not fit it.
            WeakKeyError: an RSA key under 2048 bits.
        """
        data = pem.encode("utf-8") if isinstance(pem, str) else bytes(pem)
        return cls.from_cryptography(load_pem(data, password), alg=alg, kid=kid)

    @classmethod
    def from_cryptography(cls, key: Any, alg: str | None = None, kid: str | None = None) -> Key:
        """A key from a ``cryptography`` private or public key object.

        Raises:
            InvalidKeyError: an unsupported key type or curve, or ``alg`` does not fit it.
            WeakKeyError: an RSA key under 2048 bits.
        """
        if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            check_rsa_modulus(
                key.public_numbers().n if isinstance(key, rsa.RSAPublicKey) else key.public_key().public_numbers().n
            )
            private = key if isinstance(key, rsa.RSAPrivateKey) else None
            public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
            return cls._make("RSA", None, private, public, alg, kid)
        if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            crv = next((name for name, curve in EC_CURVES.items() if isinstance(key.curve, curve)), None)
            if crv is None:
                raise InvalidKeyError(f"unsupported elliptic curve {key.curve.name}")
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return cls._make("EC", crv, key, key.public_key(), alg, kid)
            return cls._make("EC", crv, None, key, alg, kid)
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            crv = "Ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "Ed448"
            return cls._make("OKP", crv, key, key.public_key(), alg, kid)
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
            return cls._make("OKP", crv, None, key, alg, kid)
        raise InvalidKeyError(f"unsupported key type {type(key).__name__} for JWS signatures")

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str | bytes, *, alg: str | None = None) -> Key:
        """A key from a JWK (RFC 7517), as a dict or JSON text.

        ``alg`` binds a JWK that has none; it must agree with the JWK's own ``alg`` if both exist.

        Raises:
            InvalidKeyError: malformed or inconsistent members, a key meant for encryption
                (``use: enc``), an unsupported ``kty``/``crv``, or a point not on its curve.
            WeakKeyError: an ``oct`` key shorter than its hash, RSA under 2048 bits.
        """
        return cls._make(*parse_jwk(jwk, alg=alg))

    # ------------------------------------------------------------------ export
    def public_key(self) -> Key:
        """The public half of an asymmetric key (itself when already public).

        Raises:
            ValueError: an ``oct`` key: a shared secret has no public half.
        """
        if self._kty == "oct":
            raise ValueError("an HMAC secret has no public key; verify with the same Key")
        if self._private is None:
            return self
        return Key._make(self._kty, self._crv, None, self._public, self._alg, self._kid)

    def to_jwk(self, private: bool = False) -> dict[str, Any]:
        """This key as a JWK dict; private members only with ``private=True``.

        Raises:
            ValueError: ``private=True`` on a public key, or ``private=False`` on an ``oct``
                key (its only member is the secret).
        """
        if private and self._private is None:
            raise ValueError("this is a public key; it has no private members")
        if self._kty == "oct" and not private:
            raise ValueError("an HMAC secret has no public form; use to_jwk(private=True)")
        jwk = public_members(self._kty, self._crv, self._public)
        if private:
            assert self._private is not None
            jwk.update(private_members(self._crv, self._private))
        if self._alg is not None:
            jwk["alg"] = self._alg
        if self._kid is not None:
            jwk["kid"] = self._kid
        return jwk

    def to_pem(self, private: bool = False, password: bytes | None = None) -> bytes:
        """This key as PEM: PKCS#8 for private keys, SubjectPublicKeyInfo for public ones.

        Raises:
            ValueError: an ``oct`` key, or ``private=True`` on a public key.
        """
        if self._kty == "oct":
            raise ValueError("an HMAC secret has no PEM form")
        if private:
            if self._private is None:
                raise ValueError("this is a public key; it has no private form")
            encryption: serialization.KeySerializationEncryption = (
                serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
            )
            return self._private.private_bytes(  # type: ignore[union-attr]
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        return self._public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        return thumbprint(self._kty, self._crv, self._public)

    # ------------------------------------------------------------------ identity
    def __repr__(self) -> str:
        head = f"Key(kty={self._kty!r}, alg={self._alg!r}, kid={self._kid!r}"
        if self._kty == "oct":
            return head + ", secret)"  # a hash of the secret would let anyone test guesses offline
        kind = "private" if self._private is not None else "public"
        return f"{head}, {kind}, thumbprint={self.thumbprint()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return (
            self._kty == other._kty
            and self._alg == other._alg
            and self._kid == other._kid
            and self.is_private == other.is_private
            and self.thumbprint() == other.thumbprint()
        )

    def __hash__(self) -> int:
        return hash((self._kty, self._alg, self._kid, self.thumbprint()))


def _check_secret_length(secret: bytes, alg: Algorithm) -> None:
    if len(secret) < alg.min_key_size:
        raise WeakKeyError(
            f"{alg.name} needs a secret of at least {alg.min_key_size} bytes (RFC 7518 §3.2), "
            f"this one has {len(secret)}"
        )
