"""``manage.py jwtkit_flush_expired``: delete what has expired (Simple JWT's ``flushexpiredtokens``).

Expired sessions (and their refresh tokens), revocations past their ``exp``, and retired signing
keys past ``verify_until``. Run it from cron; nothing live is touched.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from jwtkit.integrations.django.models import OutstandingToken, RevokedAccess, SigningKey, TokenFamily


class Command(BaseCommand):
    help = "Delete expired JWT sessions, refresh tokens, revocations and retired signing keys."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        tokens, _ = OutstandingToken.objects.filter(expires_at__lte=now).delete()
        families, _ = TokenFamily.objects.filter(expires_at__lte=now).delete()
        revoked, _ = RevokedAccess.objects.filter(expires_at__lte=now).delete()
        keys, _ = SigningKey.objects.filter(retired_at__isnull=False, verify_until__lte=now).delete()
        self.stdout.write(
            f"Deleted {families} session rows, {tokens} refresh tokens, {revoked} revocations, {keys} signing keys."
        )
