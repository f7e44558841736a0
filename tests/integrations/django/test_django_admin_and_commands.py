"""Staff revoke sessions in the Django admin; ``jwtkit_flush_expired`` deletes only what expired;
the middleware gives plain Django views the bearer token's user."""

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from jwtkit.integrations.django.models import OutstandingToken, RevokedAccess, TokenFamily


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_staff_revoke_a_session_in_the_admin_and_its_access_token_dies(api, login, admin_client):
    pair = login()
    family = TokenFamily.objects.get()
    response = admin_client.post(
        "/admin/jwtkit_django/tokenfamily/",
        {"action": "revoke_sessions", "_selected_action": [str(family.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Revoked 1 session(s)." in response.content
    assert api.get("/api/me/", **bearer(pair["access"])).status_code == 401
    assert api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_the_admin_lists_a_users_sessions_without_token_text(login, admin_client):
    login()
    response = admin_client.get("/admin/jwtkit_django/tokenfamily/?q=alice")
    assert response.status_code == 200
    assert b"alice" in response.content


def test_the_admin_never_shows_a_private_key(admin_client, settings, db):
    from jwtkit.integrations.django.conf import jwt_settings
    from jwtkit.integrations.django.keyring import create_signing_key
    from jwtkit.integrations.django.models import SigningKey

    settings.SIMPLE_JWT = {"ALGORITHM": "ES256"}
    create_signing_key(jwt_settings())
    key = SigningKey.objects.get()
    page = admin_client.get(f"/admin/jwtkit_django/signingkey/{key.pk}/change/")
    assert page.status_code == 200
    assert b'"d"' not in page.content
    assert key.private_jwk.encode() not in page.content


def test_flush_expired_deletes_only_what_expired(login):
    login()
    past = timezone.now() - timedelta(days=2)
    old = TokenFamily.objects.create(created_at=past, expires_at=past)
    OutstandingToken.objects.create(jti="old", family=old, created_at=past, expires_at=past)
    RevokedAccess.objects.create(kind="jti", value="old", created_at=past, expires_at=past)
    RevokedAccess.objects.create(kind="jti", value="live", created_at=past, expires_at=timezone.now() + timedelta(1))

    call_command("jwtkit_flush_expired", stdout=io.StringIO())

    assert TokenFamily.objects.count() == 1
    assert not OutstandingToken.objects.filter(jti="old").exists()
    assert list(RevokedAccess.objects.values_list("value", flat=True)) == ["live"]


def test_the_middleware_authenticates_a_plain_django_view(client, login):
    pair = login()
    response = client.get("/plain/me/", **bearer(pair["access"]))
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_the_middleware_refuses_a_revoked_token(client, api, login):
    pair = login()
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json", **bearer(pair["access"]))
    assert client.get("/plain/me/", **bearer(pair["access"])).status_code == 401


def test_the_middleware_leaves_requests_without_a_token_alone(client, db):
    assert client.get("/plain/me/").status_code == 401
