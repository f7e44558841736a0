"""``SIMPLE_JWT`` is read with Simple JWT's names and defaults; ``JWTKIT`` overrides; what we do
not support is named by a system check, never silently ignored."""

from datetime import timedelta

import pytest
from django.core import checks
from django.test import override_settings
from rest_framework_simplejwt import settings as simplejwt_settings

from jwtkit.integrations.django.checks import check_settings
from jwtkit.integrations.django.conf import SIMPLE_JWT_DEFAULTS, build_settings, jwt_settings


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_our_defaults_are_simplejwts_own():
    theirs = dict(simplejwt_settings.DEFAULTS)
    theirs.pop("SIGNING_KEY")
    ours = dict(SIMPLE_JWT_DEFAULTS)
    ours.pop("SIGNING_KEY")
    assert ours == theirs


def test_without_settings_the_algorithm_is_hs256_with_secret_key():
    built = build_settings(None, None)
    assert built.algorithm == "HS256"
    assert built.signing_key == "test-secret-key-for-jwtkit-django-integration-0123456789"
    assert built.access_lifetime == 300
    assert built.refresh_lifetime == 86400
    assert built.rotate_refresh_tokens is False


def test_simple_jwt_values_are_read():
    built = build_settings({"ACCESS_TOKEN_LIFETIME": timedelta(minutes=1), "LEEWAY": 5, "USER_ID_CLAIM": "uid"}, None)
    assert (built.access_lifetime, built.leeway, built.user_id_claim) == (60, 5, "uid")


def test_jwtkit_overrides_simple_jwt():
    built = build_settings({"ACCESS_TOKEN_LIFETIME": timedelta(minutes=1)}, {"ACCESS_TOKEN_LIFETIME": 30})
    assert built.access_lifetime == 30


@override_settings(JWTKIT={"ROTATE_REFRESH_TOKENS": True})
def test_a_new_project_with_only_a_jwtkit_dict_defaults_to_es256_with_database_keys():
    from django.conf import settings

    del settings.SIMPLE_JWT
    built = jwt_settings()
    assert built.algorithm == "ES256"
    assert built.database_keys is True


def test_an_asymmetric_algorithm_with_a_pem_key_uses_that_key():
    from jwtkit import Key

    pem = Key.generate("ES256").to_pem(private=True).decode()
    built = build_settings({"ALGORITHM": "ES256", "SIGNING_KEY": pem}, None)
    assert built.database_keys is False


def test_the_default_settings_pass_the_checks():
    assert check_settings() == []


@override_settings(SIMPLE_JWT={"JWK_URL": "https://example.com/jwks", "TOKEN_OBTAIN_SERIALIZER": "x.Y"})
def test_an_unsupported_setting_is_named_by_a_warning():
    messages = check_settings()
    assert ids(messages) == ["jwtkit.W001", "jwtkit.W001"]
    assert "'JWK_URL'" in messages[0].msg
    assert all(isinstance(message, checks.Warning) for message in messages)


@override_settings(SIMPLE_JWT={"JWK_URL": None})
def test_an_unsupported_setting_left_at_its_default_is_fine():
    assert check_settings() == []


@override_settings(JWTKIT={"AUTH_HEADER_TYPE": "JWT"})  # Simple JWT itself raises on it in SIMPLE_JWT
def test_a_setting_simplejwt_removed_is_an_error():
    assert ids(check_settings()) == ["jwtkit.E002"]


@override_settings(SIMPLE_JWT={"SIGNING_KEY": "tooshort1"})
def test_a_too_short_hmac_key_is_an_error_that_does_not_print_it():
    messages = check_settings()
    assert ids(messages) == ["jwtkit.E001"]
    assert "tooshort1" not in messages[0].msg


@override_settings(SIMPLE_JWT={"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": False})
def test_blacklist_after_rotation_off_is_reported_as_having_no_effect():
    assert ids(check_settings()) == ["jwtkit.I001"]


@override_settings(SIMPLE_JWT={"ACCESS_TOKEN_LIFETIME": "five minutes"})
def test_a_lifetime_of_the_wrong_type_is_an_error():
    assert ids(check_settings()) == ["jwtkit.E001"]


@pytest.mark.parametrize("name", ["ACCESS_TOKEN_LIFETIME", "ALGORITHM", "AUTH_HEADER_TYPES", "USER_ID_FIELD"])
def test_override_settings_reaches_the_running_app(name):
    values = {"ACCESS_TOKEN_LIFETIME": 7, "ALGORITHM": "HS512", "AUTH_HEADER_TYPES": ("JWT",), "USER_ID_FIELD": "pk"}
    with override_settings(SIMPLE_JWT={name: values[name]}):
        assert jwt_settings().get(name) == values[name]


@override_settings(JWTKIT={"DENYLIST_POLL_INTERVALL": 2})
def test_a_misspelt_setting_is_named():
    messages = check_settings()
    assert ids(messages) == ["jwtkit.W002"]
    assert "'DENYLIST_POLL_INTERVALL'" in messages[0].msg
