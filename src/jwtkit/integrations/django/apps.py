"""The Django app: ``INSTALLED_APPS += ["jwtkit.integrations.django"]`` (label ``jwtkit_django``)."""

from __future__ import annotations

from django.apps import AppConfig


class JwtkitDjangoConfig(AppConfig):
    name = "jwtkit.integrations.django"
    label = "jwtkit_django"
    verbose_name = "JWT sessions (jwtkit)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
