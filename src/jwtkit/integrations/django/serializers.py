"""Simple JWT's serializers (same names, fields, bodies), on jwtkit tokens and race-free sessions.

Customizing claims works as in Simple JWT's docs::

    class MyTokenObtainPairSerializer(TokenObtainPairSerializer):
        @classmethod
        def get_token(cls, user):
            token = super().get_token(user)
            token["name"] = user.name
            return token
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from rest_framework import exceptions, serializers

from . import sessions
from .authentication import check_not_revoked
from .conf import jwt_settings
from .exceptions import TokenError
from .tokens import AccessToken, RefreshToken, Token, UntypedToken


class PasswordField(serializers.CharField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("style", {})
        kwargs["style"]["input_type"] = "password"
        kwargs["write_only"] = True
        super().__init__(*args, **kwargs)


class TokenObtainSerializer(serializers.Serializer):
    token_class: type[Token] | None = None
    default_error_messages: ClassVar[dict[str, str]] = {
        "no_active_account": "No active account found with the given credentials"
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username_field = get_user_model().USERNAME_FIELD
        self.fields[self.username_field] = serializers.CharField(write_only=True)
        self.fields["password"] = PasswordField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        credentials = {self.username_field: attrs[self.username_field], "password": attrs["password"]}
        if "request" in self.context:
            credentials["request"] = self.context["request"]
        self.user = authenticate(**credentials)
        if not jwt_settings().user_authentication_rule(self.user):
            raise exceptions.AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        return {}

    @classmethod
    def get_token(cls, user: Any) -> Token:
        assert cls.token_class is not None
        return cls.token_class.for_user(user)


class TokenObtainPairSerializer(TokenObtainSerializer):
    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(attrs)
        refresh = self.get_token(self.user)
        assert isinstance(refresh, RefreshToken)
        data["refresh"] = str(refresh)
        data["access"] = str(refresh.access_token)
        if jwt_settings().update_last_login:
            update_last_login(None, self.user)
        return data


class TokenRefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)
    token_class = RefreshToken
    default_error_messages: ClassVar[dict[str, str]] = {
        "no_active_account": "No active account found for the given token."
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        settings = jwt_settings()
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.get(settings.user_id_claim)
        user = None
        if user_id is not None:
            try:
                user = get_user_model()._default_manager.filter(**{settings.user_id_field: user_id}).first()
            except (ValueError, TypeError, ValidationError):  # an id of the wrong shape names no user
                user = None
            if not settings.user_authentication_rule(user):
                raise exceptions.AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        user_pk = getattr(user, "pk", None)
        if settings.rotate_refresh_tokens:
            successor = sessions.rotate(refresh, user_pk)
            return {"access": str(successor.access_token), "refresh": str(successor)}
        refresh[settings.family_claim] = sessions.family_of(refresh, user_pk)
        return {"access": str(refresh.access_token)}


class TokenVerifySerializer(serializers.Serializer):
    """A token of a type in ``VERIFY_TOKEN_TYPES`` (access only, by default), not revoked."""

    token = serializers.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        settings = jwt_settings()
        token = UntypedToken(attrs["token"])
        token_type = token.get(settings.token_type_claim)
        if token_type not in settings.verify_token_types:
            raise TokenError("Token has wrong type")
        if token_type == AccessToken.token_type:
            check_not_revoked(token)
        elif token_type == RefreshToken.token_type:
            refresh = RefreshToken.__new__(RefreshToken)
            refresh.token, refresh.current_time, refresh.payload = attrs["token"], token.current_time, token.payload
            sessions.family_of(refresh, None)
        return {}


class TokenBlacklistSerializer(serializers.Serializer):
    """Logout: revokes the refresh token's whole session and the access token that came with it."""

    refresh = serializers.CharField(write_only=True)
    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refresh = self.token_class(attrs["refresh"])
        access = self.context.get("access_token")
        if isinstance(access, AccessToken):
            sessions.deny_access(access.payload)
        sessions.revoke_refresh(refresh, reason="logout")
        return {}
