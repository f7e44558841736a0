"""jwtkit interoperates with PyJWT, joserfc and jwcrypto, in both directions.

For every algorithm a peer supports: tokens jwtkit signs verify in the peer and vice versa;
JWKs jwtkit exports import into the peer and vice versa (public and private halves); and the
RFC 7638 thumbprints agree where the peer computes one. Each peer sits behind a small
adapter, so every test reads the same for all three.
"""

from __future__ import annotations

import functools
import json
import time
import warnings
from typing import Any, ClassVar

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwk as joserfc_jwk
from joserfc import jwt as joserfc_jwt
from joserfc.errors import SecurityWarning
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit import Key

JWK = dict[str, Any]
ALGORITHMS = ("HS256", "RS256", "PS256", "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519")
KEY_MEMBERS = {
    "oct": ("kty", "k"),
    "RSA": ("kty", "n", "e"),
    "EC": ("kty", "crv", "x", "y"),
    "OKP": ("kty", "crv", "x"),
}
# Real time: every peer checks exp against its own clock.
CLAIMS = {
    "iss": "https://issuer.example",
    "sub": "user-ü-42",
    "exp": int(time.time()) + 3600,
    "scope": ["read", "write"],
    "ctx": {"nested": [1, 2.5, None, True, "ελληνικά", {"emoji": "🔑"}]},
}
_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1, "ES256K": ec.SECP256K1}
_JWK_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}


def key_members(jwk: JWK) -> JWK:
    """The members that define the key (RFC 7638 §3.2), without alg, kid or extras."""
    return {name: jwk[name] for name in KEY_MEMBERS[jwk["kty"]]}


def public_jwk(key: Key) -> JWK:
    """What a verifier gets: the public JWK, or the secret itself for HMAC."""
    return key.to_jwk(private=key.kty == "oct")


class Peer:
    """One peer library: sign, verify, make and re-export JWKs, thumbprint."""

    name: ClassVar[str]
    algorithms: ClassVar[frozenset[str]]
    has_thumbprint: ClassVar[bool] = True

    def sign(self, claims: dict[str, Any], private_jwk: JWK, alg: str) -> str:
        raise NotImplementedError

    def verify(self, token: str, public_jwk: JWK, alg: str) -> dict[str, Any]:
        raise NotImplementedError

    def generate(self, alg: str) -> tuple[JWK, JWK]:
        """A key the peer made, exported by the peer: (private JWK, public JWK)."""
        raise NotImplementedError

    def reexport(self, public_jwk: JWK) -> JWK:
        """The peer's own export of a public JWK it imported."""
        raise NotImplementedError

    def thumbprint(self, public_jwk: JWK) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


def _cryptography_key(alg: str) -> Any:
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[alg]())
    return ed25519.Ed25519PrivateKey.generate()


class PyJWT(Peer):
    name = "pyjwt"
    # PyJWT knows EdDSA but not the fully specified Ed25519 name (RFC 9864).
    algorithms = frozenset(ALGORITHMS) - {"Ed25519"}
    has_thumbprint = False

    def sign(self, claims: dict[str, Any], private_jwk: JWK, alg: str) -> str:
        return pyjwt.encode(claims, pyjwt.PyJWK(private_jwk).key, algorithm=alg)

    def verify(self, token: str, public_jwk: JWK, alg: str) -> dict[str, Any]:
        return pyjwt.decode(token, pyjwt.PyJWK(public_jwk).key, algorithms=[alg])

    def generate(self, alg: str) -> tuple[JWK, JWK]:
        exporter = pyjwt.algorithms.get_default_algorithms()[alg]
        if alg.startswith("HS"):
            jwk = exporter.to_jwk(bytes(range(100, 132)), as_dict=True)
            return jwk, jwk
        private = _cryptography_key(alg)
        return exporter.to_jwk(private, as_dict=True), exporter.to_jwk(private.public_key(), as_dict=True)

    def reexport(self, public_jwk: JWK) -> JWK:
        imported = pyjwt.PyJWK(public_jwk)
        exporter = pyjwt.algorithms.get_default_algorithms()[public_jwk["alg"]]
        return exporter.to_jwk(imported.key, as_dict=True)


class Joserfc(Peer):
    name = "joserfc"
    algorithms = frozenset(ALGORITHMS)

    def sign(self, claims: dict[str, Any], private_jwk: JWK, alg: str) -> str:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=SecurityWarning, message="EdDSA is deprecated")
            return joserfc_jwt.encode({"alg": alg}, claims, joserfc_jwk.import_key(private_jwk), algorithms=[alg])

    def verify(self, token: str, public_jwk: JWK, alg: str) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=SecurityWarning, message="EdDSA is deprecated")
            return dict(joserfc_jwt.decode(token, joserfc_jwk.import_key(public_jwk), algorithms=[alg]).claims)

    def generate(self, alg: str) -> tuple[JWK, JWK]:
        key: Any
        if alg.startswith("HS"):
            key = joserfc_jwk.OctKey.generate_key(256)
        elif alg.startswith(("RS", "PS")):
            key = joserfc_jwk.RSAKey.generate_key(2048)
        elif alg in _JWK_CURVES:
            key = joserfc_jwk.ECKey.generate_key(_JWK_CURVES[alg])
        else:
            key = joserfc_jwk.OKPKey.generate_key("Ed25519")
        return dict(key.as_dict(private=True)), dict(key.as_dict(private=False))

    def reexport(self, public_jwk: JWK) -> JWK:
        return dict(joserfc_jwk.import_key(public_jwk).as_dict(private=False))

    def thumbprint(self, public_jwk: JWK) -> str:
        return str(joserfc_jwk.import_key(public_jwk).thumbprint())


class Jwcrypto(Peer):
    name = "jwcrypto"
    algorithms = frozenset(ALGORITHMS)

    def sign(self, claims: dict[str, Any], private_jwk: JWK, alg: str) -> str:
        token = jwcrypto_jwt.JWT(header={"alg": alg}, claims=claims)
        token.make_signed_token(jwcrypto_jwk.JWK(**private_jwk))
        return str(token.serialize())

    def verify(self, token: str, public_jwk: JWK, alg: str) -> dict[str, Any]:
        verified = jwcrypto_jwt.JWT(jwt=token, key=jwcrypto_jwk.JWK(**public_jwk), algs=[alg])
        return dict(json.loads(verified.claims))

    def generate(self, alg: str) -> tuple[JWK, JWK]:
        if alg.startswith("HS"):
            key = jwcrypto_jwk.JWK.generate(kty="oct", size=256)
            jwk = key.export(as_dict=True)
            return jwk, jwk
        if alg.startswith(("RS", "PS")):
            key = jwcrypto_jwk.JWK.generate(kty="RSA", size=2048)
        elif alg in _JWK_CURVES:
            key = jwcrypto_jwk.JWK.generate(kty="EC", crv=_JWK_CURVES[alg])
        else:
            key = jwcrypto_jwk.JWK.generate(kty="OKP", crv="Ed25519")
        return key.export(private_key=True, as_dict=True), key.export_public(as_dict=True)

    def reexport(self, public_jwk: JWK) -> JWK:
        key = jwcrypto_jwk.JWK(**public_jwk)
        return dict(key.export(as_dict=True) if public_jwk["kty"] == "oct" else key.export_public(as_dict=True))

    def thumbprint(self, public_jwk: JWK) -> str:
        return str(jwcrypto_jwk.JWK(**public_jwk).thumbprint())


PEERS = (PyJWT(), Joserfc(), Jwcrypto())
CASES = [
    pytest.param(peer, alg, id=f"{peer.name}-{alg}") for peer in PEERS for alg in ALGORITHMS if alg in peer.algorithms
]
THUMBPRINT_CASES = [case for case in CASES if case.values[0].has_thumbprint]


@functools.cache
def jwtkit_key(alg: str) -> Key:
    """One jwtkit key per algorithm for the whole module (RSA generation is slow)."""
    return Key.generate(alg, kid=f"jwtkit-{alg}")


@functools.cache
def peer_key(peer: Peer, alg: str) -> tuple[JWK, JWK]:
    """One peer-made key per peer and algorithm: (private JWK, public JWK) as the peer exports them."""
    return peer.generate(alg)


# -------------------------------------------------------------------------- tokens
@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_the_peer_verifies_a_token_jwtkit_signed_with_the_jwk_jwtkit_exported(peer, alg):
    key = jwtkit_key(alg)
    token = jwtkit.encode(CLAIMS, key)
    assert peer.verify(token, public_jwk(key), alg) == CLAIMS


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_jwtkit_verifies_a_token_the_peer_signed_with_the_jwk_the_peer_exported(peer, alg):
    private, public = peer_key(peer, alg)
    token = peer.sign(CLAIMS, private, alg)
    assert jwtkit.decode(token, Key.from_jwk(public), algorithms=[alg]) == CLAIMS


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_the_peer_signs_with_the_private_jwk_jwtkit_exported(peer, alg, verifying_key):
    key = jwtkit_key(alg)
    token = peer.sign(CLAIMS, key.to_jwk(private=True), alg)
    assert jwtkit.decode(token, verifying_key(key), algorithms=[alg]) == CLAIMS


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_jwtkit_signs_with_the_private_jwk_the_peer_exported(peer, alg):
    private, public = peer_key(peer, alg)
    token = jwtkit.encode(CLAIMS, Key.from_jwk(private, alg=alg))
    assert peer.verify(token, public, alg) == CLAIMS


# -------------------------------------------------------------------------- JWKs
@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_the_peer_reexports_the_public_jwk_jwtkit_gave_it_unchanged(peer, alg):
    jwk = public_jwk(jwtkit_key(alg))
    assert key_members(peer.reexport(jwk)) == key_members(jwk)


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_jwtkit_reexports_the_public_jwk_the_peer_gave_it_unchanged(peer, alg):
    _, public = peer_key(peer, alg)
    key = Key.from_jwk(public)
    assert key_members(public_jwk(key)) == key_members(public)


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_jwtkit_reexports_the_private_jwk_the_peer_gave_it_unchanged(peer, alg):
    private, _ = peer_key(peer, alg)
    exported = Key.from_jwk(private).to_jwk(private=True)
    members = set(private) - {"alg", "kid", "use", "key_ops"}
    assert {name: exported.get(name) for name in members} == {name: private[name] for name in members}


@pytest.mark.parametrize(("peer", "alg"), CASES)
def test_the_public_half_of_a_peer_private_jwk_is_the_peer_public_jwk(peer, alg):
    private, public = peer_key(peer, alg)
    key = Key.from_jwk(private)
    assert key.thumbprint() == Key.from_jwk(public).thumbprint()


# -------------------------------------------------------------------------- thumbprints
@pytest.mark.parametrize(("peer", "alg"), THUMBPRINT_CASES)
def test_the_thumbprint_of_a_jwtkit_key_matches_the_peer(peer, alg):
    key = jwtkit_key(alg)
    assert key.thumbprint() == peer.thumbprint(public_jwk(key))


@pytest.mark.parametrize(("peer", "alg"), THUMBPRINT_CASES)
def test_the_thumbprint_of_a_peer_key_matches_the_peer(peer, alg):
    _, public = peer_key(peer, alg)
    assert Key.from_jwk(public).thumbprint() == peer.thumbprint(public)
