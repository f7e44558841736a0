"""Asymmetric keys in the database: ES256, rotated by ``jwtkit_rotate_keys``, published as JWKS."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

import jwtkit
from jwtkit.integrations.django.conf import jwt_settings
from jwtkit.integrations.django.keyring import create_signing_key, keyring
from jwtkit.integrations.django.models import SigningKey

ES256 = {"ALGORITHM": "ES256", "ROTATE_REFRESH_TOKENS": True}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def es256():
    with override_settings(SIMPLE_JWT=ES256):
        yield


def test_the_first_key_is_created_on_first_use(es256, login):
    pair = login()
    header, _ = jwtkit.decode_unverified(pair["access"])
    assert header["alg"] == "ES256"
    assert header["kid"] == SigningKey.objects.get().kid


def test_a_resource_server_verifies_with_the_published_jwks(es256, api, login):
    pair = login()
    jwks = api.get("/.well-known/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])
    claims = jwtkit.decode(pair["access"], jwtkit.KeySet.from_jwks(jwks), algorithms=["ES256"])
    assert claims["token_type"] == "access"


def test_rotation_signs_with_the_new_key_and_still_verifies_the_old(es256, api, login):
    old = login()
    call_command("jwtkit_rotate_keys", stdout=io.StringIO())
    new = login()

    old_kid = jwtkit.decode_unverified(old["access"])[0]["kid"]
    new_kid = jwtkit.decode_unverified(new["access"])[0]["kid"]
    assert old_kid != new_kid
    assert api.get("/api/me/", **bearer(old["access"])).status_code == 200
    assert api.get("/api/me/", **bearer(new["access"])).status_code == 200
    assert {key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]} == {old_kid, new_kid}


def test_a_retired_key_verifies_until_its_last_token_expires(es256, login):
    login()
    call_command("jwtkit_rotate_keys", stdout=io.StringIO())
    retired = SigningKey.objects.get(retired_at__isnull=False)
    assert retired.verify_until - retired.retired_at == timedelta(days=1)


def test_a_key_rotated_by_another_process_is_picked_up_on_its_first_token(es256, api, login, user):
    login()
    key = create_signing_key(jwt_settings())  # another process rotated; this one has not reloaded
    claims = {"token_type": "access", "user_id": str(user.pk), "jti": "j1", "exp": 4102444800, "iat": 1}
    keyring._loaded_at -= 10  # past the one-second cool-down between unknown-kid reloads
    assert api.get("/api/me/", **bearer(jwtkit.encode(claims, key))).status_code == 200


def test_rotating_an_hmac_key_is_refused_with_a_reason(db):
    with pytest.raises(CommandError, match="HS256"):
        call_command("jwtkit_rotate_keys")


def test_a_due_reload_of_the_ring_does_not_query_in_the_request(es256, api, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pair = login()
    api.get("/api/me/", **bearer(pair["access"]))
    keyring._loaded_at -= 3600  # past KEY_RELOAD_INTERVAL
    keyring._reloading = True  # the background re-read is under way (no thread in this test)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/me/", **bearer(pair["access"])).status_code == 200
    assert [query["sql"] for query in queries if "signingkey" in query["sql"]] == []
    keyring._reloading = False
