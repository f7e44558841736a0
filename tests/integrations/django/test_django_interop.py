"""Interop with the real ``djangorestframework-simplejwt``, both ways: live sessions survive the
switch, and a mixed fleet works during a rolling upgrade."""

import time

import pytest
from rest_framework_simplejwt import tokens as simplejwt_tokens

from jwtkit.integrations.django.models import TokenFamily
from jwtkit.integrations.django.tokens import RefreshToken


def bearer(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def simplejwt_pair(user):
    refresh = simplejwt_tokens.RefreshToken.for_user(user)
    return str(refresh), str(refresh.access_token)


def test_a_simplejwt_access_token_opens_our_protected_view(api, simplejwt_pair):
    _, access = simplejwt_pair
    response = api.get("/api/me/", **bearer(access))
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_a_simplejwt_access_token_is_refused_once_expired(api, user):
    access = simplejwt_tokens.AccessToken.for_user(user)
    access.set_exp(lifetime=-simplejwt_tokens.AccessToken.lifetime - simplejwt_tokens.AccessToken.lifetime)
    response = api.get("/api/me/", **bearer(access))
    assert response.status_code == 401
    assert response.json()["messages"][0]["message"] == "Token is expired"


def test_a_simplejwt_refresh_token_refreshes_once_into_a_new_family(api, simplejwt_pair):
    refresh, _ = simplejwt_pair
    response = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert TokenFamily.objects.count() == 1
    assert api.get("/api/me/", **bearer(response.json()["access"])).status_code == 200


def test_a_simplejwt_refresh_token_refreshed_twice_is_reuse(api, simplejwt_pair):
    refresh, _ = simplejwt_pair
    first = api.post("/api/token/refresh/", {"refresh": refresh}, format="json").json()
    again = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert again.status_code == 401
    assert api.get("/api/me/", **bearer(first["access"])).status_code == 401


def test_our_access_token_opens_a_view_protected_by_simplejwt(api, login):
    pair = login()
    response = api.get("/simplejwt-me/", **bearer(pair["access"]))
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_simplejwt_verifies_our_tokens(api, login):
    pair = login()
    for token in pair.values():
        assert api.post("/simplejwt/token/verify/", {"token": token}, format="json").status_code == 200


def test_simplejwt_refreshes_our_refresh_token(api, login):
    pair = login()
    response = api.post("/simplejwt/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200


def test_our_claims_are_simplejwts(user):
    ours = RefreshToken.for_user(user)
    theirs = simplejwt_tokens.RefreshToken.for_user(user)
    assert set(theirs.payload) <= set(ours.payload)
    assert set(ours.access_token.payload) - set(theirs.access_token.payload) == {"sid"}
    assert ours["user_id"] == theirs["user_id"] == str(user.pk)
    assert ours["exp"] - ours["iat"] == theirs["exp"] - theirs["iat"]
    assert abs(ours["iat"] - time.time()) < 60


def test_a_refresh_token_simplejwt_blacklisted_before_the_switch_stays_refused(api, simplejwt_pair):
    refresh, _ = simplejwt_pair
    simplejwt_tokens.RefreshToken(refresh).blacklist()
    response = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_a_refresh_token_simplejwt_rotated_before_the_switch_is_refused(api, simplejwt_pair):
    refresh, _ = simplejwt_pair
    assert api.post("/simplejwt/token/refresh/", {"refresh": refresh}, format="json").status_code == 200
    assert api.post("/api/token/refresh/", {"refresh": refresh}, format="json").status_code == 401
