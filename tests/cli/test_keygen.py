"""``jwtkit keygen``: new keys as private JWK or PEM, written safely."""

import json
import stat

import pytest

from jwtkit import Key


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "PS384", "ES256", "ES256K", "EdDSA", "Ed448"])
def test_keygen_prints_a_private_jwk_bound_to_the_algorithm(cli, alg):
    result = cli("keygen", "--alg", alg)

    assert result.code == 0
    key = Key.from_jwk(result.out)
    assert key.is_private
    assert key.alg == alg


def test_the_default_kid_of_an_asymmetric_key_is_its_thumbprint(cli):
    key = Key.from_jwk(cli("keygen", "--alg", "ES256").out)

    assert key.kid == key.thumbprint()


def test_the_default_kid_of_a_secret_is_random_not_a_hash_of_the_secret(cli):
    first = Key.from_jwk(cli("keygen", "--alg", "HS256").out)
    second = Key.from_jwk(cli("keygen", "--alg", "HS256").out)

    assert first.kid
    assert second.kid
    assert first.kid != second.kid
    assert first.kid != first.thumbprint()


def test_kid_names_the_key(cli):
    key = Key.from_jwk(cli("keygen", "--alg", "EdDSA", "--kid", "2026-07").out)

    assert key.kid == "2026-07"


def test_out_writes_the_private_key_with_mode_0600_and_prints_nothing_on_stdout(cli, tmp_path):
    out = tmp_path / "signing.jwk"

    result = cli("keygen", "--alg", "ES256", "--out", str(out))

    assert result.code == 0
    assert result.out == ""
    assert mode_of(out) == 0o600
    assert Key.from_jwk(out.read_text()).is_private


def test_public_out_writes_the_public_half_with_mode_0644(cli, tmp_path):
    private, public = tmp_path / "signing.jwk", tmp_path / "verify.jwk"

    cli("keygen", "--alg", "ES256", "--out", str(private), "--public-out", str(public))

    assert mode_of(public) == 0o644
    public_key = Key.from_jwk(public.read_text())
    assert not public_key.is_private
    assert public_key == Key.from_jwk(private.read_text()).public_key()


def test_an_existing_file_is_not_overwritten_without_force(cli, tmp_path):
    out = tmp_path / "signing.jwk"
    out.write_text("precious")

    result = cli("keygen", "--alg", "ES256", "--out", str(out))

    assert result.code == 2
    assert "--force" in result.err
    assert out.read_text() == "precious"


def test_force_overwrites_and_tightens_the_mode_of_an_existing_file(cli, tmp_path):
    out = tmp_path / "signing.jwk"
    out.write_text("old")
    out.chmod(0o644)

    result = cli("keygen", "--alg", "HS256", "--out", str(out), "--force")

    assert result.code == 0
    assert mode_of(out) == 0o600
    assert Key.from_jwk(out.read_text()).alg == "HS256"


def test_pem_writes_pkcs8_that_loads_back(cli, tmp_path):
    out = tmp_path / "signing.pem"

    result = cli("keygen", "--alg", "ES384", "--pem", "--out", str(out))

    assert result.code == 0
    text = out.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")
    assert mode_of(out) == 0o600
    assert Key.from_pem(text).crv == "P-384"


def test_pem_public_out_is_a_subject_public_key_info(cli, tmp_path):
    public = tmp_path / "verify.pem"

    cli("keygen", "--alg", "EdDSA", "--pem", "--public-out", str(public))

    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_an_hmac_secret_has_no_pem_form(cli):
    result = cli("keygen", "--alg", "HS256", "--pem")

    assert result.code == 2
    assert result.err == "error: HS256 keys are shared secrets with no PEM form; use the JWK output\n"
    assert result.out == ""


def test_an_hmac_secret_has_no_public_half(cli, tmp_path):
    result = cli("keygen", "--alg", "HS512", "--public-out", str(tmp_path / "p.jwk"))

    assert result.code == 2
    assert not (tmp_path / "p.jwk").exists()


def test_an_unknown_algorithm_is_a_usage_error(cli):
    result = cli("keygen", "--alg", "none")

    assert result.code == 2
    assert "invalid choice" in result.err


def test_the_printed_jwk_is_indented_json_ending_in_a_newline(cli):
    out = cli("keygen", "--alg", "ES256").out

    assert out.endswith("}\n")
    assert json.loads(out)["kty"] == "EC"
    assert "\n  " in out
