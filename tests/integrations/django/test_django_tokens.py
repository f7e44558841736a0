"""``RefreshToken.for_user``, ``.access_token``, item assignment and ``str``, as in Simple JWT."""

import pytest

from jwtkit import decode_unverified
from jwtkit.integrations.django.exceptions import ExpiredTokenError, TokenError
from jwtkit.integrations.django.models import OutstandingToken, TokenFamily
from jwtkit.integrations.django.tokens import AccessToken, RefreshToken, UntypedToken


def test_for_user_records_a_new_family_with_the_token(user):
    refresh = RefreshToken.for_user(user)
    family = TokenFamily.objects.get()
    assert refresh["sid"] == str(family.id)
    assert OutstandingToken.objects.get().jti == refresh["jti"]


def test_for_user_has_simplejwts_claims(user):
    refresh = RefreshToken.for_user(user)
    assert refresh["token_type"] == "refresh"
    assert refresh["user_id"] == str(user.pk)
    assert refresh["exp"] - refresh["iat"] == 86400
    assert len(refresh["jti"]) == 32


def test_access_token_copies_custom_claims_but_not_its_own_identity(user):
    refresh = RefreshToken.for_user(user)
    refresh["name"] = "Alice"
    access = refresh.access_token
    assert access["name"] == "Alice"
    assert access["token_type"] == "access"
    assert access["jti"] != refresh["jti"]
    assert access["exp"] - refresh["iat"] == 300
    assert access["sid"] == refresh["sid"]


def test_str_signs_and_the_text_reads_back(user):
    refresh = RefreshToken.for_user(user)
    refresh["role"] = "admin"
    again = RefreshToken(str(refresh))
    assert again.payload == refresh.payload


def test_an_hs256_token_has_no_kid_like_simplejwts(user):
    header, _ = decode_unverified(str(RefreshToken.for_user(user)))
    assert header == {"alg": "HS256", "typ": "JWT"}


def test_a_refresh_token_is_not_an_access_token(user):
    with pytest.raises(TokenError, match="Token has wrong type"):
        AccessToken(str(RefreshToken.for_user(user)))


def test_untyped_token_accepts_any_type(user):
    refresh = RefreshToken.for_user(user)
    assert UntypedToken(str(refresh))["token_type"] == "refresh"


def test_an_expired_token_says_so(user):
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=-10)
    with pytest.raises(ExpiredTokenError, match="Token is expired"):
        AccessToken(str(access))


def test_a_token_without_jti_has_no_id(user):
    access = AccessToken.for_user(user)
    del access["jti"]
    with pytest.raises(TokenError, match="Token has no id"):
        AccessToken(str(access))


def test_a_token_signed_with_another_key_is_invalid(user):
    import jwtkit

    forged = jwtkit.encode(AccessToken.for_user(user).payload, jwtkit.Key.generate("HS256"))
    with pytest.raises(TokenError, match="Token is invalid"):
        AccessToken(forged)


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c", "x" * 20000, "\u00e9.\u00e9.\u00e9"])
def test_garbage_is_a_token_error_never_another_exception(db, text):
    with pytest.raises(TokenError):
        AccessToken(text)


def test_blacklist_revokes_the_family(user):
    refresh = RefreshToken.for_user(user)
    RefreshToken(str(refresh)).blacklist()
    assert TokenFamily.objects.get().revoked_reason == "logout"
