"""System checks (``manage.py check``, run at startup): no Simple JWT setting is silently ignored.

* ``jwtkit.E001``: the settings cannot be used (a wrong type, an unusable key).
* ``jwtkit.E002``: a setting Simple JWT itself removed (it raises on them too).
* ``jwtkit.W001``: a Simple JWT setting we do not implement is set to a non-default value.
* ``jwtkit.W002``: a name neither Simple JWT nor jwtkit knows (a typo is not silently ignored).
* ``jwtkit.I001``: ``BLACKLIST_AFTER_ROTATION = False`` with rotation on: a rotated refresh token is
  refused anyway (reuse detection needs it), so the setting has no effect.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from jwtkit.errors import JWTError

from .conf import JWTKIT_DEFAULTS, REMOVED, SIMPLE_JWT_DEFAULTS, UNSUPPORTED, build_settings


@checks.register(checks.Tags.security, "jwtkit")  # type: ignore[untyped-decorator]
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    simple_jwt = getattr(settings, "SIMPLE_JWT", None) or {}
    jwtkit = getattr(settings, "JWTKIT", None) or {}
    user = {**simple_jwt, **jwtkit}
    messages: list[checks.CheckMessage] = []
    for name in REMOVED:
        if name in user:
            messages.append(
                checks.Error(f"SIMPLE_JWT[{name!r}] was removed from Simple JWT and is not read", id="jwtkit.E002")
            )
    for name in UNSUPPORTED:
        if name in user and user[name] != SIMPLE_JWT_DEFAULTS[name]:
            messages.append(
                checks.Warning(
                    f"SIMPLE_JWT[{name!r}] is not supported by jwtkit.integrations.django and is ignored",
                    hint="Remove it, or see the README section 'Django and DRF: switching from Simple JWT'.",
                    id="jwtkit.W001",
                )
            )
    known = set(SIMPLE_JWT_DEFAULTS) | set(JWTKIT_DEFAULTS) | set(REMOVED)
    for name in sorted(set(user) - known):
        messages.append(
            checks.Warning(f"unknown setting {name!r} in SIMPLE_JWT/JWTKIT is not read", id="jwtkit.W002")
        )
    if user.get("ROTATE_REFRESH_TOKENS") and not user.get("BLACKLIST_AFTER_ROTATION", True):
        messages.append(
            checks.Info(
                "BLACKLIST_AFTER_ROTATION = False has no effect: a rotated refresh token is always refused, "
                "and presenting it again revokes its whole session (reuse detection)",
                id="jwtkit.I001",
            )
        )
    try:
        built = build_settings(simple_jwt, jwtkit)
        if not built.database_keys:
            from .keyring import static_keys

            static_keys(built)
    except (TypeError, ValueError, ImportError, JWTError) as exc:
        messages.append(checks.Error(f"SIMPLE_JWT/JWTKIT settings are not usable: {exc}", id="jwtkit.E001"))
    return messages
