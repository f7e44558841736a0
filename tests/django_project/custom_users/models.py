"""Custom user models: a UUID key and a field with ``from_db_value``; a subclass (a join); a manager that filters."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone


class Nickname(str):
    """What ``NicknameField`` turns a stored string into."""


class NicknameField(models.CharField):
    def from_db_value(self, value, expression, connection):
        return None if value is None else Nickname(value)


class EmailUser(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    email = models.EmailField(unique=True)
    nickname = NicknameField(max_length=50, default="")
    is_active = models.BooleanField(default=True)
    joined = models.DateTimeField(default=timezone.now)

    objects = BaseUserManager()

    USERNAME_FIELD = "email"


class Employee(EmailUser):
    """Multi-table inheritance: loading one joins ``EmailUser``'s table."""

    badge = models.CharField(max_length=20)


class LiveUserManager(BaseUserManager):
    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class SoftDeletedUser(AbstractBaseUser):
    username = models.CharField(max_length=50, unique=True)
    deleted = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    objects = LiveUserManager()

    USERNAME_FIELD = "username"
