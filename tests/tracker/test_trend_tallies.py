"""The trend from maintained counts (tracker.models.EventTally) against the scan of the
history: the counts follow every history row and every move of a task to another lead unit
or inspection, and the series are the same for every user, filter, period and day."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tracker.factories import InspectionFactory, ProblemFactory, UnitFactory, UserFactory
from tracker.errors import DomainError
from tracker.figures.rollups import RollupFilters
from tracker.figures.trend import Period, tally_check, tally_recount, trend
from tracker.models import EventTally, InspectionKind, Role, Task, TaskEvent, User
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 1, 30, 23, 30, tzinfo=BEIJING)  # near a month's and a week's end


def _kept(**key) -> dict:
    return {
        (t.period, t.start): (t.created, t.closed, t.reopened)
        for t in EventTally.objects.filter(**key)
    }


def test_a_history_row_is_counted_in_its_local_week_and_month(chief, bureau):
    problem = ProblemFactory()
    # 2026-02-01 00:30 in Beijing is still January 31st in UTC: the local day counts.
    now = dt.datetime(2026, 2, 1, 0, 30, tzinfo=BEIJING)
    task = svc.task_create(problem=problem, actor=chief, title="任务", lead_unit=bureau,
                           deadline=dt.date(2026, 6, 30), now=now)
    assert _kept(lead_unit=bureau, inspection=problem.inspection) == {
        ("month", dt.date(2026, 2, 1)): (1, 0, 0),
        ("week", dt.date(2026, 1, 26)): (1, 0, 0),
    }
    task = svc.task_start(task=task, actor=chief, now=now)  # counts nothing
    task = svc.task_submit(task=task, actor=chief, now=now)
    task = svc.task_close(task=task, actor=chief, now=now + dt.timedelta(days=1))
    svc.task_reopen(task=task, actor=chief, note="反弹", now=now + dt.timedelta(days=1))
    assert _kept(lead_unit=bureau) == {
        ("month", dt.date(2026, 2, 1)): (1, 1, 1),
        ("week", dt.date(2026, 1, 26)): (1, 0, 0),
        ("week", dt.date(2026, 2, 2)): (0, 1, 1),
    }
    assert tally_check() == []


def test_a_new_lead_unit_or_inspection_takes_the_counts_of_the_whole_history(chief, bureau,
                                                                             county):
    problem = ProblemFactory()
    task = svc.task_create(problem=problem, actor=chief, title="任务", lead_unit=bureau,
                           deadline=dt.date(2026, 6, 30), now=START)
    svc.task_update(task=task, actor=chief, lead_unit=county, now=START + dt.timedelta(days=40))
    assert _kept(lead_unit=bureau) == {}  # rows left at zero are dropped
    assert _kept(lead_unit=county) == {
        ("month", dt.date(2026, 1, 1)): (1, 0, 0),
        ("week", dt.date(2026, 1, 26)): (1, 0, 0),
    }
    other = InspectionFactory()
    # Not a service (a task keeps its problem's inspection): a correction of the data by
    # hand still moves the counts, in the same statement.
    Task.objects.filter(pk=task.pk).update(inspection=other)
    assert set(EventTally.objects.values_list("inspection_id", flat=True)) == {other.pk}
    assert tally_check() == []


def test_deleted_history_takes_its_counts_back(chief, bureau):
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="任务", lead_unit=bureau,
                           deadline=dt.date(2026, 6, 30), now=START)
    assert EventTally.objects.count() == 2
    TaskEvent.objects.filter(task=task).delete()
    assert EventTally.objects.count() == 0


def test_tally_check_finds_a_count_that_drifted(chief, bureau):
    svc.task_create(problem=ProblemFactory(), actor=chief, title="任务", lead_unit=bureau,
                    deadline=dt.date(2026, 6, 30), now=START)
    EventTally.objects.filter(period="month").update(created=5)
    [(key, kept, recounted)] = tally_check()
    assert key == (bureau.pk, Task.objects.get().inspection_id, "month", dt.date(2026, 1, 1))
    assert (kept["created"], recounted["created"]) == (5, 1)
    assert len(tally_recount()) == 2


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_truncating_the_history_empties_the_counts(chief, bureau):
    svc.task_create(problem=ProblemFactory(), actor=chief, title="任务", lead_unit=bureau,
                    deadline=dt.date(2026, 6, 30), now=START)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction
        cursor.execute("TRUNCATE tracker_taskevent CASCADE")  # as the bench's ledger does
    assert EventTally.objects.count() == 0


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_truncating_the_history_with_the_counts_works_as_a_flush_does(chief, bureau):
    svc.task_create(problem=ProblemFactory(), actor=chief, title="任务", lead_unit=bureau,
                    deadline=dt.date(2026, 6, 30), now=START)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE tracker_eventtally, tracker_taskevent CASCADE")
    assert EventTally.objects.count() == 0
    assert TaskEvent.objects.count() == 0


# --- Random histories: the counts against the scan ----------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "start", "submit", "close", "close", "reopen",
                         "send_back", "basically", "move_unit", "move_inspection"]),
        st.integers(0, 30),  # which task / unit / inspection (modulo)
        st.integers(0, 9),  # days later
        st.integers(0, 23),  # hour (Beijing)
    ),
    min_size=1, max_size=25,
)
ASKS = st.lists(
    st.tuples(
        st.integers(0, 4),  # who asks
        st.sampled_from(["none", "inspection", "unit", "kind", "deadline"]),
        st.integers(0, 30),
        st.sampled_from(Period.values),
        st.integers(-5, 130),  # as_of: days after START; beyond 120: today
    ),
    min_size=1, max_size=6,
)


@pytest.fixture
def world(city, bureau, county, town, chief, sam, bob):
    inspections = [InspectionFactory(kind=InspectionKind.CITY_PATROL),
                   InspectionFactory(kind=InspectionKind.SELF_CHECK)]
    problems = [ProblemFactory(inspection=i) for i in inspections]
    helper = UserFactory(username="helper", unit=UnitFactory(name="配合单位", parent=city),
                         role=Role.OFFICER)
    admin = UserFactory(username="trend-admin", admin=True)
    return {
        "units": [bureau, county, town, helper.unit],
        "problems": problems,
        "inspections": inspections,
        "users": [chief, sam, bob, helper, admin],
        "helper_unit": helper.unit,
    }


def _play(world, ops, chief: User) -> None:
    now = START
    tasks: list[Task] = []
    units, problems = world["units"], world["problems"]
    for op, pick, days, hour in ops:
        now = (now + dt.timedelta(days=days)).replace(hour=hour)
        if op == "create" or not tasks:
            tasks.append(svc.task_create(
                problem=problems[pick % 2], actor=chief, title=f"任务{len(tasks)}",
                lead_unit=units[pick % 3], deadline=(now + dt.timedelta(days=90)).date(),
                supporting_units=[world["helper_unit"]] if pick % 4 == 0 else [], now=now,
            ))
            continue
        task = Task.objects.get(pk=tasks[pick % len(tasks)].pk)
        try:
            if op == "move_unit":
                svc.task_update(task=task, actor=chief, lead_unit=units[(pick + 1) % 3], now=now)
            elif op == "move_inspection":
                problem = problems[(problems.index(task.problem) + 1) % 2]
                Task.objects.filter(pk=task.pk).update(
                    problem=problem, inspection_id=problem.inspection_id)
            else:
                service = {
                    "start": svc.task_start, "submit": svc.task_submit, "close": svc.task_close,
                    "reopen": svc.task_reopen, "send_back": svc.task_send_back,
                    "basically": svc.task_mark_basically_completed,
                }[op]
                service(task=task, actor=chief, note="说明", now=now)
        except DomainError:
            pass  # not allowed from the task's status: the sequence goes on


def _filters(world, kind: str, pick: int, as_of_days: int) -> RollupFilters:
    as_of = (START + dt.timedelta(days=as_of_days)).date() if as_of_days <= 120 else None
    inspections, units = world["inspections"], world["units"]
    return {
        "none": RollupFilters(as_of=as_of),
        "inspection": RollupFilters(inspection_id=inspections[pick % 2].pk, as_of=as_of),
        "unit": RollupFilters(unit=units[pick % 4], as_of=as_of),
        "kind": RollupFilters(kind=inspections[pick % 2].kind, as_of=as_of),
        "deadline": RollupFilters(deadline_from=START.date() + dt.timedelta(days=pick * 3),
                                  as_of=as_of),
    }[kind]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS, asks=ASKS)
def test_trend_from_counts_is_the_trend_from_the_history(world, ops, asks):
    chief = world["users"][0]
    with transaction.atomic():
        _play(world, ops, chief)
        assert tally_check() == []
        for who, kind, pick, period, as_of_days in asks:
            user = world["users"][who]
            filters = _filters(world, kind, pick, as_of_days)
            kept = trend(user=user, filters=filters, period=period)
            scanned = trend(user=user, filters=filters, period=period, scan=True)
            assert kept == scanned, (user.username, filters, period)
        transaction.set_rollback(True)


def test_the_last_period_counts_from_its_first_local_instant(world, chief, bureau):
    # 2026-03-01 00:30 in Beijing (still February in UTC), the figures' day March 1st: the
    # last period holds the row; the counts hold February's only.
    problem = world["problems"][0]
    for when in (dt.datetime(2026, 2, 28, 23, 30, tzinfo=BEIJING),
                 dt.datetime(2026, 3, 1, 0, 30, tzinfo=BEIJING)):
        svc.task_create(problem=problem, actor=chief, title="任务", lead_unit=bureau,
                        deadline=dt.date(2026, 6, 30), now=when)
    filters = RollupFilters(as_of=dt.date(2026, 3, 1))
    # Saturday and Sunday: one week (the last); two months (February in the counts).
    for period, created in ((Period.MONTH, [1, 1]), (Period.WEEK, [2])):
        series = trend(user=chief, filters=filters, period=period)
        assert series == trend(user=chief, filters=filters, period=period, scan=True)
        assert [p["created"] for p in series] == created


