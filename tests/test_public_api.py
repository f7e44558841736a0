"""The public surface of ``jwtkit`` is a contract: these names are what users import."""

import jwtkit

EXPECTED = [
    "SUPPORTED_ALGORITHMS",
    "AlgorithmNotAllowedError",
    "AsyncJWKSClient",
    "AsyncVerifier",
    "ExpiredTokenError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "JWKSClient",
    "JWKSUnavailableError",
    "JWTError",
    "Key",
    "KeyNotFoundError",
    "KeySet",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "UnsupportedHeaderError",
    "Verifier",
    "WeakKeyError",
    "__version__",
    "decode",
    "decode_unverified",
    "encode",
    "errors",
    "jws",
]


def test_all_lists_exactly_the_public_names():
    assert jwtkit.__all__ == EXPECTED


def test_every_public_name_resolves():
    for name in jwtkit.__all__:
        assert getattr(jwtkit, name) is not None


def test_every_error_derives_from_jwterror():
    for name in jwtkit.errors.__all__:
        assert issubclass(getattr(jwtkit.errors, name), jwtkit.JWTError)


def test_every_error_has_its_own_stable_code():
    codes = [getattr(jwtkit.errors, name).code for name in jwtkit.errors.__all__]
    assert len(set(codes)) == len(codes)


def test_jws_layer_exposes_sign_and_verify():
    assert callable(jwtkit.jws.sign)
    assert callable(jwtkit.jws.verify)
