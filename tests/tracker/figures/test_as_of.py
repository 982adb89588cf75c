"""As-of rollups read in one pass over the history (tracker.figures.as_of) give exactly the
figures of the former implementation (three correlated subqueries per task, kept below as the
reference) on random histories: several transitions, deadline extensions and edits, reopening
after closing, edits of a completed task, events tied at the same instant, events at the day
boundary (23:59:59.999999 vs 00:00 Asia/Shanghai) and tasks created after the cutoff.

Runs on SQLite and on PostgreSQL (DATABASE_URL).
"""

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.figures import as_of, rollups
from tracker.figures.rollups import Grouping, RollupFilters, overdue_tasks, rollup
from tracker.models import InspectionKind, Task, TaskAction, TaskEvent, TaskStatus, TaskType
from tracker.selectors import deadline_in_force

pytestmark = pytest.mark.django_db

S = TaskStatus
BEIJING = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)  # the middle of the days the histories span
DAYS = [DAY + dt.timedelta(days=n) for n in (-1, 0, 1)]  # the days the figures are read as of
TIMES = [
    dt.time(0, 0),
    dt.time(0, 0, 1),
    dt.time(9, 30),
    dt.time(23, 59, 59),
    dt.time(23, 59, 59, 999999),
]
DEADLINES = [None] + [DAY + dt.timedelta(days=n) for n in (-4, -1, 0, 1, 3, 12, 40)]
STATUSES = [S.NOT_STARTED, S.IN_PROGRESS, S.SUBMITTED, S.COMPLETED, S.BASICALLY_COMPLETED,
            S.LONG_TERM]


# --- The reference: the former implementation, verbatim but for the deadline's spelling -----


def reference_as_of_aliases(qs, cutoff, **_):
    """Three correlated subqueries per task (the implementation before the one pass)."""
    events = TaskEvent.objects.filter(task=OuterRef("pk"))
    last_status = events.filter(at__lt=cutoff).order_by("-at", "-id").values("to_status")[:1]
    last_close = (
        events.filter(at__lt=cutoff, to_status=S.COMPLETED)
        .exclude(from_status=S.COMPLETED)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    latest_move = (
        TaskEvent.objects.filter(task=OuterRef("pk"), deadline_to__isnull=False, at__lt=cutoff)
        .order_by("-at", "-id")
        .values("deadline_to")[:1]
    )
    return (
        qs.alias(
            as_of_status=Subquery(last_status),
            as_of_deadline=deadline_in_force(latest_move=Subquery(latest_move)),
            as_of_closed=Subquery(last_close, output_field=DateTimeField()),
        )
        .alias(
            as_of_on_time=ExpressionWrapper(
                Q(as_of_deadline__isnull=True)
                | Q(as_of_closed__date__lte=F("as_of_deadline")),
                output_field=BooleanField(),
            )
        )
        .filter(as_of_status__isnull=False)
    )


def reference(call, **kwargs):
    with mock.patch.object(rollups, "_as_of_aliases", reference_as_of_aliases):
        return call(**kwargs)


def table(result: rollups.Rollup) -> list:
    return [(row.key, row.label, row.figures) for row in result.rows] + [result.total]


# --- Random histories ---------------------------------------------------------------------

instants = st.builds(
    lambda day, time: dt.datetime.combine(DAY + dt.timedelta(days=day), time, tzinfo=BEIJING),
    st.integers(-2, 2),
    st.sampled_from(TIMES),
)
steps = st.tuples(
    st.sampled_from(["status", "status", "extend", "edit_deadline", "edit"]),
    st.sampled_from(STATUSES),
    st.sampled_from(DEADLINES[1:]),
    instants,
)
task_histories = st.lists(
    st.tuples(
        st.integers(0, 2),  # lead unit: bureau, county, town
        st.integers(0, 1),  # problem (inspection, kind, aspect)
        st.sampled_from(DEADLINES),  # original deadline
        instants,  # created at
        st.lists(steps, max_size=6),
    ),
    min_size=1,
    max_size=7,
)


def _task_type(deadline):
    return TaskType.LONG_TERM if deadline is None else TaskType.BY_DEADLINE


def build(histories, units, problems) -> None:
    """Tasks and their typed history; each step happens at or after the previous one (ties
    included), so the latest event is decided by (at, id) as the services write them."""
    for lead, problem, original, created, history in histories:
        task = TaskFactory(problem=problems[problem], lead_unit=units[lead], deadline=original,
                           original_deadline=original, task_type=_task_type(original))
        events = [TaskEvent(task=task, at=created, action=TaskAction.CREATE, from_status="",
                            to_status=S.NOT_STARTED)]
        status, deadline, at = S.NOT_STARTED, original, created
        for kind, to_status, moved_to, when in sorted(history, key=lambda step: step[3]):
            at = max(at, when)
            event = TaskEvent(task=task, at=at, from_status=status, to_status=status)
            if kind == "status":
                event.action = TaskAction.REOPEN if status == S.COMPLETED else TaskAction.START
                event.to_status = status = to_status
            elif kind == "extend" and deadline is not None:
                event.action = TaskAction.EXTEND_DEADLINE
                event.deadline_from, event.deadline_to = deadline, moved_to
                deadline = moved_to
            elif kind == "edit_deadline":  # an edit that sets or moves the deadline
                event.action = TaskAction.EDIT
                event.deadline_from, event.deadline_to = deadline, moved_to
                deadline = moved_to
            else:  # an edit of other fields: not a move
                event.action = TaskAction.EDIT
            events.append(event)
        TaskEvent.objects.bulk_create(events)


@pytest.fixture
def problems():
    return [
        ProblemFactory(inspection=InspectionFactory(kind=InspectionKind.CITY_PATROL)),
        ProblemFactory(inspection=InspectionFactory(kind=InspectionKind.CENTRAL_INSPECTION),
                       aspect="选人用人方面"),
    ]


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories=task_histories, day=st.sampled_from(DAYS))
def test_one_pass_gives_the_former_figures_on_random_histories(
    histories, day, bureau, county, town, chief, sam, alice, problems
):
    with transaction.atomic():
        build(histories, [bureau, county, town], problems)
        for user in (chief, sam, alice):
            filters = RollupFilters(as_of=day)
            for group_by in Grouping.values:
                kwargs = {"user": user, "group_by": group_by, "filters": filters}
                assert table(rollup(**kwargs)) == table(reference(rollup, **kwargs)), group_by
            assert overdue_tasks(user=user, filters=filters) == reference(
                overdue_tasks, user=user, filters=filters
            )
        narrowed = RollupFilters(as_of=day, unit=county, deadline_from=DAY,
                                 deadline_to=DAY + dt.timedelta(days=12))
        for group_by in (Grouping.TOTAL, Grouping.MONTH):
            kwargs = {"user": chief, "group_by": group_by, "filters": narrowed}
            assert table(rollup(**kwargs)) == table(reference(rollup, **kwargs))
        transaction.set_rollback(True)


def _task(units, created, original=None):
    task = TaskFactory(lead_unit=units, deadline=original, original_deadline=original,
                       task_type=_task_type(original))
    TaskEvent.objects.create(task=task, at=created, action=TaskAction.CREATE, from_status="",
                             to_status=S.NOT_STARTED)
    return task


def _event(task, at, action, from_status, to_status, **moved):
    TaskEvent.objects.create(task=task, at=at, action=action, from_status=from_status,
                             to_status=to_status, **moved)


def test_the_day_boundary_and_the_state_each_task_had(bureau, chief):
    """Written out: what each task was at the end of 3月10日 (Beijing)."""
    last_instant = dt.datetime.combine(DAY, dt.time(23, 59, 59, 999999), tzinfo=BEIJING)
    next_day = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(0, 0), tzinfo=BEIJING)
    morning = dt.datetime.combine(DAY - dt.timedelta(days=3), dt.time(9), tzinfo=BEIJING)
    # Closed at the day's last instant, on its deadline (moved there by an extension).
    closed = _task(bureau, morning, DAY - dt.timedelta(days=2))
    _event(closed, morning, TaskAction.EXTEND_DEADLINE, S.NOT_STARTED, S.NOT_STARTED,
           deadline_from=DAY - dt.timedelta(days=2), deadline_to=DAY)
    _event(closed, last_instant, TaskAction.CLOSE, S.SUBMITTED, S.COMPLETED)
    # Reopened at the next midnight: still closed on the day.
    _event(closed, next_day, TaskAction.REOPEN, S.COMPLETED, S.IN_PROGRESS)
    # Extended at the next midnight: overdue on the day (the old deadline is in force).
    late = _task(bureau, morning, DAY - dt.timedelta(days=1))
    _event(late, next_day, TaskAction.EXTEND_DEADLINE, S.NOT_STARTED, S.NOT_STARTED,
           deadline_from=DAY - dt.timedelta(days=1), deadline_to=DAY + dt.timedelta(days=30))
    # Created at the next midnight: not counted.
    _task(bureau, next_day, DAY)

    result = rollup(user=chief, filters=RollupFilters(as_of=DAY))
    f = result.total
    assert (f.total, f.completed, f.closed_on_time, f.not_started, f.overdue) == (2, 1, 1, 1, 1)
    assert [t.id for t in overdue_tasks(user=chief, filters=RollupFilters(as_of=DAY))] == [
        late.id
    ]
    after = rollup(user=chief, filters=RollupFilters(as_of=DAY + dt.timedelta(days=1))).total
    assert (after.total, after.completed, after.in_progress, after.overdue) == (3, 0, 1, 2)


def test_a_user_who_sees_nothing_gets_zeros(bureau, chief):
    _task(bureau, dt.datetime.combine(DAY, dt.time(9), tzinfo=BEIJING), DAY)
    chief.is_active = False
    assert rollup(user=chief, filters=RollupFilters(as_of=DAY)).total == rollups.Figures()
    assert overdue_tasks(user=chief, filters=RollupFilters(as_of=DAY + dt.timedelta(days=3))) == []
    chief.is_active = True
    assert rollup(user=chief, filters=RollupFilters(as_of=DAY)).total.total == 1


def test_constant_queries_and_one_history_pass(bureau, chief, problems):
    """The as-of aggregate is one statement whatever the number of tasks, and it reads the
    history once (no correlated subquery per task)."""
    morning = dt.datetime.combine(DAY, dt.time(9), tzinfo=BEIJING)

    def statements(n: int) -> list[str]:
        for _ in range(n):
            _task(bureau, morning, DAY)
        with CaptureQueriesContext(connection) as captured:
            rollup(user=chief, group_by=Grouping.INSPECTION, filters=RollupFilters(as_of=DAY))
        return [q["sql"] for q in captured.captured_queries]

    statements(0)  # the working-day calendar is read once per process
    small, large = statements(2), statements(20)
    assert len(small) == len(large)
    aggregate = next(sql for sql in large if as_of.HISTORY_ALIAS in sql)
    history = f"FROM {connection.ops.quote_name(TaskEvent._meta.db_table)}"
    assert aggregate.count(history) == 1
    assert Task.objects.count() == 22
