"""The views: Simple JWT's shapes, with race-free rotation, reuse detection and real logout."""

from jwtkit.integrations.django.models import OutstandingToken, TokenFamily


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_obtain_answers_refresh_and_access(login):
    pair = login()
    assert list(pair) == ["refresh", "access"]


def test_obtain_with_a_wrong_password_is_simplejwts_401(api, user):
    response = api.post("/api/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_obtain_without_fields_is_a_400_naming_them(api, db):
    response = api.post("/api/token/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"username": ["This field is required."], "password": ["This field is required."]}


def test_obtain_starts_a_family_and_stores_no_token_text(login):
    login()
    family = TokenFamily.objects.get()
    token = OutstandingToken.objects.get()
    assert token.family == family
    assert family.user.username == "alice"
    assert not hasattr(token, "token")


def test_access_token_opens_a_protected_view(api, login):
    pair = login()
    response = api.get("/api/me/", **bearer(pair["access"]))
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_refresh_rotates_once(api, login):
    pair = login()
    response = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != pair["refresh"]
    assert api.get("/api/me/", **bearer(body["access"])).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(api, login):
    pair = login()
    rotated = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()

    reuse = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    assert reuse.status_code == 401
    assert reuse.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}
    assert TokenFamily.objects.get().revoked_reason == "reuse"
    successor = api.post("/api/token/refresh/", {"refresh": rotated["refresh"]}, format="json")
    assert successor.status_code == 401


def test_reuse_kills_the_familys_live_access_tokens(api, login):
    pair = login()
    rotated = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
    api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    for access in (pair["access"], rotated["access"]):
        response = api.get("/api/me/", **bearer(access))
        assert response.status_code == 401
        assert response.json()["messages"][0]["message"] == "Token is blacklisted"


def test_refresh_with_an_access_token_is_wrong_type(api, login):
    pair = login()
    response = api.post("/api/token/refresh/", {"refresh": pair["access"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_refresh_with_garbage_is_token_invalid(api, db):
    response = api.post("/api/token/refresh/", {"refresh": "not.a.token"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid", "code": "token_not_valid"}


def test_refresh_for_a_deactivated_user_is_no_active_account(api, login, user):
    pair = login()
    user.is_active = False
    user.save()
    response = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


def test_refresh_for_a_deleted_user_is_401_not_500(api, login, user):
    pair = login()
    user.delete()
    response = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401


def test_verify_accepts_a_live_access_token(api, login):
    pair = login()
    response = api.post("/api/token/verify/", {"token": pair["access"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {}


def test_verify_refuses_a_refresh_token(api, login):
    pair = login()
    response = api.post("/api/token/verify/", {"token": pair["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_verify_refuses_a_revoked_access_token(api, login):
    pair = login()
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json", **bearer(pair["access"]))
    response = api.post("/api/token/verify/", {"token": pair["access"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_logout_revokes_the_refresh_token(api, login):
    pair = login()
    response = api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {}
    again = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert TokenFamily.objects.get().revoked_reason == "logout"


def test_logout_kills_the_access_token_it_was_sent_with(api, login):
    pair = login()
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json", **bearer(pair["access"]))
    response = api.get("/api/me/", **bearer(pair["access"]))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is blacklisted"}],
    }


def test_logout_twice_is_simplejwts_401(api, login):
    pair = login()
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json")
    response = api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_jwks_is_empty_for_hmac(api, db):
    response = api.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}


def test_reuse_revokes_the_family_even_with_atomic_requests(api, login, monkeypatch):
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)  # DRF rolls back on a 401
    pair = login()
    api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401
    assert TokenFamily.objects.get().revoked_reason == "reuse"
    assert api.get("/api/me/", **bearer(pair["access"])).status_code == 401


def test_a_refresh_token_naming_a_user_id_of_the_wrong_shape_is_401_not_500(api, db):
    from jwtkit.integrations.django.tokens import RefreshToken

    refresh = RefreshToken()
    refresh["user_id"] = "not-a-number"
    response = api.post("/api/token/refresh/", {"refresh": str(refresh)}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


def test_an_access_token_naming_a_user_id_of_the_wrong_shape_is_user_not_found(api, db):
    from jwtkit.integrations.django.tokens import AccessToken

    access = AccessToken()
    access["user_id"] = "not-a-number"
    response = api.get("/api/me/", **bearer(str(access)))
    assert response.status_code == 401
    assert response.json() == {"detail": "User not found", "code": "user_not_found"}


def test_without_rotation_refresh_answers_access_only_and_the_token_stays_usable(api, login, settings):
    settings.SIMPLE_JWT = {"ROTATE_REFRESH_TOKENS": False}
    pair = login()
    first = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    second = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert first.status_code == second.status_code == 200
    assert list(first.json()) == ["access"]


def test_without_rotation_logout_kills_the_access_tokens_refreshed_from_it(api, login, settings):
    settings.SIMPLE_JWT = {"ROTATE_REFRESH_TOKENS": False}
    pair = login()
    access = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()["access"]
    api.post("/api/token/blacklist/", {"refresh": pair["refresh"]}, format="json")
    assert api.get("/api/me/", **bearer(access)).status_code == 401
    assert api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_a_database_that_does_not_answer_in_time_is_503_and_spends_nothing(api, login, monkeypatch):
    from django.db import OperationalError

    from jwtkit.integrations.django import sessions

    pair = login()

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(sessions, "rotate", locked)
    response = api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": "The token database is busy, try again later."}
    monkeypatch.undo()
    assert api.post("/api/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 200
