"""``manage.py jwtkit_rotate_keys``: a new signing key; the old ones keep verifying until their tokens expire.

Only for an asymmetric ``ALGORITHM`` with keys in the database (no PEM ``SIGNING_KEY``). Every
process picks the new key up within ``KEY_RELOAD_INTERVAL`` (or at once, on the first token
it meets signed by it); the JWKS view publishes the new and the retired keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwtkit.integrations.django.conf import jwt_settings
from jwtkit.integrations.django.keyring import create_signing_key, keyring


class Command(BaseCommand):
    help = "Rotate the JWT signing key (asymmetric algorithms with keys in the database)."

    def handle(self, *args: Any, **options: Any) -> None:
        settings = jwt_settings()
        if not settings.database_keys:
            raise CommandError(
                f"ALGORITHM {settings.algorithm} with a SIGNING_KEY from the settings: rotate the key there "
                "(jwtkit_rotate_keys manages database keys, used by asymmetric algorithms without SIGNING_KEY)"
            )
        keyring.get(settings)  # the first key exists before the second
        key = create_signing_key(settings)
        keyring.reload(settings)
        self.stdout.write(
            f"New {settings.algorithm} signing key {key.kid}; older keys verify until their tokens expire."
        )
