"""What every store does to a denial the same way."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from jwtkit.auth.models import Denial

__all__ = ["until_access_expiry"]


def until_access_expiry(denial: Denial, access_expiry: Mapping[str, float | None]) -> Denial:
    """A family's denial, extended to its latest access token's ``exp`` (every store applies it)."""
    if denial.kind != "family":
        return denial
    latest = access_expiry.get(denial.value)
    if latest is None or latest <= denial.expires_at:
        return denial
    return dataclasses.replace(denial, expires_at=latest)
