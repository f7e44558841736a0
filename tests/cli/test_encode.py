"""``jwtkit encode``: claims JSON + a key file -> a signed token on stdout."""

import argparse
import json

import pytest

import jwtkit
from jwtkit import Key
from jwtkit.cli.encode import parse_duration


def verify(token: str, key: Key, **options) -> dict:
    return jwtkit.decode(token, key, algorithms=sorted(key.algorithms), **options)


def test_encode_prints_a_token_that_verifies_with_the_public_key(cli, signing_jwk, es256_key):
    result = cli("encode", "--key", str(signing_jwk), '{"sub": "42"}')

    assert result.code == 0
    assert result.err == ""
    assert verify(result.out.strip(), es256_key.public_key())["sub"] == "42"


def test_the_header_has_the_keys_alg_typ_and_kid(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), "{}").out.strip()

    assert jwtkit.decode_unverified(token)[0] == {"alg": "ES256", "typ": "JWT", "kid": "es-1"}


def test_iat_is_added_by_default(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), "{}").out.strip()

    assert isinstance(jwtkit.decode_unverified(token)[1]["iat"], int)


def test_no_iat_leaves_the_claims_as_given(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), "--no-iat", '{"sub": "42"}').out.strip()

    assert jwtkit.decode_unverified(token)[1] == {"sub": "42"}


def test_an_iat_in_the_claims_is_kept(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), '{"iat": 1000}').out.strip()

    assert jwtkit.decode_unverified(token)[1]["iat"] == 1000


@pytest.mark.parametrize(("duration", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800)])
def test_exp_is_now_plus_the_duration(cli, signing_jwk, duration, seconds):
    token = cli("encode", "--key", str(signing_jwk), "--exp", duration, "{}").out.strip()

    claims = jwtkit.decode_unverified(token)[1]
    assert claims["exp"] - claims["iat"] == seconds


@pytest.mark.parametrize("text", ["15x", "0s", "-5m", "", "m", "1.5h", "15 minutes"])
def test_a_malformed_duration_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_a_malformed_exp_option_is_a_usage_error(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), "--exp", "soon", "{}")

    assert result.code == 2
    assert "not a duration such as 90s, 15m, 2h or 7d" in result.err


def test_a_bare_number_of_seconds_is_refused_with_a_hint_of_the_units(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), "--exp", "15", "{}")

    assert result.code == 2
    assert result.out == ""
    assert "'15' has no unit: 15s? 15m?" in result.err


def test_exp_option_and_exp_claim_together_are_a_usage_error(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), "--exp", "15m", '{"exp": 1}')

    assert result.code == 2
    assert result.err == "error: the claims already have 'exp'; remove it or drop --exp\n"


def test_malformed_claims_json_is_one_clear_line_and_exit_2(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), '{"sub": 42,}')

    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith("error: CLAIMS_JSON is not valid JSON: ")
    assert "line 1, column 12" in result.err


@pytest.mark.parametrize(("claims", "found"), [("[1]", "an array"), ('"x"', "a string"), ("null", "null")])
def test_claims_that_are_not_an_object_are_refused(cli, signing_jwk, claims, found):
    result = cli("encode", "--key", str(signing_jwk), claims)

    assert result.code == 2
    assert result.err.endswith(f'must be a JSON object such as \'{{"sub": "42"}}\', not {found}\n')


def test_a_time_claim_that_is_not_a_number_is_a_usage_error(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), '{"nbf": "tomorrow"}')

    assert result.code == 2
    assert "'nbf'" in result.err


def test_claims_are_read_from_stdin_with_a_dash(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), "-", stdin='{"sub": "stdin"}\n').out.strip()

    assert jwtkit.decode_unverified(token)[1]["sub"] == "stdin"


def test_claims_are_read_from_a_file_with_an_at_sign(cli, signing_jwk, tmp_path):
    (tmp_path / "claims.json").write_text('{"sub": "file"}')

    token = cli("encode", "--key", str(signing_jwk), f"@{tmp_path / 'claims.json'}").out.strip()

    assert jwtkit.decode_unverified(token)[1]["sub"] == "file"


def test_a_missing_key_file_is_a_usage_error(cli, tmp_path):
    result = cli("encode", "--key", str(tmp_path / "nope.jwk"), "{}")

    assert result.code == 2
    assert result.err.startswith(f"error: cannot read key file {tmp_path / 'nope.jwk'}")


def test_a_public_key_cannot_sign(cli, verify_jwk):
    result = cli("encode", "--key", str(verify_jwk), "{}")

    assert result.code == 2
    assert result.err == f"error: {verify_jwk} holds a public key; signing needs the private key\n"


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return Key.generate("RS256")


def test_an_rsa_pem_needs_alg_to_sign(cli, tmp_path, rsa_key):
    pem = tmp_path / "rsa.pem"
    pem.write_bytes(rsa_key.to_pem(private=True))

    result = cli("encode", "--key", str(pem), "{}")

    assert result.code == 2
    assert "choose one with --alg" in result.err


def test_alg_binds_an_rsa_pem(cli, tmp_path, rsa_key):
    pem = tmp_path / "rsa.pem"
    pem.write_bytes(rsa_key.to_pem(private=True))

    token = cli("encode", "--key", str(pem), "--alg", "PS256", "{}").out.strip()

    assert jwtkit.decode_unverified(token)[0]["alg"] == "PS256"
    assert verify(token, Key.from_pem(rsa_key.to_pem(), alg="PS256"))


def test_an_alg_that_does_not_fit_the_key_is_a_usage_error(cli, signing_jwk):
    result = cli("encode", "--key", str(signing_jwk), "--alg", "RS256", "{}")

    assert result.code == 2
    assert result.err.startswith(f"error: {signing_jwk}: ")


def test_a_raw_secret_file_signs_hs256(cli, tmp_path):
    secret = b"s" * 32
    (tmp_path / "secret").write_bytes(secret)

    result = cli("encode", "--key", str(tmp_path / "secret"), "{}")

    assert result.code == 0
    assert result.err == ""
    assert verify(result.out.strip(), Key.from_secret(secret))


def test_a_raw_secret_ending_in_a_newline_is_used_as_is_with_a_warning(cli, tmp_path):
    secret = b"s" * 32 + b"\n"
    (tmp_path / "secret").write_bytes(secret)

    result = cli("encode", "--key", str(tmp_path / "secret"), "--alg", "HS256", "{}")

    assert result.code == 0
    assert result.err.startswith("warning: ")
    assert "newline" in result.err
    assert verify(result.out.strip(), Key.from_secret(secret))


def test_a_short_raw_secret_is_refused_as_weak(cli, tmp_path):
    (tmp_path / "secret").write_bytes(b"hunter2")

    result = cli("encode", "--key", str(tmp_path / "secret"), "{}")

    assert result.code == 2
    assert "at least 32 bytes" in result.err


def test_a_raw_secret_cannot_sign_an_asymmetric_algorithm(cli, tmp_path):
    (tmp_path / "secret").write_bytes(b"s" * 32)

    result = cli("encode", "--key", str(tmp_path / "secret"), "--alg", "ES256", "{}")

    assert result.code == 2
    assert "raw HMAC secret" in result.err


def test_kid_overrides_the_header_kid(cli, signing_jwk):
    token = cli("encode", "--key", str(signing_jwk), "--kid", "other", "{}").out.strip()

    assert jwtkit.decode_unverified(token)[0]["kid"] == "other"


def test_kid_picks_the_signing_key_from_a_jwks(cli, tmp_path):
    keys = [Key.generate("ES256", kid="a"), Key.generate("EdDSA", kid="b")]
    jwks = tmp_path / "keys.json"
    jwks.write_text(json.dumps(jwtkit.KeySet(keys).to_jwks(private=True)))

    token = cli("encode", "--key", str(jwks), "--kid", "b", "{}").out.strip()

    assert jwtkit.decode_unverified(token)[0]["alg"] == "EdDSA"
    assert list(verify(token, keys[1].public_key())) == ["iat"]  # verifies with b's public key: b signed it


def test_a_jwks_of_several_keys_needs_kid(cli, tmp_path):
    keys = [Key.generate("ES256", kid="a"), Key.generate("ES256", kid="b")]
    jwks = tmp_path / "keys.json"
    jwks.write_text(json.dumps(jwtkit.KeySet(keys).to_jwks(private=True)))

    result = cli("encode", "--key", str(jwks), "{}")

    assert result.code == 2
    assert result.err == f"error: {jwks} holds 2 keys; choose one with --kid\n"
