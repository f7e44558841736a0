"""Django admin: staff see a user's JWT sessions and revoke them (the session's access tokens die too)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import OutstandingToken, RevokedAccess, SigningKey, TokenFamily
from .sessions import revoke_family


@admin.action(description="Revoke the selected sessions (log out everywhere they are used)")  # type: ignore[untyped-decorator]
def revoke_sessions(modeladmin: Any, request: HttpRequest, queryset: QuerySet[TokenFamily]) -> None:
    revoked = sum(revoke_family(family.id, reason="admin") for family in queryset)
    modeladmin.message_user(request, f"Revoked {revoked} session(s).", messages.SUCCESS)


class OutstandingTokenInline(admin.TabularInline):
    model = OutstandingToken
    fields = ("jti", "created_at", "expires_at", "spent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "created_at", "expires_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__username", "id")
    readonly_fields = ("id", "user", "created_at", "expires_at", "revoked_at", "revoked_reason")
    actions = (revoke_sessions,)
    inlines = (OutstandingTokenInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RevokedAccess)
class RevokedAccessAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "created_at", "expires_at")
    readonly_fields = ("kind", "value", "created_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "algorithm", "created_at", "retired_at", "verify_until")
    fields = ("kid", "algorithm", "created_at", "retired_at", "verify_until")  # never the private key
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
