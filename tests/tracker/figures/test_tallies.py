"""TaskTally: the maintained counts stay exact through every write path, and the rollups read
from them equal the scan (the reference) for every grouping, role, filter and day."""

import contextlib
import datetime as dt
from types import SimpleNamespace
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.tracker.factories import (
    InspectionFactory,
    ProblemFactory,
    TaskFactory,
    TaskRecheckFactory,
    UserFactory,
)
from tracker import access, deadlines
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.figures.rollups import (
    Grouping,
    RollupFilters,
    Source,
    rollup,
    rollup_as_dict,
    rollups,
    served_by_tallies,
)
from tracker.figures.tallies import tally_check, tally_rebuild
from tracker.models import (
    NO_DEADLINE_MONTH,
    InspectionKind,
    Problem,
    Task,
    TaskEvent,
    TaskMonthTally,
    TaskRecheck,
    TaskStatus,
    TaskTally,
    TaskType,
    Unit,
    User,
)
from tracker.services import tasks as task_services
from tracker.services.extensions import extension_approve, extension_request
from tracker.services.inspections import problem_update
from tracker.services.rechecks import (
    recheck_confirm,
    recheck_fail,
    recheck_mark_due,
    recheck_report,
)
from tracker.services.units import unit_move

pytestmark = pytest.mark.django_db

S = TaskStatus
BEIJING = ZoneInfo("Asia/Shanghai")
BASE = dt.date(2026, 11, 20)
# Midnight in Beijing: transitions at BASE_AT ± minutes close on either side of a local day.
BASE_AT = dt.datetime.combine(BASE, dt.time(0, 0), tzinfo=BEIJING)


def tally(**key) -> TaskTally:
    return TaskTally.objects.get(**key)


# --- The triggers, whatever writes the task ----------------------------------------------


def test_bulk_create_update_and_delete_keep_the_tallies_exact(bureau, town):
    problem = ProblemFactory(aspect="方面一")
    deadline = dt.date(2026, 12, 31)
    Task.objects.bulk_create(
        [
            TaskFactory.build(problem=problem, lead_unit=bureau, deadline=deadline, status=status)
            for status in (S.NOT_STARTED, S.IN_PROGRESS, S.COMPLETED, S.LONG_TERM)
        ]
    )
    key = {"lead_unit": bureau, "inspection": problem.inspection, "aspect": "方面一",
           "deadline_month": dt.date(2026, 12, 1)}
    row = tally(**key)
    assert (row.total, row.not_started, row.in_progress, row.completed, row.long_term) == (
        4, 1, 1, 1, 1,
    )
    assert row.lit == 2  # not started and in progress: a deadline and not closed
    assert tally_check() == []

    # A queryset update moves tasks to another key (lead unit, deadline month).
    Task.objects.filter(status=S.IN_PROGRESS).update(lead_unit=town, deadline=dt.date(2027, 1, 5))
    assert tally(**key).total == 3
    moved = tally(lead_unit=town, deadline_month=dt.date(2027, 1, 1))
    assert (moved.total, moved.in_progress, moved.lit) == (1, 1, 1)
    Task.objects.filter(status=S.NOT_STARTED).update(status=S.SUBMITTED,
                                                     completed_at=F("created_at"))
    assert (tally(**key).not_started, tally(**key).submitted) == (0, 1)
    assert tally_check() == []

    # Deleting every task deletes the rows (a unit or inspection without tasks leaves none).
    TaskEvent.objects.all().delete()
    Task.objects.all().delete()
    assert not TaskTally.objects.exists()
    assert not TaskMonthTally.objects.exists()
    assert tally_check() == []


def test_a_problem_s_new_aspect_moves_its_tasks(bureau, root_admin):
    problem = ProblemFactory(aspect="方面一", inspection__target_unit=None)
    TaskFactory.create_batch(2, problem=problem, lead_unit=bureau)
    TaskFactory(problem=problem, lead_unit=bureau, deadline=None, task_type=TaskType.LONG_TERM,
                original_deadline=None)
    problem_update(problem=problem, actor=root_admin, aspect="方面二")
    assert not TaskTally.objects.filter(aspect="方面一").exists()
    assert sorted(TaskTally.objects.filter(aspect="方面二").values_list("deadline_month", "total")
                  ) == [(NO_DEADLINE_MONTH, 1), (dt.date(2026, 12, 1), 2)]
    Problem.objects.filter(pk=problem.pk).update(aspect="")  # a raw update too
    assert TaskTally.objects.filter(aspect="").count() == 2
    assert tally_check() == []


@pytest.mark.parametrize(
    ("closed_local", "on_time"),
    [
        (dt.datetime(2026, 12, 31, 23, 30), True),  # 15:30 UTC the same day
        (dt.datetime(2027, 1, 1, 0, 30), False),  # 16:30 UTC on the deadline day
    ],
)
def test_closed_on_time_reads_the_beijing_date(bureau, closed_local, on_time):
    closed_at = closed_local.replace(tzinfo=BEIJING)
    task = TaskFactory(lead_unit=bureau, deadline=dt.date(2026, 12, 31), status=S.COMPLETED,
                       closed_at=closed_at, completed_at=closed_at)
    assert tally(lead_unit=bureau, inspection=task.inspection).closed_on_time == int(on_time)
    assert tally_check() == []


def test_the_command_checks_and_rebuilds(bureau, capsys):
    TaskFactory.create_batch(3, lead_unit=bureau, problem=ProblemFactory())
    call_command("tallies", "--check")
    assert "任务计数核对一致" in capsys.readouterr().out
    TaskTally.objects.update(completed=F("completed") + 1)  # a corrupted row
    with pytest.raises(CommandError, match="任务计数与按任务重新统计的结果不一致：1个分组不符"):
        call_command("tallies", "--check")
    assert "已完成整改（已销号）维护1/重新统计0" in capsys.readouterr().err
    call_command("tallies", "--rebuild")
    assert "任务计数已重建：共1个分组" in capsys.readouterr().out
    assert tally_check() == []
    assert TaskTally.objects.get().completed == 0


def test_the_month_table_sums_the_aspects_and_the_check_reads_it(bureau, capsys):
    inspection = InspectionFactory()
    for aspect in ("方面一", "方面二", "方面二"):
        TaskFactory(lead_unit=bureau, problem=ProblemFactory(inspection=inspection, aspect=aspect),
                    deadline=dt.date(2026, 12, 31), status=S.IN_PROGRESS)
    assert TaskTally.objects.count() == 2
    month = TaskMonthTally.objects.get()
    assert (month.total, month.in_progress, month.lit) == (3, 3, 3)
    TaskMonthTally.objects.update(lit=F("lit") - 1)
    with pytest.raises(CommandError, match="1个分组不符"):
        call_command("tallies", "--check")
    assert "不一致（任务月计数）" in capsys.readouterr().err
    tally_rebuild()
    assert TaskMonthTally.objects.get().lit == 3
    assert tally_check() == []


def test_rebuild_writes_what_the_triggers_maintain(bureau, town):
    TaskFactory.create_batch(2, lead_unit=bureau, status=S.IN_PROGRESS)
    TaskFactory(lead_unit=town, status=S.COMPLETED, deadline=dt.date(2026, 1, 3))
    TaskFactory(lead_unit=town, deadline=None, task_type=TaskType.LONG_TERM,
                original_deadline=None, status=S.LONG_TERM)
    fields = ["lead_unit_id", "inspection_id", "aspect", "deadline_month", "total",
              "in_progress", "completed", "long_term", "closed_on_time", "lit"]
    maintained = sorted(TaskTally.objects.values_list(*fields))
    month_fields = [name for name in fields if name != "aspect"]
    by_month = sorted(TaskMonthTally.objects.values_list(*month_fields))
    assert tally_rebuild() == len(maintained) == 4
    assert sorted(TaskTally.objects.values_list(*fields)) == maintained
    assert sorted(TaskMonthTally.objects.values_list(*month_fields)) == by_month


def test_the_lit_index_has_exactly_the_light_rule():
    index = next(i for i in Task._meta.indexes if i.name == "task_lit_deadline")
    assert str(Task.objects.filter(index.condition).query) == str(
        Task.objects.filter(deadlines.has_light_q()).query
    )


@pytest.mark.postgres
def test_this_month_s_lit_tasks_are_read_through_the_partial_index(bureau, root_admin):
    """As the administrator's rollup asks it (no lead-unit filter to join through instead)."""
    TaskFactory.create_batch(3, lead_unit=bureau)
    today = dt.date(2026, 12, 10)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        qs = Task.objects.filter(
            access.visible_by_lead_unit_q(root_admin), deadlines.has_light_q(),
            deadline__gte=today.replace(day=1), deadline__lte=deadlines.due_soon_until(today),
        )
        assert "task_lit_deadline" in qs.explain()


@pytest.mark.postgres
def test_truncating_the_tasks_empties_the_tallies(bureau):
    TaskFactory.create_batch(2, lead_unit=bureau)
    assert TaskTally.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign key checks
        cursor.execute("TRUNCATE tracker_task CASCADE")
    assert not TaskTally.objects.exists()
    assert not TaskMonthTally.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="PostgreSQL flushes with TRUNCATE (the test above)")
@pytest.mark.parametrize("first", [("tracker_problem", "tracker_tasktally"),
                                   ("tracker_tasktally", "tracker_problem")])
def test_a_flush_that_deletes_the_tasks_last_leaves_no_counts(bureau, first):
    """Django's flush on SQLite is one DELETE per table in no fixed order (migration 0026):
    with the problems or the counts gone first, deleting the tasks neither fails nor leaves
    a row of negative counts behind."""
    TaskFactory.create_batch(2, lead_unit=bureau, problem=ProblemFactory(), status=S.IN_PROGRESS)
    assert TaskTally.objects.filter(total=2, in_progress=2).exists()
    with connection.cursor() as cursor:  # foreign keys are checked at commit on SQLite
        for table in (*first, "tracker_task_supporting_units", "tracker_task"):
            cursor.execute(f"DELETE FROM {table}")
    assert not TaskTally.objects.exists()
    assert not TaskMonthTally.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="PostgreSQL flushes with TRUNCATE (the test below)")
@pytest.mark.parametrize("tables", [
    ("tracker_taskrecheck", "tracker_task_supporting_units", "tracker_task"),
    ("tracker_task_supporting_units", "tracker_task", "tracker_taskrecheck"),
])
def test_a_flush_deletes_rechecks_and_tasks_in_any_order(bureau, tables):
    """Tasks with 回头看, one of two tasks deleted at a time, the re-checks before or after
    them: the counts never go wrong in between, and nothing is left."""
    tasks = TaskFactory.create_batch(2, lead_unit=bureau, problem=ProblemFactory(),
                                     status=S.COMPLETED)
    for task in tasks:
        TaskRecheckFactory(task=task, state="failed")
    with connection.cursor() as cursor:  # foreign keys are checked at commit on SQLite
        for table in tables:
            if table == "tracker_task":
                cursor.execute("DELETE FROM tracker_task WHERE id = %s", [tasks[0].pk])
                assert tally_check() == []
                assert _recheck_counts(lead_unit=bureau)[2] == (
                    1 if tables[0] == "tracker_task_supporting_units" else 0)
            cursor.execute(f"DELETE FROM {table}")
            assert tally_check() == []
    assert not TaskTally.objects.exists()
    assert not TaskMonthTally.objects.exists()


@pytest.mark.postgres
def test_truncating_the_rechecks_alone_zeroes_their_counts(bureau):
    TaskRecheckFactory(task=TaskFactory(lead_unit=bureau, status=S.COMPLETED), state="due")
    assert _recheck_counts(lead_unit=bureau) == (1, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign key checks
        cursor.execute("TRUNCATE tracker_taskrecheck CASCADE")
    assert _recheck_counts(lead_unit=bureau) == (0, 0, 0)
    assert tally_check() == []


def test_deleting_a_task_subtracts_it_from_its_row(bureau):
    kept, deleted = TaskFactory.create_batch(2, lead_unit=bureau, problem=ProblemFactory(),
                                             status=S.IN_PROGRESS, deadline=BASE)
    deleted.delete()
    row = TaskTally.objects.get()
    assert (row.total, row.in_progress, row.lit) == (1, 1, 1)
    kept.delete()
    assert not TaskTally.objects.exists()
    assert not TaskMonthTally.objects.exists()


# --- The partition of the visible tasks --------------------------------------------------


def test_lead_unit_and_support_only_partition_the_visible_tasks(
    city, bureau, county, town, alice, bob, sam, sue, chief, root_admin
):
    TaskFactory(lead_unit=bureau)
    TaskFactory(lead_unit=town)
    TaskFactory(lead_unit=bureau, supporting_units=[town])
    TaskFactory(lead_unit=town, supporting_units=[bureau, county])
    TaskFactory(lead_unit=city, supporting_units=[county])
    inactive = UserFactory(unit=town, is_active=False)
    for user in (alice, bob, sam, sue, chief, root_admin, inactive):
        visible = set(Task.objects.filter(access.visible_tasks_q(user)).values_list("pk",
                                                                                   flat=True))
        by_lead = set(Task.objects.filter(access.visible_by_lead_unit_q(user))
                      .values_list("pk", flat=True))
        support = set(Task.objects.filter(access.visible_through_support_only_q(user))
                      .values_list("pk", flat=True))
        assert by_lead.isdisjoint(support), user
        assert by_lead | support == visible, user
    assert len(Task.objects.filter(access.visible_through_support_only_q(alice))) == 1


# --- Query counts ------------------------------------------------------------------------


def _ledger(units, n: int) -> None:
    for i in range(n):
        problem = ProblemFactory(aspect=f"第{i}方面", inspection__kind=InspectionKind.CITY_PATROL)
        TaskFactory(problem=problem, lead_unit=units[i % len(units)],
                    deadline=dt.date(2026, 1 + i % 12, 10), supporting_units=[units[0]])


# Today's rollup (labels aside: +1 for inspections and units, as in the scan):
#   administrator: 2 (the tallies, this month's lit tasks); no support-only part
#   supervisor / officer: +1 the user's unit (tracker.access), +1 the support-only tasks
#   (today's 回头看 counts come with the tallies and with the support-only tasks: no query)
@pytest.mark.parametrize(("who", "queries"), [("root_admin", 2), ("sam", 4), ("bob", 4)])
@pytest.mark.parametrize("group_by", [Grouping.TOTAL, Grouping.ASPECT, Grouping.MONTH])
def test_query_count_is_the_same_for_a_small_and_a_larger_ledger(
    request, who, queries, group_by, bureau, county, town, django_assert_num_queries
):
    deadlines.due_soon_until(BASE)  # the working-day calendar, read once per process
    units = [town, county, bureau]
    for size in (3, 60):
        _ledger(units, size)
        user = User.objects.get(pk=request.getfixturevalue(who).pk)  # nothing cached
        with django_assert_num_queries(queries):
            result = rollup(user=user, group_by=group_by, filters=RollupFilters())
        assert result.total.total == Task.objects.filter(access.visible_tasks_q(user)).count()


# 挂图作战's two tables at once (rollups()): the queries of one rollup by unit (its labels are
# the units), +1 the inspections' labels; the tallies are read once, not once per grouping.
@pytest.mark.parametrize(("who", "queries"), [("root_admin", 4), ("sam", 6), ("bob", 6)])
def test_two_groupings_cost_the_queries_of_one_plus_their_labels(
    request, who, queries, bureau, county, town, django_assert_num_queries
):
    deadlines.due_soon_until(BASE)  # the working-day calendar, read once per process
    units = [town, county, bureau]
    pair = [Grouping.INSPECTION, Grouping.UNIT]
    for size in (3, 60):
        _ledger(units, size)
        user = User.objects.get(pk=request.getfixturevalue(who).pk)  # nothing cached
        with django_assert_num_queries(queries):
            results = rollups(user=user, groupings=pair, filters=RollupFilters())
        assert list(results) == pair
        for group_by in pair:
            alone = rollup(user=user, group_by=group_by, filters=RollupFilters())
            assert rollup_as_dict(results[group_by]) == rollup_as_dict(alone)
        assert results[Grouping.INSPECTION].total.total == Task.objects.filter(
            access.visible_tasks_q(user)).count()


def test_tallies_serve_today_with_deadline_bounds_on_whole_months():
    assert served_by_tallies(RollupFilters())
    assert served_by_tallies(RollupFilters(deadline_from=dt.date(2026, 3, 1),
                                           deadline_to=dt.date(2026, 4, 30)))
    assert not served_by_tallies(RollupFilters(deadline_from=dt.date(2026, 3, 2)))
    assert not served_by_tallies(RollupFilters(deadline_to=dt.date(2026, 4, 29)))
    assert not served_by_tallies(RollupFilters(as_of=dt.date(2026, 4, 30)))


# --- The property: random service sequences, every grouping equals the scan --------------

TRANSITIONS = {
    "start": task_services.task_start,
    "submit": task_services.task_submit,
    "close": task_services.task_close,
    "send_back": task_services.task_send_back,
    "reopen": task_services.task_reopen,
    "basically": task_services.task_mark_basically_completed,
    "long_term": task_services.task_mark_long_term,
}
REFUSED = (ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed)
# Each step on a task's latest 回头看, a year on (due by then whatever its date).
RECHECK_STEPS = {
    "due": lambda recheck, admin, at: recheck_mark_due(recheck=recheck, now=at),
    "report": lambda recheck, admin, at: recheck_report(
        actor=admin, recheck=recheck, recurred=False, note="未反弹", now=at),
    "confirm": lambda recheck, admin, at: recheck_confirm(actor=admin, recheck=recheck, now=at),
    "fail": lambda recheck, admin, at: recheck_fail(actor=admin, recheck=recheck,
                                                    note="问题反弹", now=at),
}
ASPECTS = ["方面一", "方面二", "方面三", ""]

task_index = st.integers(min_value=0, max_value=30)
minutes = st.integers(min_value=-600, max_value=600)
days = st.integers(min_value=-70, max_value=70)
create = st.tuples(st.just("create"), st.integers(0, 2), st.integers(0, 3),
                   st.none() | days, st.none() | st.integers(0, 3))
# A few tasks first (the rest of the draws then act on something), then anything.
operations = st.tuples(
    st.lists(create, min_size=1, max_size=4),
    st.lists(
        st.one_of(
            create,
            st.tuples(st.sampled_from(sorted(TRANSITIONS)), task_index, minutes),
            st.tuples(st.just("finish"), task_index, minutes),  # start, submit, close at once
            st.tuples(st.just("deadline"), task_index, days),
            st.tuples(st.just("extend"), task_index, st.integers(1, 40)),
            st.tuples(st.just("lead"), task_index, st.integers(0, 3)),
            st.tuples(st.just("aspect"), st.integers(0, 2), st.sampled_from(ASPECTS)),
            st.tuples(st.just("move"), st.sampled_from(["bureau", "county"])),
            # 回头看 of a closed task (task_close schedules it): due, reported, decided.
            st.tuples(st.just("recheck"), task_index, st.sampled_from(sorted(RECHECK_STEPS))),
        ),
        max_size=30,
    ),
).map(lambda parts: parts[0] + parts[1])


@pytest.fixture
def world(city, bureau, county, town, root_admin, sam, bob, alice):
    a = InspectionFactory(kind=InspectionKind.CENTRAL_INSPECTION, target_unit=None)
    b = InspectionFactory(kind=InspectionKind.CITY_PATROL, target_unit=None)
    problems = [ProblemFactory(inspection=a, aspect="方面一"),
                ProblemFactory(inspection=a, aspect=""),
                ProblemFactory(inspection=b, aspect="方面二")]
    return SimpleNamespace(
        unit_ids=[city.pk, bureau.pk, county.pk, town.pk],
        problem_ids=[p.pk for p in problems],
        inspections=[a, b],
        user_ids=[root_admin.pk, sam.pk, bob.pk, alice.pk],
        admin_id=root_admin.pk,
    )


def _run(world, ops) -> None:
    units = {u.pk: u for u in Unit.objects.all()}
    unit = [units[pk] for pk in world.unit_ids]
    admin = User.objects.get(pk=world.admin_id)
    officer = User.objects.get(username="bob")
    task_ids: list[int] = []

    def task(i):
        return Task.objects.get(pk=task_ids[i % len(task_ids)]) if task_ids else None

    for op in ops:
        name = op[0]
        try:
            if name == "create":
                _, p, u, offset, supporting = op
                problem = Problem.objects.get(pk=world.problem_ids[p])
                created = task_services.task_create(
                    problem=problem, actor=admin, title="任务", lead_unit=unit[u],
                    deadline=None if offset is None else BASE + dt.timedelta(days=offset),
                    task_type=TaskType.LONG_TERM if offset is None else TaskType.BY_DEADLINE,
                    supporting_units=[] if supporting is None else [unit[supporting]],
                    now=BASE_AT,
                )
                task_ids.append(created.pk)
            elif name in TRANSITIONS and (t := task(op[1])):
                TRANSITIONS[name](task=t, actor=admin, note="说明",
                                  now=BASE_AT + dt.timedelta(minutes=op[2]))
            elif name == "finish" and (t := task(op[1])):
                for step in ("start", "submit", "close"):
                    with contextlib.suppress(*REFUSED):
                        TRANSITIONS[step](task=Task.objects.get(pk=t.pk), actor=admin,
                                          note="说明", now=BASE_AT + dt.timedelta(minutes=op[2]))
            elif name == "deadline" and (t := task(op[1])):
                task_services.task_update(task=t, actor=admin,
                                          deadline=BASE + dt.timedelta(days=op[2]), now=BASE_AT)
            elif name == "extend" and (t := task(op[1])) and t.deadline:
                extension = extension_request(
                    task=t, actor=admin, reason="理由", now=BASE_AT,
                    requested_deadline=t.deadline + dt.timedelta(days=op[2]))
                extension_approve(extension=extension, actor=admin, now=BASE_AT)
            elif name == "lead" and (t := task(op[1])):
                task_services.task_update(task=t, actor=admin, lead_unit=unit[op[2]],
                                          now=BASE_AT)
            elif name == "aspect":
                problem_update(problem=Problem.objects.get(pk=world.problem_ids[op[1]]),
                               actor=admin, aspect=op[2])
            elif name == "recheck" and (t := task(op[1])) and (
                recheck := TaskRecheck.objects.filter(task=t).order_by("-pk").first()
            ):
                RECHECK_STEPS[op[2]](recheck, admin, BASE_AT + dt.timedelta(days=400))
            elif name == "move":
                town = Unit.objects.get(pk=world.unit_ids[3])
                unit_move(unit=town, new_parent=Unit.objects.get(
                    pk=world.unit_ids[1 if op[1] == "bureau" else 2]))
        except REFUSED:
            pass
    assert officer.unit_id == world.unit_ids[3]


def _filters(world, choice: int, today: dt.date) -> RollupFilters:
    month = today.replace(day=1)
    return [
        RollupFilters(),
        RollupFilters(unit=Unit.objects.get(pk=world.unit_ids[2])),
        RollupFilters(inspection_id=world.inspections[0].pk),
        RollupFilters(kind=InspectionKind.CITY_PATROL),
        RollupFilters(deadline_from=month,
                      deadline_to=(month + dt.timedelta(days=40)).replace(day=1)
                      - dt.timedelta(days=1)),
        RollupFilters(deadline_to=month - dt.timedelta(days=1)),
    ][choice]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
@given(ops=operations, today_offset=days, filter_choice=st.integers(0, 5))
# Every 回头看 bucket, and a task moved with its re-checks, whatever the draws reach.
@example(ops=[
    ("create", 0, 1, 5, 2), ("create", 2, 3, 40, None), ("create", 1, 2, -3, None),
    *[(step, i, 0) for i in range(3) for step in ("start", "submit", "close")],
    *[("recheck", i, step) for i in range(3) for step in ("due", "report")],
    ("recheck", 1, "confirm"), ("recheck", 2, "fail"), ("lead", 1, 0), ("deadline", 0, 60),
    ("aspect", 0, "方面三"), ("move", "county"),
], today_offset=0, filter_choice=0)
def test_every_rollup_equals_the_scan_after_random_services(
    world, ops, today_offset, filter_choice
):
    with transaction.atomic():
        _run(world, ops)
        assert tally_check() == []
        today = BASE + dt.timedelta(days=today_offset)
        filters = _filters(world, filter_choice, today)
        assert served_by_tallies(filters)
        with mock.patch("tracker.figures.rollups.local_today", return_value=today):
            for user in User.objects.filter(pk__in=world.user_ids).select_related(
                "unit", "supervision_root"
            ):
                # Every grouping at once, and 挂图作战's pair, from one pass (rollups()).
                together = rollups(user=user, groupings=Grouping.values, filters=filters)
                pair = rollups(user=user, groupings=[Grouping.INSPECTION, Grouping.UNIT],
                               filters=filters)
                for group_by in Grouping.values:
                    maintained = rollup(user=user, group_by=group_by, filters=filters)
                    scanned = rollup_as_dict(
                        rollup(user=user, group_by=group_by, filters=filters,
                               source=Source.SCAN),
                        tree=True,
                    )
                    assert rollup_as_dict(maintained, tree=True) == scanned, (
                        user.username, group_by)
                    assert rollup_as_dict(together[group_by], tree=True) == scanned, (
                        user.username, group_by, "together")
                    if group_by in pair:
                        assert rollup_as_dict(pair[group_by], tree=True) == scanned, (
                            user.username, group_by, "pair")
        transaction.set_rollback(True)


# --- 回头看 in the tallies (migration 0031_recheck_tallies) ---------------------------------


def _recheck_counts(**key) -> tuple[int, int, int]:
    row = TaskTally.objects.get(**key)
    return row.recheck_due, row.recheck_done, row.recheck_failed


def test_rechecks_are_counted_under_their_task_s_key_and_move_with_it(bureau, town):
    problem = ProblemFactory(aspect="方面一")
    key = {"lead_unit": bureau, "inspection": problem.inspection, "aspect": "方面一",
           "deadline_month": dt.date(2026, 12, 1)}
    tasks = TaskFactory.create_batch(3, problem=problem, lead_unit=bureau, status=S.COMPLETED,
                                     deadline=dt.date(2026, 12, 31))
    scheduled = TaskRecheckFactory(task=tasks[0])  # 待回头看: not counted yet
    assert _recheck_counts(**key) == (0, 0, 0)
    TaskRecheck.objects.filter(pk=scheduled.pk).update(state="due")
    TaskRecheckFactory(task=tasks[1], state="reported")
    TaskRecheckFactory(task=tasks[2], state="confirmed")
    TaskRecheckFactory(task=tasks[2], state="failed")
    assert _recheck_counts(**key) == (2, 1, 1)
    assert tally_check() == []

    # The task's key changes (lead unit, deadline month, then its problem's aspect): its
    # re-checks go with it.
    Task.objects.filter(pk=tasks[2].pk).update(lead_unit=town, deadline=dt.date(2027, 2, 1))
    moved = {**key, "lead_unit": town, "deadline_month": dt.date(2027, 2, 1)}
    assert _recheck_counts(**key) == (2, 0, 0)
    assert _recheck_counts(**moved) == (0, 1, 1)
    Problem.objects.filter(pk=problem.pk).update(aspect="方面二")
    assert _recheck_counts(**{**moved, "aspect": "方面二"}) == (0, 1, 1)
    assert tally_check() == []

    # A state change within a bucket changes nothing; a re-check deleted is taken back; a task
    # deleted takes its re-checks' counts with it, whatever goes first.
    reporter = TaskRecheck.objects.get(state="reported").reported_by
    TaskRecheck.objects.filter(state="due").update(
        state="reported", reported_at=BASE_AT, reported_by=reporter, recurred=False)
    TaskRecheck.objects.filter(state="confirmed").delete()
    assert _recheck_counts(**{**moved, "aspect": "方面二"}) == (0, 0, 1)
    assert tally_check() == []
    TaskRecheck.objects.all().delete()
    assert tally_check() == []
    assert not TaskTally.objects.exclude(recheck_due=0, recheck_done=0, recheck_failed=0).exists()


def test_a_rebuild_and_the_check_count_the_rechecks(bureau, capsys):
    task = TaskFactory(lead_unit=bureau, status=S.COMPLETED, problem=ProblemFactory())
    TaskRecheckFactory(task=task, state="failed")
    TaskTally.objects.update(recheck_failed=0)  # a drifted count
    with pytest.raises(CommandError, match="1个分组不符"):
        call_command("tallies", "--check")
    assert "回头看未通过维护0/重新统计1" in capsys.readouterr().err
    assert tally_rebuild() == 1
    assert _recheck_counts(lead_unit=bureau) == (0, 0, 1)
    assert tally_check() == []


def test_a_recheck_of_a_task_closed_through_the_services_is_counted_when_due(
    bureau, root_admin
):
    task = TaskFactory(lead_unit=bureau, status=S.SUBMITTED, problem=ProblemFactory())
    task_services.task_close(task=task, actor=root_admin, note="同意销号", now=BASE_AT)
    recheck = TaskRecheck.objects.get(task=task)
    assert _recheck_counts(lead_unit=bureau) == (0, 0, 0)
    recheck_mark_due(recheck=recheck, now=BASE_AT + dt.timedelta(days=400))
    assert _recheck_counts(lead_unit=bureau) == (1, 0, 0)
    recheck_report(actor=root_admin, recheck=recheck, recurred=True, note="有反弹",
                   now=BASE_AT + dt.timedelta(days=401))
    recheck_fail(actor=root_admin, recheck=recheck, note="问题反弹",
                 now=BASE_AT + dt.timedelta(days=402))
    assert _recheck_counts(lead_unit=bureau) == (0, 0, 1)
    figures = rollup(user=root_admin, filters=RollupFilters()).total
    assert (figures.recheck_due, figures.recheck_done, figures.recheck_failed) == (0, 0, 1)
    assert tally_check() == []
