"""Secrets never print: the repr of settings and storage records leaves them out (a repr ends up
in logs, tracebacks and debuggers)."""

from jwtkit.auth.keyring import KeyCipher, new_signing_key
from jwtkit.auth.models import UserRecord
from jwtkit.auth.settings import AuthSettings


def test_settings_repr_hides_the_key_encryption_secret():
    settings = AuthSettings(key_encryption_secret=b"TOP-SECRET-VALUE-0123456789abcdef")
    assert "TOP-SECRET" not in repr(settings)
    assert "key_encryption_secret" not in repr(settings)


def test_signing_key_record_repr_hides_the_private_jwk():
    record = new_signing_key("ES256", KeyCipher(None), now=1.0)
    assert '"d"' in record.private_jwk
    assert "private_jwk" not in repr(record)
    assert record.kid in repr(record)


def test_user_record_repr_hides_the_password_hash():
    record = UserRecord(id=1, username="alice", password_hash="$argon2id$v=19$m=8,t=1,p=1$SECRETHASH")
    assert "SECRETHASH" not in repr(record)
    assert "alice" in repr(record)
