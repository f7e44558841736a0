"""The same request to Simple JWT's view and to ours gets the same status and body (tokens aside)."""

import pytest
from rest_framework_simplejwt import tokens as simplejwt_tokens

CASES = [
    ("token/", {}),
    ("token/", {"username": "alice"}),
    ("token/", {"username": "alice", "password": "wrong"}),
    ("token/", {"username": "nobody", "password": "x"}),
    ("token/refresh/", {}),
    ("token/refresh/", {"refresh": ""}),
    ("token/refresh/", {"refresh": "garbage"}),
    ("token/refresh/", {"refresh": "a.b.c"}),
    ("token/refresh/", {"refresh": "<access>"}),
    ("token/refresh/", {"refresh": "<expired-refresh>"}),
    ("token/verify/", {}),
    ("token/verify/", {"token": "garbage"}),
    ("token/verify/", {"token": "<access>"}),
    ("token/verify/", {"token": "<expired-access>"}),
]


@pytest.fixture
def tokens(user):
    refresh = simplejwt_tokens.RefreshToken.for_user(user)
    expired_refresh = simplejwt_tokens.RefreshToken.for_user(user)
    expired_refresh.set_exp(lifetime=-simplejwt_tokens.RefreshToken.lifetime * 2)
    expired_access = simplejwt_tokens.AccessToken.for_user(user)
    expired_access.set_exp(lifetime=-simplejwt_tokens.AccessToken.lifetime * 2)
    return {
        "<access>": str(refresh.access_token),
        "<expired-refresh>": str(expired_refresh),
        "<expired-access>": str(expired_access),
    }


@pytest.mark.parametrize(("path", "body"), CASES)
def test_same_status_and_body_as_simplejwt(api, tokens, path, body):
    body = {name: tokens.get(value, value) for name, value in body.items()}
    theirs = api.post(f"/simplejwt/{path}", body, format="json")
    ours = api.post(f"/api/{path}", body, format="json")
    assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.json())
    assert ours.get("WWW-Authenticate") == theirs.get("WWW-Authenticate")


def test_same_body_for_a_refresh_that_works(api, user):
    refresh = str(simplejwt_tokens.RefreshToken.for_user(user))
    other = str(simplejwt_tokens.RefreshToken.for_user(user))
    theirs = api.post("/simplejwt/token/refresh/", {"refresh": refresh}, format="json")
    ours = api.post("/api/token/refresh/", {"refresh": other}, format="json")
    assert ours.status_code == theirs.status_code == 200
    assert list(ours.json()) == list(theirs.json())
