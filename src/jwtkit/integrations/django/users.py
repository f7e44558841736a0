"""The user a token names: Simple JWT's ``get(**{USER_ID_FIELD: user_id})``, compiled once.

Simple JWT loads the user with ``User.objects.get(**{USER_ID_FIELD: user_id})`` on every request; most
of that call's CPU is the ORM building and compiling the same query again (a ``filter``, an
``order_by()``, ``LIMIT 21``, the SQL text). :func:`get_by_natural_id` runs the very query ``get``
would run, but compiles it once per (model, manager, database alias, type of the id) and, per
request, only prepares the id (the field's ``get_prep_value`` and ``get_db_prep_value``, through the
same lookup object the ORM builds), executes the cached SQL on the current connection's cursor and
turns the row into a model with ``Model.from_db``. Nothing about the user is cached: every request
reads the row, so a deactivated or deleted user is refused on their next request.

What stays identical: the database chosen per request (the manager's ``using``, else
``router.db_for_read``), the connection's cursor (``DEBUG`` query logging, ``assertNumQueries``,
``connection.execute_wrapper``), the field's conversion errors (``ValueError``, ``ValidationError``),
the converters applied to the row (``from_db_value``), ``DoesNotExist`` and ``MultipleObjectsReturned``
with ``get``'s messages, ``pre_init``/``post_init`` signals and ``_state.db``. Whatever the cached
form cannot reproduce takes the ORM's own path instead: a default manager that overrides
``get_queryset`` or uses its own ``QuerySet`` class, a queryset that adds filters, joins,
annotations or deferred fields, an id that is not an ``int`` or a ``str`` (or is ``""``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models.lookups import Lookup
from django.db.models.query import MAX_GET_RESULTS

Converter = Callable[[Any, Any, Any], Any]


@dataclass(slots=True)
class _Plan:
    """One compiled ``get`` query: its SQL, its single parameter's lookup, how a row becomes a model."""

    sql: str
    lookup: Lookup
    compiler: Any
    init_list: list[str]
    start: int
    end: int
    expressions: list[Any]
    converters: weakref.WeakKeyDictionary[Any, list[tuple[int, list[Converter], Any]]] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def converters_for(self, connection: Any) -> list[tuple[int, list[Converter], Any]]:
        """``compiler.get_converters`` for this connection (cached per connection object)."""
        found = self.converters.get(connection)
        if found is None:
            found = []
            for position, expression in enumerate(self.expressions):
                convs = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if convs:
                    found.append((position, convs, expression))
            self.converters[connection] = found
        return found


class _Fallback(Exception):
    """This call takes the ORM's own path."""


_plans: dict[tuple[Any, ...], _Plan | None] = {}
_plans_lock = threading.Lock()


def _fast_path_possible(manager: models.Manager[Any]) -> bool:
    return (
        type(manager).get_queryset is models.Manager.get_queryset
        and getattr(manager, "_queryset_class", None) is models.QuerySet
    )


def _get_queryset(manager: models.Manager[Any], field_name: str, value: Any) -> models.QuerySet[Any]:
    """The queryset ``manager.get(**{field_name: value})`` evaluates (``QuerySet.get``'s own steps)."""
    clone = manager.get_queryset().filter(**{field_name: value})
    clone = clone.order_by()
    clone.query.set_limits(high=MAX_GET_RESULTS)
    return clone


def _build_plan(manager: models.Manager[Any], field_name: str, value: Any, alias: str) -> _Plan | None:
    """Compile the query once; None when its form is not the one :class:`_Plan` reproduces."""
    queryset = _get_queryset(manager, field_name, value)
    if queryset.db != alias or queryset._known_related_objects or queryset._prefetch_related_lookups:
        return None
    query = queryset.query
    children = query.where.children
    if len(children) != 1 or not isinstance(children[0], Lookup):
        return None
    lookup = children[0]
    if lookup.bilateral_transforms or not lookup.rhs_is_direct_value() or lookup.rhs in (None, ""):
        return None
    compiler = query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
        _, lookup_params = lookup.process_rhs(compiler, compiler.connection)
    except EmptyResultSet:  # this value matches nothing (out of range): no plan from it, try the next one
        raise _Fallback from None
    if not sql or list(params) != list(lookup_params) or len(params) != 1:
        return None
    if compiler.has_extra_select or compiler.annotation_col_map or query.deferred_loading[0]:
        return None
    klass_info = compiler.klass_info
    if klass_info is None or klass_info.get("related_klass_infos") or klass_info["model"] is not manager.model:
        return None
    select = compiler.select
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _Plan(
        sql=sql,
        lookup=lookup,
        compiler=compiler,
        init_list=[column[0].target.attname for column in select[start:end]],
        start=start,
        end=end,
        expressions=[column[0] for column in select[: compiler.col_count]],
    )


def _plan(manager: models.Manager[Any], field_name: str, value: Any, alias: str) -> _Plan | None:
    key = (manager.model, id(manager), field_name, type(value), alias)
    try:
        return _plans[key]
    except KeyError:
        pass
    plan = _build_plan(manager, field_name, value, alias)  # raises _Fallback for a value it cannot learn from
    with _plans_lock:
        _plans[key] = plan
    return plan


def _run(plan: _Plan, model: type[models.Model], value: Any, alias: str) -> list[Any]:
    lookup = type(plan.lookup)(plan.lookup.lhs, value)  # the field's prep (and its errors), as in filter()
    if lookup.rhs is None or lookup.rhs == "":
        raise _Fallback
    connection = connections[alias]
    try:
        _, params = lookup.process_rhs(plan.compiler, connection)
    except EmptyResultSet:  # e.g. an integer out of the column's range: no row can match
        return []
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        rows: Sequence[Any] = cursor.fetchall()
    converters = plan.converters_for(connection) if rows else []
    objects = []
    for row in rows:
        if converters:
            row = list(row)
            for position, convs, expression in converters:
                item = row[position]
                for convert in convs:
                    item = convert(item, expression, connection)
                row[position] = item
        objects.append(model.from_db(alias, plan.init_list, row[plan.start : plan.end]))
    return objects


def get_by_natural_id(manager: models.Manager[Any], field_name: str, value: Any) -> Any:
    """``manager.get(**{field_name: value})``, the same query and errors, compiled once.

    Raises:
        Model.DoesNotExist, Model.MultipleObjectsReturned: as ``QuerySet.get``.
        ValueError, TypeError, ValidationError: ``value`` does not fit the field, as ``filter``.
    """
    model = manager.model
    if type(value) not in (int, str) or not _fast_path_possible(manager):
        return manager.get(**{field_name: value})
    alias = manager._db or router.db_for_read(model, **manager._hints)
    try:
        plan = _plan(manager, field_name, value, alias)
        if plan is None:
            return manager.get(**{field_name: value})
        objects = _run(plan, model, value, alias)
    except _Fallback:
        return manager.get(**{field_name: value})
    if len(objects) == 1:
        return objects[0]
    name = model._meta.object_name
    if not objects:
        raise model.DoesNotExist(f"{name} matching query does not exist.")
    count = len(objects) if len(objects) < MAX_GET_RESULTS else f"more than {MAX_GET_RESULTS - 1}"
    raise model.MultipleObjectsReturned(f"get() returned more than one {name} -- it returned {count}!")


def clear() -> None:
    """Forget the compiled queries (tests; a project's models do not change at run time)."""
    with _plans_lock:
        _plans.clear()
