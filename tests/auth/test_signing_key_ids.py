"""Signing-key ids are what an operator types after ``jwtkit keys retire``: never one that the command
line would read as an option."""

from jwtkit.auth import keyring
from jwtkit.auth.keyring import KeyCipher, new_signing_key


def test_a_new_signing_key_id_never_starts_with_a_dash(monkeypatch):
    drawn = iter(["-starts-with-a-dash", "Xk3-fine_id"])
    monkeypatch.setattr(keyring.secrets, "token_urlsafe", lambda nbytes: next(drawn))
    record = new_signing_key("ES256", KeyCipher(None), now=1.0)
    assert record.kid == "Xk3-fine_id"
