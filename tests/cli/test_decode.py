"""``jwtkit decode``: inspect a token, verify it with --key, and fail with one line."""

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import jwtkit
from jwtkit import Key
from jwtkit.cli.console import Palette
from jwtkit.cli.decode import render_report
from support.constants import NOW

PLAIN = Palette(enabled=False)


def sign(key: Key, **claims) -> str:
    return jwtkit.encode(claims, key)


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("error: ")
    assert result.err.count("\n") == 1
    assert result.err.endswith("\n")
    for fragment in fragments:
        assert fragment in result.err


def test_keygen_encode_decode_round_trip(cli, tmp_path):
    private, public = tmp_path / "signing.jwk", tmp_path / "verify.jwk"
    assert cli("keygen", "--alg", "ES256", "--kid", "k1", "--out", str(private), "--public-out", str(public)).code == 0
    token = cli("encode", "--key", str(private), "--exp", "15m", '{"sub": "42", "aud": "api"}').out.strip()

    result = cli("decode", token, "--key", str(public), "--audience", "api")

    assert result.code == 0
    assert result.err == ""
    assert '"sub": "42"' in result.out
    assert "(expires in 15 min)" in result.out
    assert result.out.endswith("signature: valid (ES256, kid k1)\n")


def test_without_key_the_token_is_shown_and_marked_not_verified(cli, es256_key):
    result = cli("decode", sign(es256_key, sub="42"))

    assert result.code == 0
    assert '"sub": "42"' in result.out
    assert '"alg": "ES256"' in result.out
    assert result.out.endswith("signature: not verified (no --key given)\n")


def test_without_key_an_expired_token_is_still_shown_with_its_age(cli, es256_key):
    result = cli("decode", sign(es256_key, exp=int(time.time()) - 7200))

    assert result.code == 0
    assert "(expired 2 h ago)" in result.out


def test_an_expired_token_fails_with_one_line_and_exit_1(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, exp=int(time.time()) - 7200), "--key", str(verify_jwk))

    assert_one_line_error(result, "expired")


def test_leeway_accepts_a_token_that_just_expired(cli, es256_key, verify_jwk):
    token = sign(es256_key, exp=int(time.time()) - 5)

    assert cli("decode", token, "--key", str(verify_jwk), "--leeway", "60").code == 0


def test_a_token_signed_by_another_key_fails(cli, verify_jwk):
    other = Key.generate("ES256", kid="es-1")

    result = cli("decode", sign(other, sub="42"), "--key", str(verify_jwk))

    assert_one_line_error(result, "signature does not match")


def test_a_tampered_payload_fails(cli, es256_key, verify_jwk):
    header, _, signature = sign(es256_key, sub="42").split(".")
    forged = base64.urlsafe_b64encode(b'{"sub":"admin"}').rstrip(b"=").decode()

    result = cli("decode", f"{header}.{forged}.{signature}", "--key", str(verify_jwk))

    assert_one_line_error(result, "signature")


def test_a_malformed_token_fails_with_or_without_key(cli, verify_jwk):
    assert_one_line_error(cli("decode", "not-a-token"), "3 dot-separated segments")
    assert_one_line_error(cli("decode", "not-a-token", "--key", str(verify_jwk)), "3 dot-separated segments")


def test_an_unsigned_alg_none_token_is_refused(cli, verify_jwk):
    def segment(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = f"{segment({'alg': 'none'})}.{segment({'sub': 'admin'})}."

    assert_one_line_error(cli("decode", token, "--key", str(verify_jwk)), "none")


def test_the_wrong_audience_fails(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, aud="api"), "--key", str(verify_jwk), "--audience", "billing")

    assert_one_line_error(result, "audience")


def test_the_wrong_issuer_fails(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, iss="https://evil"), "--key", str(verify_jwk), "--issuer", "https://auth")

    assert_one_line_error(result, "issuer")


def test_require_names_claims_that_must_be_present(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, sub="42"), "--key", str(verify_jwk), "--require", "exp")

    assert_one_line_error(result, "'exp'")


def test_verification_options_without_key_are_a_usage_error(cli, es256_key):
    result = cli("decode", sign(es256_key), "--audience", "api")

    assert result.code == 2
    assert result.err == "error: --audience only make sense with --key or --jwks\n"


def test_the_token_is_read_from_stdin_with_a_dash(cli, es256_key, verify_jwk):
    result = cli("decode", "-", "--key", str(verify_jwk), stdin=sign(es256_key, sub="stdin") + "\n")

    assert result.code == 0
    assert '"sub": "stdin"' in result.out


def test_a_jwks_key_file_picks_the_key_by_kid(cli, tmp_path, es256_key):
    other = Key.generate("EdDSA", kid="ed-1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(jwtkit.KeySet([es256_key.public_key(), other.public_key()]).to_jwks()))

    result = cli("decode", sign(other, sub="42"), "--key", str(jwks))

    assert result.code == 0
    assert result.out.endswith("signature: valid (EdDSA, kid ed-1)\n")


def test_a_public_pem_key_file_verifies(cli, tmp_path, es256_key):
    pem = tmp_path / "verify.pem"
    pem.write_bytes(es256_key.to_pem())

    assert cli("decode", sign(es256_key), "--key", str(pem)).code == 0


def test_a_raw_secret_file_verifies_hs256(cli, tmp_path):
    secret = os.urandom(32)
    (tmp_path / "secret").write_bytes(secret)

    result = cli("decode", sign(Key.from_secret(secret)), "--key", str(tmp_path / "secret"))

    assert result.code == 0
    assert result.out.endswith("signature: valid (HS256)\n")


def test_an_hs256_token_is_refused_with_an_ec_public_key(cli, tmp_path, es256_key, verify_jwk):
    # Algorithm confusion: the public key's bytes used as an HMAC secret.
    forged = sign(Key.from_secret(b"x" * 32), sub="admin")

    assert_one_line_error(cli("decode", forged, "--key", str(verify_jwk)), "HS256")


def test_alg_restricts_the_accepted_algorithm(cli, tmp_path):
    rsa = Key.generate("RS256")
    pem = tmp_path / "rsa.pem"
    pem.write_bytes(rsa.to_pem())
    token = jwtkit.encode({}, Key.from_pem(rsa.to_pem(private=True), alg="PS256"))

    assert cli("decode", token, "--key", str(pem)).code == 0
    assert_one_line_error(cli("decode", token, "--key", str(pem), "--alg", "RS256"), "PS256")


def test_an_alg_the_key_cannot_use_is_a_usage_error(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key), "--key", str(verify_jwk), "--alg", "ES384")

    assert result.code == 2
    assert result.err.startswith("error: ")


def test_json_prints_header_claims_and_verdict_as_json(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, sub="42"), "--key", str(verify_jwk), "--json")

    assert json.loads(result.out) == {
        "header": {"alg": "ES256", "typ": "JWT", "kid": "es-1"},
        "claims": {"sub": "42"},
        "verified": True,
    }


def test_the_report_shows_times_in_human_terms():
    claims = {"exp": NOW + 250, "iat": NOW - 7200, "nbf": NOW + 3 * 86400}

    report = render_report({"alg": "ES256"}, claims, None, now=NOW, palette=PLAIN)

    assert "  exp  2027-01-15 08:04:10 UTC  (expires in 4 min)" in report
    assert "(issued 2 h ago)" in report
    assert "(not valid for another 3 days)" in report


def test_the_report_names_a_time_claim_that_is_not_a_date():
    report = render_report({}, {"exp": "tomorrow"}, None, now=NOW, palette=PLAIN)

    assert "exp  not a NumericDate" in report


def test_the_report_escapes_terminal_control_characters_from_the_token():
    claims = {"name": "\x1b]0;pwned\x07\x9b2J\u202egnp.exe"}

    report = render_report({}, claims, None, now=NOW, palette=PLAIN)

    assert "\x1b" not in report
    assert "\x9b" not in report
    assert "\u202e" not in report
    assert r"\u001b]0;pwned\u0007\u009b2J\u202egnp.exe" in report


def test_the_report_is_coloured_only_with_a_colour_palette():
    plain = render_report({"alg": "ES256"}, {}, "valid (ES256)", now=NOW, palette=PLAIN)
    coloured = render_report({"alg": "ES256"}, {}, "valid (ES256)", now=NOW, palette=Palette(enabled=True))

    assert "\x1b[" not in plain
    assert "\x1b[32m" in coloured


# ---------------------------------------------------------------- through a real process

JWTKIT_SCRIPT = Path(sys.executable).with_name("jwtkit")


def run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)


def test_the_installed_jwtkit_command_round_trips(tmp_path):
    private, public = tmp_path / "signing.jwk", tmp_path / "verify.jwk"
    keygen = run(str(JWTKIT_SCRIPT), "keygen", "--alg", "EdDSA", "--out", str(private), "--public-out", str(public))
    assert keygen.returncode == 0, keygen.stderr
    token = run(str(JWTKIT_SCRIPT), "encode", "--key", str(private), '{"sub": "42"}').stdout.strip()

    decoded = run(str(JWTKIT_SCRIPT), "decode", token, "--key", str(public))

    assert decoded.returncode == 0, decoded.stderr
    assert "signature: valid (EdDSA, kid " in decoded.stdout
    assert "\x1b[" not in decoded.stdout  # stdout is a pipe, not a terminal


def test_python_dash_m_jwtkit_reports_an_expired_token_in_one_line(tmp_path, es256_key):
    (tmp_path / "verify.jwk").write_text(json.dumps(es256_key.public_key().to_jwk()))
    token = sign(es256_key, exp=int(time.time()) - 60)

    decoded = run(sys.executable, "-m", "jwtkit", "decode", token, "--key", str(tmp_path / "verify.jwk"))

    assert decoded.returncode == 1
    assert decoded.stdout == ""
    assert decoded.stderr.startswith("error: the token expired ")
    assert decoded.stderr.count("\n") == 1


@pytest.mark.parametrize("argv", [["--help"], ["keygen", "--help"], ["encode", "--help"], ["decode", "--help"]])
def test_help_exits_0_with_examples(argv):
    result = run(sys.executable, "-m", "jwtkit", *argv)

    assert result.returncode == 0
    assert result.stdout.startswith("usage: jwtkit")
    assert "examples:\n  jwtkit " in result.stdout


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer  ", "Authorization: Bearer "])
def test_a_pasted_bearer_scheme_is_removed_with_a_note(cli, es256_key, verify_jwk, prefix):
    result = cli("decode", prefix + sign(es256_key, sub="42"), "--key", str(verify_jwk))

    assert result.code == 0
    assert '"sub": "42"' in result.out
    assert result.err.startswith("note: removed ")
    assert "before the token" in result.err


def test_a_bearer_scheme_on_stdin_is_removed_too(cli, es256_key):
    result = cli("decode", "-", stdin="Bearer " + sign(es256_key, sub="42") + "\n")

    assert result.code == 0
    assert '"sub": "42"' in result.out


def test_the_audience_error_names_the_expected_audience_and_the_tokens(cli, es256_key, verify_jwk):
    result = cli("decode", sign(es256_key, aud="web"), "--key", str(verify_jwk), "--audience", "api")

    assert_one_line_error(result, "'web'", "expected 'api'")
