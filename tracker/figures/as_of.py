"""Each task as it stood at a past moment, read from the history (TaskEvent) in one pass.

An as-of rollup needs, for every task, three things as they stood just before a cutoff (the
end of a day, Asia/Shanghai): its status, the deadline in force and when it was last closed.
Instead of three correlated subqueries per task, one pass over the history reads them all:

    SELECT task_id, status, moved_to, closed_at FROM (          -- the events before the cutoff,
        SELECT task_id,                                         -- each task's newest first
               ROW_NUMBER() OVER w AS latest,                   -- 1: the newest event
               COUNT(<deadline move>) OVER w AS moves, ...      -- 1: from the newest move on
        FROM tracker_taskevent WHERE at < cutoff) e
    GROUP BY task_id                                            -- one row per task

The status is the newest event's to_status, the deadline moved to is the newest move's (the
first row where the running count of moves is 1), the closing time the latest closing event.
Both windows share one partition and order, so the database sorts once (or reads an index in
that order). The derived table is INNER JOINed to the task queryset: a task with no event
before the cutoff did not exist yet and drops out. Window functions and CASE are portable
(PostgreSQL, and SQLite for the embedded run).
"""

import datetime as dt

from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Subquery,
    When,
    Window,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, RowNumber
from django.db.models.sql.constants import INNER
from django.utils.functional import cached_property

from tracker.models import Task, TaskEvent, TaskStatus
from tracker.selectors import DEADLINE_MOVE_Q, deadline_in_force

S = TaskStatus

# The aliases a task queryset gets (tracker.figures.rollups reads them through AS_OF_FIELDS).
STATUS = "as_of_status"
DEADLINE = "as_of_deadline"
CLOSED_AT = "as_of_closed"
ON_TIME = "as_of_on_time"

# A closing (销号): an event that moved the task into completed from another status.
CLOSING_Q = Q(to_status=S.COMPLETED) & ~Q(from_status=S.COMPLETED)

HISTORY_ALIAS = "as_of_history"


def _newest_first_window(expression) -> Window:
    # One window for both functions (ROW_NUMBER ignores the frame; (at, id) has no peers), so
    # the database computes them in one sorted pass.
    return Window(
        expression,
        partition_by=[F("task_id")],
        order_by=[F("at").desc(), F("id").desc()],
        frame=RowRange(start=None, end=0),
    )


def history_state_sql(
    cutoff: dt.datetime, using: str, tasks: QuerySet[Task] | None = None
) -> tuple[str, list]:
    """The one pass: (task_id, status, moved_to, closed_at) of every task with an event before
    `cutoff` (among `tasks`, if given), as SQL and its parameters for the database `using`."""
    events = TaskEvent.objects.using(using).filter(at__lt=cutoff)
    if tasks is not None:
        events = events.filter(task_id__in=tasks.values("pk"))
    events = (
        events
        .annotate(
            move=Case(When(DEADLINE_MOVE_Q, then=F("deadline_to")), output_field=DateField()),
            closing=Case(When(CLOSING_Q, then=F("at")), output_field=DateTimeField()),
        )
        .annotate(
            latest=_newest_first_window(RowNumber()),
            moves=_newest_first_window(Count("move")),
        )
        .values("task_id", "to_status", "move", "closing", "latest", "moves")
        .order_by()
    )
    # elide_empty=False: tasks nobody may see compile to an always-false condition, not an error.
    inner, params = events.query.get_compiler(using=using, elide_empty=False).as_sql()
    qn = connections[using].ops.quote_name
    # `moves` is 1 on the newest move and on the older non-moves below it (whose `move` is
    # NULL), so the MAX over those rows is where the newest move landed.
    sql = (
        f"SELECT e.{qn('task_id')} AS {qn('task_id')}, "
        f"MAX(CASE WHEN e.{qn('latest')} = 1 THEN e.{qn('to_status')} END) AS {qn('status')}, "
        f"MAX(CASE WHEN e.{qn('moves')} = 1 THEN e.{qn('move')} END) AS {qn('moved_to')}, "
        f"MAX(e.{qn('closing')}) AS {qn('closed_at')} "
        f"FROM ({inner}) e GROUP BY e.{qn('task_id')}"
    )
    return sql, list(params)


class _HistoryJoin:
    """`INNER JOIN (<one pass>) as_of_history ON as_of_history.task_id = <task>.id`: an entry
    of Query.alias_map (the interface django.db.models.sql.datastructures.Join documents)."""

    filtered_relation = None
    nullable = False

    def __init__(self, sql: str, params: list, parent_alias: str, table_alias=HISTORY_ALIAS):
        self.sql, self.params = sql, params
        self.table_name = HISTORY_ALIAS
        self.table_alias = table_alias
        self.parent_alias = parent_alias
        self.join_type = INNER

    def as_sql(self, compiler, connection):
        qn = compiler.quote_name_unless_alias
        on = (f"{qn(self.table_alias)}.{connection.ops.quote_name('task_id')} = "
              f"{qn(self.parent_alias)}.{connection.ops.quote_name(Task._meta.pk.column)}")
        return f"INNER JOIN ({self.sql}) {qn(self.table_alias)} ON ({on})", self.params

    def relabeled_clone(self, change_map):
        return _HistoryJoin(
            self.sql,
            self.params,
            change_map.get(self.parent_alias, self.parent_alias),
            change_map.get(self.table_alias, self.table_alias),
        )

    @property
    def identity(self):
        return (self.__class__, self.sql, tuple(map(str, self.params)), self.parent_alias)

    def __eq__(self, other):
        return isinstance(other, _HistoryJoin) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)

    def demote(self):
        return self

    def promote(self):
        return self


class _HistoryColumn(Expression):
    """A column of the joined one pass (`as_of_history.status`), relabelled with the query."""

    def __init__(self, alias: str, column: str, output_field):
        super().__init__(output_field=output_field)
        self.alias, self.column = alias, column

    def as_sql(self, compiler, connection):
        qn = compiler.quote_name_unless_alias
        return f"{qn(self.alias)}.{connection.ops.quote_name(self.column)}", []

    def relabeled_clone(self, change_map):
        return _HistoryColumn(
            change_map.get(self.alias, self.alias), self.column, self.output_field
        )

    def get_group_by_cols(self):
        return [self]

    @cached_property
    def identity(self):
        return (self.__class__, self.alias, self.column)


def with_state_as_of(
    qs: QuerySet[Task], cutoff: dt.datetime, *, narrow: bool = True
) -> QuerySet[Task]:
    """`qs` narrowed to the tasks that existed before `cutoff`, with aliases STATUS, DEADLINE
    (tracker.selectors.deadline_in_force), CLOSED_AT and ON_TIME as they stood then.

    `narrow`: the pass reads only the history of the tasks in `qs` when `qs` is filtered (an
    officer's, a district's tasks). A hint only (the join narrows anyway): False where the
    filter is known to keep the whole ledger, so it is not evaluated twice."""
    qs = qs.all()
    query = qs.query
    sql, params = history_state_sql(cutoff, qs.db, qs if narrow and query.where else None)
    alias = query.join(_HistoryJoin(sql, params, query.get_initial_alias()))
    return qs.alias(
        **{
            STATUS: _HistoryColumn(alias, "status", CharField(max_length=30)),
            DEADLINE: deadline_in_force(latest_move=_HistoryColumn(alias, "moved_to", DateField())),
            CLOSED_AT: _HistoryColumn(alias, "closed_at", DateTimeField()),
        }
    ).alias(
        **{
            ON_TIME: ExpressionWrapper(
                Q(**{f"{DEADLINE}__isnull": True})
                | Q(**{f"{CLOSED_AT}__date__lte": F(DEADLINE)}),
                output_field=BooleanField(),
            )
        }
    )


def lead_unit_as_of(
    moment, *, task: str = "pk", leading_now: str = "lead_unit", strictly_after: bool = False
) -> Expression:
    """The task's lead unit as it stood at `moment` (a datetime, or an OuterRef to an event's
    time): the unit the first later move took the task from, else the unit leading it now.

    Over Task by default; over TaskEvent pass task="task", leading_now="task__lead_unit" and
    moment=OuterRef("at") with strictly_after (the event's own moment is before any move
    made after it). A move is an edit of the lead unit (TaskEvent.lead_unit_from /
    lead_unit_to, typed); moves are rare and read through their own partial index."""
    later = Q(at__gt=moment) if strictly_after else Q(at__gte=moment)
    first_later_move = (
        TaskEvent.objects.filter(later, task=OuterRef(task), lead_unit_from__isnull=False)
        .order_by("at", "id").values("lead_unit_from")[:1]
    )
    return Coalesce(Subquery(first_later_move), F(leading_now), output_field=BigIntegerField())
