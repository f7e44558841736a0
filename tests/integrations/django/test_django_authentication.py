"""``JWTAuthentication``: Simple JWT's class and errors, plus revocation without a query per request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtkit.integrations.django.denylist import denylist
from jwtkit.integrations.django.models import RevokedAccess


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_no_header_is_anonymous_and_drfs_401(api, db):
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_another_scheme_is_not_ours(api, db):
    assert api.get("/api/me/", HTTP_AUTHORIZATION="Basic YTpi").status_code == 401


def test_three_parts_is_a_bad_authorization_header(api, db):
    response = api.get("/api/me/", HTTP_AUTHORIZATION="Bearer a b")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    }


def test_an_invalid_token_is_simplejwts_body(api, db):
    response = api.get("/api/me/", **bearer("abc.def.ghi"))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}],
    }


def test_an_inactive_user_is_refused(api, login, user):
    pair = login()
    user.is_active = False
    user.save()
    response = api.get("/api/me/", **bearer(pair["access"]))
    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive", "code": "user_inactive"}


def test_a_deleted_user_is_user_not_found(api, login, user):
    pair = login()
    user.delete()
    response = api.get("/api/me/", **bearer(pair["access"]))
    assert response.json() == {"detail": "User not found", "code": "user_not_found"}


def test_the_hot_path_makes_one_query_the_user_lookup(api, login):
    pair = login()
    api.get("/api/me/", **bearer(pair["access"]))  # the denylist copy is fresh now
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/me/", **bearer(pair["access"])).status_code == 200
    assert len(queries) == 1
    assert "auth_user" in queries[0]["sql"]


def test_a_revocation_written_by_another_process_is_seen_after_a_refresh(api, login):
    from jwtkit.integrations.django.tokens import AccessToken

    pair = login()
    assert api.get("/api/me/", **bearer(pair["access"])).status_code == 200
    jti = AccessToken(pair["access"])["jti"]
    RevokedAccess.objects.create(
        kind="jti", value=jti, created_at=timezone.now(), expires_at=timezone.now() + timedelta(minutes=5)
    )
    denylist.refresh()  # what the poller thread does every DENYLIST_POLL_INTERVAL
    assert api.get("/api/me/", **bearer(pair["access"])).status_code == 401


def test_a_stale_copy_reads_the_table_before_letting_a_request_through(api, login, monkeypatch):
    from jwtkit.integrations.django.tokens import AccessToken

    pair = login()
    api.get("/api/me/", **bearer(pair["access"]))
    RevokedAccess.objects.create(
        kind="jti",
        value=AccessToken(pair["access"])["jti"],
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    monkeypatch.setattr(denylist, "_fresh_at", denylist._fresh_at - 3600)  # past DENYLIST_MAX_STALENESS
    assert api.get("/api/me/", **bearer(pair["access"])).status_code == 401


def test_an_unreadable_revocation_list_past_its_bound_is_503_not_a_pass(api, login, monkeypatch):
    from django.db import DatabaseError

    pair = login()

    def broken(older_than: float = 0.0) -> None:
        raise DatabaseError("database is down")

    monkeypatch.setattr(denylist, "refresh", broken)
    monkeypatch.setattr(denylist, "_fresh_at", float("-inf"))
    response = api.get("/api/me/", **bearer(pair["access"]))
    assert response.status_code == 503


@pytest.mark.parametrize("header_type", ["JWT"])
def test_auth_header_types_is_honoured(api, login, settings, header_type):
    pair = login()
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "AUTH_HEADER_TYPES": (header_type,)}
    assert api.get("/api/me/", HTTP_AUTHORIZATION=f"{header_type} {pair['access']}").status_code == 200


def test_a_refresh_token_is_not_an_access_token(api, login):
    pair = login()
    response = api.get("/api/me/", **bearer(pair["refresh"]))
    assert response.status_code == 401
    assert response.json()["messages"][0]["message"] == "Token has wrong type"


def test_the_stateless_class_makes_no_query_at_all(api, login):
    pair = login()
    api.get("/api/stateless-me/", **bearer(pair["access"]))  # the denylist copy is fresh now
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/stateless-me/", **bearer(pair["access"]))
    assert response.status_code == 200
    assert response.json() == {"username": ""}  # no username claim unless the project adds one
    assert len(queries) == 0


def test_the_stateless_class_refuses_a_revoked_token(api, login):
    pair = login()
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json", **bearer(pair["access"]))
    assert api.get("/api/stateless-me/", **bearer(pair["access"])).status_code == 401
