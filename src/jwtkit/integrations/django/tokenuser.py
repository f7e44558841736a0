"""``TokenUser``: Simple JWT's stateless user, backed by the validated token instead of a user row."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .conf import jwt_settings
from .tokens import Token


class TokenUser:
    """A user object from the token's claims (``USER_ID_CLAIM``, ``username``, ``is_staff``, …).

    Always active (a token is only issued to active users); no permissions; cannot be saved.
    """

    is_active = True
    is_anonymous = False
    is_authenticated = True

    def __init__(self, token: Token) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"TokenUser {self.id}"

    @cached_property
    def id(self) -> Any:
        return self.token[jwt_settings().user_id_claim]

    @cached_property
    def pk(self) -> Any:
        return self.id

    @cached_property
    def username(self) -> str:
        return str(self.token.get("username", ""))

    @cached_property
    def is_staff(self) -> bool:
        return bool(self.token.get("is_staff", False))

    @cached_property
    def is_superuser(self) -> bool:
        return bool(self.token.get("is_superuser", False))

    def get_username(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return self.id == other.id if isinstance(other, TokenUser) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: list[str], obj: object = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    def save(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def delete(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def __getattr__(self, attr: str) -> Any:
        """Custom claims, as in Simple JWT (``None`` when absent)."""
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self.token.get(attr)
