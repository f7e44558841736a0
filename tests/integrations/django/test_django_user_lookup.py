"""The user lookup compiled once (``users.get_by_natural_id``) is ``manager.get(**{field: id})``: the same
row, the same model instance, the same errors, one query per call, for ``auth.User`` and custom models."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt import authentication as simplejwt_authentication

from django_project.custom_users.models import EmailUser, Employee, Nickname, SoftDeletedUser
from jwtkit.integrations.django import users
from jwtkit.integrations.django.authentication import JWTAuthentication
from jwtkit.integrations.django.tokens import AccessToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_compiled_queries():
    users.clear()
    yield
    users.clear()


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def loaded(manager, field, value):
    """Our lookup, twice: the first call compiles the query, the second uses it."""
    users.get_by_natural_id(manager, field, value)
    return users.get_by_natural_id(manager, field, value)


def test_auth_user_is_loaded_as_the_orm_loads_it(user):
    ours = loaded(get_user_model()._default_manager, "id", str(user.pk))
    theirs = get_user_model().objects.get(id=str(user.pk))
    assert type(ours) is type(theirs)
    assert fields(ours) == fields(theirs)
    assert ours.last_login is None
    assert ours.date_joined == theirs.date_joined
    assert (ours._state.db, ours._state.adding) == ("default", False)


def test_an_integer_id_is_loaded_as_a_string_id_is(user):
    assert loaded(get_user_model()._default_manager, "id", user.pk).pk == user.pk


def test_a_uuid_key_and_from_db_value_are_converted_as_by_the_orm():
    created = EmailUser.objects.create(email="u@example.com", nickname="Zed")
    ours = loaded(EmailUser._default_manager, "id", str(created.pk))
    assert fields(ours) == fields(EmailUser.objects.get(id=str(created.pk)))
    assert isinstance(ours.id, uuid.UUID)
    assert type(ours.nickname) is Nickname


def test_a_field_other_than_the_key_is_looked_up():
    created = EmailUser.objects.create(email="v@example.com")
    assert loaded(EmailUser._default_manager, "email", "v@example.com").pk == created.pk


def test_a_subclassed_user_model_loads_its_parents_fields_through_the_join():
    created = Employee.objects.create(email="w@example.com", nickname="Dub", badge="B-7")
    ours = loaded(Employee._default_manager, "id", str(created.pk))
    assert type(ours) is Employee
    assert fields(ours) == fields(Employee.objects.get(id=created.pk))
    assert (ours.email, ours.badge) == ("w@example.com", "B-7")


@pytest.mark.parametrize(("manager", "field"), [(EmailUser._default_manager, "id"), (Employee._default_manager, "id")])
def test_the_sql_is_compiled_by_the_first_call_only(monkeypatch, manager, field):
    created = manager.create(email="c@example.com")
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k))
    users.get_by_natural_id(manager, field, str(created.pk))
    first = len(compiled)
    users.get_by_natural_id(manager, field, str(created.pk))
    assert (first, len(compiled)) == (1, 1)


def test_a_default_manager_that_filters_is_obeyed():
    hidden = SoftDeletedUser.objects.create(username="gone", deleted=True)
    with pytest.raises(SoftDeletedUser.DoesNotExist, match=r"^SoftDeletedUser matching query does not exist\.$"):
        users.get_by_natural_id(SoftDeletedUser._default_manager, "id", hidden.pk)


def test_a_missing_row_is_the_orms_does_not_exist(user):
    manager = get_user_model()._default_manager
    loaded(manager, "id", user.pk)
    with pytest.raises(get_user_model().DoesNotExist, match=r"^User matching query does not exist\.$"):
        users.get_by_natural_id(manager, "id", user.pk + 1000)


def test_an_id_out_of_the_columns_range_is_not_found(user):
    manager = get_user_model()._default_manager
    loaded(manager, "id", user.pk)
    with pytest.raises(get_user_model().DoesNotExist):
        users.get_by_natural_id(manager, "id", 2**70)


def test_an_id_the_field_cannot_take_raises_the_orms_error(user):
    manager = get_user_model()._default_manager
    loaded(manager, "id", str(user.pk))
    with pytest.raises(ValueError, match="expected a number") as theirs:
        manager.get(id="not-a-number")
    with pytest.raises(ValueError, match="expected a number") as ours:
        users.get_by_natural_id(manager, "id", "not-a-number")
    assert str(ours.value) == str(theirs.value) == "Field 'id' expected a number but got 'not-a-number'."


def test_a_field_that_is_not_unique_raises_multiple_objects_returned(db):
    model = get_user_model()
    for name in ("a", "b"):
        model.objects.create_user(username=name, first_name="Sam")
    with pytest.raises(model.MultipleObjectsReturned) as theirs:
        model.objects.get(first_name="Sam")
    with pytest.raises(model.MultipleObjectsReturned) as ours:
        loaded(model._default_manager, "first_name", "Sam")
    assert str(ours.value) == str(theirs.value) == "get() returned more than one User -- it returned 2!"


def test_every_call_reads_the_row_so_a_deactivated_user_is_seen_inactive(user):
    manager = get_user_model()._default_manager
    assert loaded(manager, "id", user.pk).is_active is True
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    with CaptureQueriesContext(connection) as queries:
        assert users.get_by_natural_id(manager, "id", user.pk).is_active is False
    assert len(queries) == 1


def test_the_query_sent_is_the_orms_own(user):
    manager = get_user_model()._default_manager
    loaded(manager, "id", user.pk)
    with CaptureQueriesContext(connection) as theirs:
        manager.get(id=user.pk)
    with CaptureQueriesContext(connection) as ours:
        users.get_by_natural_id(manager, "id", user.pk)
    assert [q["sql"] for q in ours.captured_queries] == [q["sql"] for q in theirs.captured_queries]


def test_the_router_chooses_the_database_on_every_call(user):
    class Router:
        calls = 0

        def db_for_read(self, model, **hints):
            Router.calls += 1
            return "default"

    manager = get_user_model()._default_manager
    loaded(manager, "id", user.pk)  # compiled before the router exists
    with override_settings(DATABASE_ROUTERS=[Router()]):
        users.get_by_natural_id(manager, "id", user.pk)
        users.get_by_natural_id(manager, "id", user.pk)
    assert Router.calls == 2


def test_jwt_authentication_refuses_a_user_deactivated_after_an_accepted_request(user):
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}"))
    assert JWTAuthentication().authenticate(request)[0] == user
    user.is_active = False
    user.save()
    with pytest.raises(Exception, match="User is inactive"):
        JWTAuthentication().authenticate(request)


@override_settings(AUTH_USER_MODEL="custom_users.EmailUser")
def test_with_a_custom_user_model_ours_and_simple_jwts_authenticate_the_same_user():
    created = EmailUser.objects.create(email="x@example.com", nickname="Ex")
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(created)}"))
    ours, _ = JWTAuthentication().authenticate(request)
    ours_again, _ = JWTAuthentication().authenticate(request)
    theirs, _ = simplejwt_authentication.JWTAuthentication().authenticate(request)
    assert type(ours) is type(theirs) is EmailUser
    assert fields(ours) == fields(ours_again) == fields(theirs)
