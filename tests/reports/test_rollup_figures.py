"""Acceptance 1 and 2: every figure, rate and sentence for each grouping of a known ledger.

The ledger is the reports' own 76 = 61 + 10 + 2 + 3, split into two slices:

    bureau (市教育局), 中央巡视 A, 方面一, deadline 30 days ago:
        40 completed (10 closed on the deadline day at 23:30 Beijing time, 1 closed at 00:30
        the day after, 29 closed now), 5 basically completed, 1 long term, 1 not started = 47
    town (湖滨街道, under county 东湖区), 市委巡察 B, 方面二, deadline in 60 days:
        21 completed, 5 basically completed, 1 long term, 1 in progress, 1 submitted = 29
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.reports.factories import make_tasks
from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory, UserFactory
from tracker.figures.rollups import Grouping, RollupFilters, rollup
from tracker.models import InspectionKind, Role, Task, TaskStatus

pytestmark = pytest.mark.django_db

S = TaskStatus
BEIJING = ZoneInfo("Asia/Shanghai")
SENTENCE_A = (
    "细化分解为47个具体问题，已完成整改40个，基本完成整改5个，长期坚持1个，未完成整改1个，"
    "整改完成率85.1%，含基本完成整改的完成率95.7%。"
)
SENTENCE_B = (
    "细化分解为29个具体问题，已完成整改21个，基本完成整改5个，长期坚持1个，未完成整改2个，"
    "整改完成率72.4%，含基本完成整改的完成率89.7%。"
)
SENTENCE_ALL = (
    "细化分解为76个具体问题，已完成整改61个，基本完成整改10个，长期坚持2个，未完成整改3个，"
    "整改完成率80.3%，含基本完成整改的完成率93.4%。"
)

# Expected figures of each slice (not_completed breakdown, overdue, on-time).
FIGURES_A = {
    "total": 47, "completed": 40, "basically_completed": 5, "long_term": 1,
    "not_completed": 1, "not_started": 1, "in_progress": 0, "submitted": 0,
    "overdue": 6,  # 5 basically completed + 1 not started, deadline passed
    "closed_on_time": 10, "completion_rate": 85.1, "broad_rate": 95.7, "on_time_rate": 25.0,
    "light": "red",
}
FIGURES_B = {
    "total": 29, "completed": 21, "basically_completed": 5, "long_term": 1,
    "not_completed": 2, "not_started": 0, "in_progress": 1, "submitted": 1,
    "overdue": 0, "closed_on_time": 21, "completion_rate": 72.4, "broad_rate": 89.7,
    "on_time_rate": 100.0, "light": "green",
}
FIGURES_ALL = {
    "total": 76, "completed": 61, "basically_completed": 10, "long_term": 2,
    "not_completed": 3, "not_started": 1, "in_progress": 1, "submitted": 1,
    "overdue": 6, "closed_on_time": 31, "completion_rate": 80.3, "broad_rate": 93.4,
    "on_time_rate": 50.8, "light": "red",
}


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BEIJING)


@pytest.fixture
def ledger(bureau, town):
    today = timezone.localdate()
    past, future = today - dt.timedelta(days=30), today + dt.timedelta(days=60)
    a = InspectionFactory(
        title="中央第七巡视组反馈意见整改", kind=InspectionKind.CENTRAL_INSPECTION,
        feedback_date=dt.date(2026, 1, 5),
    )
    b = InspectionFactory(title="市委第二巡察组反馈意见整改", kind=InspectionKind.CITY_PATROL,
                          feedback_date=dt.date(2026, 2, 5))
    pa = ProblemFactory(inspection=a, aspect="方面一")
    pb = ProblemFactory(inspection=b, aspect="方面二")
    for when in [_at(past, 23, 30)] * 10 + [_at(past + dt.timedelta(days=1), 0, 30)]:
        TaskFactory(problem=pa, lead_unit=bureau, deadline=past, status=S.COMPLETED,
                    closed_at=when, completed_at=when)
    make_tasks({S.COMPLETED: 29, S.BASICALLY_COMPLETED: 5, S.LONG_TERM: 1, S.NOT_STARTED: 1},
               problem=pa, lead_unit=bureau, deadline=past)
    make_tasks({S.COMPLETED: 21, S.BASICALLY_COMPLETED: 5, S.LONG_TERM: 1, S.IN_PROGRESS: 1,
                S.SUBMITTED: 1}, problem=pb, lead_unit=town, deadline=future)
    assert Task.objects.count() == 76
    return {"a": a, "b": b, "past": past, "future": future}


def _get(user, **params) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/rollups/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _assert_figures(row: dict, expected: dict, sentence: str) -> None:
    assert {k: row[k] for k in expected} == expected
    assert row["sentence"] == sentence


def test_total_states_76_61_10_2_3_with_every_rate(ledger, chief):
    data = _get(chief)
    assert len(data["rows"]) == 1
    _assert_figures(data["rows"][0], FIGURES_ALL, SENTENCE_ALL)
    _assert_figures(data["total"], FIGURES_ALL, SENTENCE_ALL)


def test_by_inspection_states_each_inspection(ledger, chief):
    data = _get(chief, group_by="inspection")
    rows = {r["key"]: r for r in data["rows"]}
    assert [r["label"] for r in data["rows"]] == [  # newest feedback first
        "市委第二巡察组反馈意见整改", "中央第七巡视组反馈意见整改",
    ]
    _assert_figures(rows[ledger["a"].pk], FIGURES_A, "中央第七巡视组反馈意见整改" + SENTENCE_A)
    _assert_figures(rows[ledger["b"].pk], FIGURES_B, "市委第二巡察组反馈意见整改" + SENTENCE_B)
    _assert_figures(data["total"], FIGURES_ALL, SENTENCE_ALL)


def test_by_kind_states_each_kind(ledger, chief):
    rows = _get(chief, group_by="kind")["rows"]
    assert [(r["key"], r["label"]) for r in rows] == [
        ("central_inspection", "中央巡视"), ("city_patrol", "市委巡察"),
    ]
    _assert_figures(rows[0], FIGURES_A, "中央巡视" + SENTENCE_A)
    _assert_figures(rows[1], FIGURES_B, "市委巡察" + SENTENCE_B)


def test_by_aspect_states_each_aspect(ledger, chief):
    rows = _get(chief, group_by="aspect")["rows"]
    assert [r["label"] for r in rows] == ["方面一", "方面二"]
    _assert_figures(rows[0], FIGURES_A, SENTENCE_A)
    _assert_figures(rows[1], FIGURES_B, SENTENCE_B)


def test_by_deadline_month_states_each_month(ledger, chief):
    rows = _get(chief, group_by="month")["rows"]
    past, future = ledger["past"], ledger["future"]
    assert [(r["key"], r["label"]) for r in rows] == [
        (f"{past:%Y-%m}", f"{past.year}年{past.month}月"),
        (f"{future:%Y-%m}", f"{future.year}年{future.month}月"),
    ]
    _assert_figures(rows[0], FIGURES_A, SENTENCE_A)
    _assert_figures(rows[1], FIGURES_B, SENTENCE_B)


def test_by_unit_includes_descendants(ledger, chief, city, bureau, county, town):
    rows = {r["key"]: r for r in _get(chief, group_by="unit")["rows"]}
    assert set(rows) == {city.pk, bureau.pk, county.pk, town.pk}
    _assert_figures(rows[city.pk], FIGURES_ALL, "江屿市委" + SENTENCE_ALL)
    _assert_figures(rows[bureau.pk], FIGURES_A, "市教育局" + SENTENCE_A)
    _assert_figures(rows[county.pk], FIGURES_B, "东湖区" + SENTENCE_B)  # all from its township
    _assert_figures(rows[town.pk], FIGURES_B, "湖滨街道" + SENTENCE_B)


def test_unit_tree_has_a_rollup_at_every_node(ledger, chief, city, bureau, county, town):
    tree = _get(chief, group_by="unit", tree="true")["rows"]
    assert [n["key"] for n in tree] == [city.pk]
    assert tree[0]["total"] == 76
    children = {n["key"]: n for n in tree[0]["children"]}
    assert {k: n["total"] for k, n in children.items()} == {bureau.pk: 47, county.pk: 29}
    assert [(n["key"], n["total"]) for n in children[county.pk]["children"]] == [(town.pk, 29)]


def test_a_unit_rollup_equals_the_sum_over_its_subtree(ledger, chief, city, county):
    """Acceptance 2: for every unit, its row equals the sum of its lead-unit slices below."""
    from tests.tracker.factories import UnitFactory

    village = UnitFactory(name="湖滨社区", parent=county)
    make_tasks({S.COMPLETED: 2, S.NOT_STARTED: 3}, problem=ProblemFactory(), lead_unit=village,
               deadline=ledger["future"])
    result = rollup(user=chief, group_by=Grouping.UNIT, filters=RollupFilters())
    by_id = {row.key: row for row in result.rows}
    for row in result.rows:
        below = Task.objects.filter(lead_unit__path__startswith=row.extra["path"])
        assert row.figures.total == below.count()
        assert row.figures.completed == below.filter(status=S.COMPLETED).count()
        children = [r for r in result.rows if r.extra["parent_id"] == row.key]
        own = Task.objects.filter(lead_unit_id=row.key).count()
        assert row.figures.total == own + sum(c.figures.total for c in children)
    assert by_id[county.pk].figures.total == 29 + 5
    assert by_id[city.pk].figures.total == result.total.total == 81


def test_unit_filter_narrows_to_the_subtree(ledger, chief, county, town):
    data = _get(chief, group_by="unit", unit=county.pk)
    assert [r["key"] for r in data["rows"]] == [county.pk, town.pk]
    _assert_figures(data["total"], FIGURES_B, SENTENCE_B)


def test_filters_by_inspection_kind_and_deadline_range(ledger, chief):
    assert _get(chief, inspection=ledger["a"].pk)["total"]["total"] == 47
    assert _get(chief, kind="city_patrol")["total"]["total"] == 29
    assert _get(chief, kind="provincial_inspection")["total"]["total"] == 0
    future = ledger["future"]
    assert _get(chief, deadline_from=future.isoformat())["total"]["total"] == 29
    assert _get(chief, deadline_to=(future - dt.timedelta(days=1)).isoformat())["total"][
        "total"
    ] == 47


def test_officer_rollup_excludes_other_units(ledger, alice, bureau):
    """Acceptance 2: the bureau's officer sees only the bureau, whatever the grouping."""
    data = _get(alice, group_by="unit")
    assert [r["key"] for r in data["rows"]] == [bureau.pk]
    _assert_figures(data["total"], FIGURES_A, SENTENCE_A)
    assert _get(alice)["total"]["total"] == 47
    assert [r["label"] for r in _get(alice, group_by="inspection")["rows"]] == [
        "中央第七巡视组反馈意见整改"
    ]


def test_officer_cannot_ask_for_another_units_rollup(ledger, alice, county):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get("/api/v1/rollups/", {"unit": county.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"unit": ["您无权查看该单位的统计"]}


def test_county_supervisor_sees_only_the_county(ledger, sam, county, town):
    data = _get(sam, group_by="unit")
    assert [r["key"] for r in data["rows"]] == [county.pk, town.pk]
    assert data["total"]["total"] == 29


def test_supported_task_led_elsewhere_counts_under_its_lead_unit(ledger, alice, bureau, town):
    supported = TaskFactory(lead_unit=town, status=S.IN_PROGRESS, supporting_units=[bureau])
    rows = {r["key"]: r for r in _get(alice, group_by="unit")["rows"]}
    assert set(rows) == {bureau.pk, town.pk}
    assert rows[town.pk]["total"] == 1
    assert _get(alice)["total"]["total"] == 48
    assert supported.pk in Task.objects.filter(lead_unit=town).values_list("pk", flat=True)


def test_inactive_user_and_anonymous_get_nothing(ledger):
    ghost = UserFactory(role=Role.OFFICER, is_active=False)
    result = rollup(user=ghost, filters=RollupFilters())
    assert result.total.total == 0
    assert APIClient().get("/api/v1/rollups/").status_code in (401, 403)
