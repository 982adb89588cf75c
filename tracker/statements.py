"""Compiled statements of the pages' and the API's frequent reads, reused.

Building a list's queryset (the visibility rule's subqueries, the joins, the ordering) and
compiling it to SQL cost more CPU than running it: for a request without filters the SQL
depends only on what the visibility rule reads of the user (tracker.access.visible_tasks_key)
and on the pagination's ordering, position and page size. ReusedStatement stands in for the
list's values() queryset inside a paginator (DRF's CursorPagination for the API, 我的任务's
tracker.web.pagination.CappedPaginator): it records the paginator's order_by/filter/values/
slice, and on iteration (or count()) runs the SQL compiled for the same key and steps before,
or builds the real queryset, compiles it once and keeps it. The rows are the ORM's (the same
statement, the same converters, the same dicts; the count is Django's own
`SELECT COUNT(*) FROM (…) subquery`); the statement runs through the connection's cursor, so
it is logged and counted like any other.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

MAX_STATEMENTS = 256  # keys are (scope, ordering, position, size): a few per user and list


@dataclass(frozen=True)
class Statement:
    sql: str  # empty: a query that matches nothing (Django's EmptyResultSet), never run
    params: tuple
    names: tuple[str, ...]
    converters: tuple  # (position, (converter functions, expression)), as the compiler's


def compile_rows(queryset: QuerySet) -> Statement:
    """`queryset` (a values() queryset) as its SQL, column names and converters."""
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        sql, params = "", ()
    names = tuple(query.selected) if query.selected else (
        *query.extra_select, *query.values_select, *query.annotation_select)
    fields = [s[0] for s in compiler.select[0:compiler.col_count]]
    converters = tuple(compiler.get_converters(fields).items())
    return Statement(sql, tuple(params), names, converters)


class _Cache:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key) -> Statement | None:
        with self.lock:
            statement = self.items.get(key)
            if statement is not None:
                self.items.move_to_end(key)
            return statement

    def put(self, key, statement: Statement) -> None:
        with self.lock:
            self.items[key] = statement
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


statements = _Cache(MAX_STATEMENTS)
# Statements that differ by user alone (a count of their unread messages, their saved filters):
# kept apart, so that many users' statements never push the lists' out.
MAX_USER_STATEMENTS = 4096
user_statements = _Cache(MAX_USER_STATEMENTS)


class ReusedStatement:
    """The rows of `build()` (a values() queryset) as narrowed by order_by, filter and one
    slice, from the statement compiled before for `key` and the same narrowing. `key` must
    determine build()'s SQL."""

    def __init__(self, build: Callable[[], QuerySet], key: Hashable, using: str = "default",
                 steps: tuple = (), kept: _Cache = statements):
        self.build, self.key, self.using, self.steps = build, key, using, steps
        self.kept = kept

    def _then(self, step) -> "ReusedStatement":
        return ReusedStatement(self.build, self.key, self.using, (*self.steps, step),
                               self.kept)

    def order_by(self, *fields):
        return self._then(("order_by", fields))

    def filter(self, **lookups):
        return self._then(("filter", tuple(sorted(lookups.items()))))

    def values(self, *fields):
        return self._then(("values", fields))

    def __getitem__(self, k):
        if not isinstance(k, slice) or k.step is not None:
            raise TypeError("ReusedStatement takes one slice without a step")
        return self._then(("slice", k.start, k.stop))

    def queryset(self) -> QuerySet:
        """The real queryset: build() narrowed by the recorded steps."""
        queryset = self.build()
        for step in self.steps:
            if step[0] == "order_by":
                queryset = queryset.order_by(*step[1])
            elif step[0] == "filter":
                queryset = queryset.filter(**dict(step[1]))
            elif step[0] == "values":
                queryset = queryset.values(*step[1])
            else:
                queryset = queryset[step[1]:step[2]]
        return queryset

    def _statement(self) -> Statement:
        key = (self.key, self.steps)
        statement = self.kept.get(key)
        if statement is None:
            statement = compile_rows(self.queryset())
            self.kept.put(key, statement)
        return statement

    def count(self) -> int:
        """The number of rows, as QuerySet.count() counts a sliced or distinct query: the
        rows' statement as a subquery of SELECT COUNT(*)."""
        statement = self._statement()
        if not statement.sql:
            return 0
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({statement.sql}) subquery", statement.params)
            return cursor.fetchone()[0]

    def __iter__(self):
        statement = self._statement()
        if not statement.sql:
            return
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            rows = cursor.fetchall()
        names, converters = statement.names, statement.converters
        for row in rows:
            if converters:
                row = list(row)
                for position, (functions, expression) in converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
            yield dict(zip(names, row, strict=True))
