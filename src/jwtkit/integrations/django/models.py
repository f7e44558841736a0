"""The tables: refresh families, outstanding refresh tokens, revoked access, signing keys.

No token text is stored (Simple JWT's ``OutstandingToken.token`` leaks live credentials to
whoever reads the table): a refresh token is its ``jti``, indexed, with its family and ``exp``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TokenFamily(models.Model):
    """One login: the chain of refresh tokens rotated from one obtain (a session)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="jwt_sessions"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        verbose_name = "JWT session"
        verbose_name_plural = "JWT sessions"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"session {self.id} of {self.user}"


class OutstandingToken(models.Model):
    """A refresh token we issued (or met once, for a Simple JWT token), by ``jti``.

    ``spent_at`` is set by the one conditional UPDATE that wins a rotation; a second
    presentation finds it set, which is reuse.
    """

    id = models.BigAutoField(primary_key=True)
    jti = models.CharField(max_length=255, unique=True)
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    spent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outstanding refresh token"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.jti


class RevokedAccess(models.Model):
    """An access ``jti`` or a whole family (``kind``), denied until ``expires_at``.

    The in-process denylist reads rows by increasing ``id`` (the poll cursor).
    """

    KIND_JTI = "jti"
    KIND_FAMILY = "family"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=8, choices=[(KIND_JTI, "access token"), (KIND_FAMILY, "session")])
    value = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "revoked access"
        verbose_name_plural = "revoked access"

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class SigningKey(models.Model):
    """An asymmetric signing key (private JWK). The newest unretired one signs; retired ones
    keep verifying until ``verify_until``, when ``jwtkit_flush_expired`` deletes them."""

    kid = models.CharField(max_length=64, primary_key=True)
    algorithm = models.CharField(max_length=16)
    private_jwk = models.TextField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    verify_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.algorithm} key {self.kid}"

    def __repr__(self) -> str:  # never the private key
        return f"<SigningKey {self.kid} {self.algorithm}>"
