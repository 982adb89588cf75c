"""Acceptance 3: figures as of the end of past days, read from the history written by the
services; a saved snapshot never changes afterwards.

    day 1 (3月2日)  four tasks created: t1, t2 (deadline 3月31日), t3 (3月3日), t4 (long term)
    day 2 (3月3日)  t1, t2, t3 started; t1 submitted at 23:30
    day 3 (3月4日)  t1 closed at 00:30 (day 3 in Beijing, still 3月3日 in UTC);
                    t2 marked basically completed; t4 marked long term
    day 4 (3月5日)  t3's deadline extended to 4月10日; t1 reopened
    day 5 (3月6日)  t1 submitted and closed again; t2's deadline edited to 5月15日
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from reports.models import RollupSnapshot
from reports.services import snapshot_create
from tests.reports.factories import RollupSnapshotFactory
from tests.tracker.factories import ProblemFactory
from tracker.errors import ActionForbidden, InvalidInput
from tracker.figures.rollups import COUNT_FIELDS, Grouping, RollupFilters, rollup
from tracker.models import TaskType
from tracker.services import extensions as ext
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
DAY = {n: dt.date(2026, 3, n + 1) for n in range(0, 6)}  # DAY[1] = 3月2日 … DAY[5] = 3月6日


def at(n: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY[n], dt.time(hour, minute), tzinfo=BEIJING)


@pytest.fixture
def history(chief, alice, bureau):
    problem = ProblemFactory()

    def create(title, deadline, task_type=TaskType.BY_DEADLINE):
        return svc.task_create(problem=problem, actor=chief, title=title, lead_unit=bureau,
                               deadline=deadline, task_type=task_type, now=at(1, 10))

    t1 = create("建立健全议事规则", dt.date(2026, 3, 31))
    t2 = create("整改违规发放津贴问题", dt.date(2026, 3, 31))
    t3 = create("清理超标配备办公用房", dt.date(2026, 3, 3))
    t4 = create("持续深化作风建设", None, TaskType.LONG_TERM)

    t1 = svc.task_start(task=t1, actor=alice, now=at(2, 9))
    t2 = svc.task_start(task=t2, actor=alice, now=at(2, 9))
    t3 = svc.task_start(task=t3, actor=alice, now=at(2, 9))
    t1 = svc.task_submit(task=t1, actor=alice, now=at(2, 23, 30))

    t1 = svc.task_close(task=t1, actor=chief, now=at(3, 0, 30))
    t2 = svc.task_mark_basically_completed(task=t2, actor=chief, now=at(3, 10))
    t4 = svc.task_mark_long_term(task=t4, actor=chief, note="需长期坚持", now=at(3, 10))
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4}


def later_changes(history, chief, alice):
    t1, t2, t3 = history["t1"], history["t2"], history["t3"]
    request = ext.extension_request(task=t3, actor=alice, requested_deadline=dt.date(2026, 4, 10),
                                    reason="需协调机关事务管理部门", now=at(4, 9))
    ext.extension_approve(extension=request, actor=chief, now=at(4, 11))
    t1 = svc.task_reopen(task=t1, actor=chief, note="佐证材料不全", now=at(4, 15))
    t1 = svc.task_submit(task=t1, actor=alice, now=at(5, 9))
    svc.task_close(task=t1, actor=chief, now=at(5, 16))
    t2.refresh_from_db()
    svc.task_update(task=t2, actor=chief, deadline=dt.date(2026, 5, 15), now=at(5, 17))


def figures(user, day, group_by=Grouping.TOTAL):
    return rollup(user=user, group_by=group_by, filters=RollupFilters(as_of=day))


def counts(f) -> tuple:
    nc = f.not_started + f.in_progress + f.submitted
    return (f.total, f.completed, f.basically_completed, f.long_term, nc, f.overdue)


def test_figures_as_of_each_past_day(history, chief, alice):
    later_changes(history, chief, alice)
    # (total, completed, basically, long term, not completed, overdue) at the end of each day
    expected = {
        0: (0, 0, 0, 0, 0, 0),
        1: (4, 0, 0, 0, 4, 0),
        2: (4, 0, 0, 0, 4, 0),  # t3 due 3月3日 is not overdue on 3月3日 itself
        3: (4, 1, 1, 1, 1, 1),  # t1 closed at 00:30 Beijing counts on day 3; t3 overdue
        4: (4, 0, 1, 1, 2, 0),  # t1 reopened; t3's deadline in force is now 4月10日
        5: (4, 1, 1, 1, 1, 0),
    }
    assert {n: counts(figures(chief, DAY[n]).total) for n in expected} == expected
    day3 = figures(chief, DAY[3]).total
    assert (day3.not_started, day3.in_progress, day3.submitted) == (0, 1, 0)
    assert day3.sentence() == (
        "细化分解为4个具体问题，已完成整改1个，基本完成整改1个，长期坚持1个，未完成整改1个，"
        "整改完成率25.0%，含基本完成整改的完成率50.0%。"
    )
    assert (day3.closed_on_time, day3.on_time_rate) == (1, "100.0")
    day2 = figures(chief, DAY[2]).total
    assert (day2.submitted, day2.in_progress, day2.on_time_rate) == (1, 2, None)


def test_as_of_uses_the_deadline_in_force_that_day(history, chief, alice):
    later_changes(history, chief, alice)

    def months(n):
        return {r.key: r.figures.total for r in figures(chief, DAY[n], Grouping.MONTH).rows}

    assert months(3) == {"2026-03": 3, None: 1}
    assert months(4) == {"2026-03": 2, "2026-04": 1, None: 1}  # t3 extended
    assert months(5) == {"2026-03": 1, "2026-04": 1, "2026-05": 1, None: 1}  # t2 edited


def test_as_of_today_equals_the_live_figures(history, chief, alice, bureau):
    later_changes(history, chief, alice)
    from django.utils import timezone

    live = rollup(user=chief, group_by=Grouping.UNIT, filters=RollupFilters())
    as_of = figures(chief, timezone.localdate(), Grouping.UNIT)
    assert live.rows[0].figures.total == 4
    for a, b in zip(live.rows, as_of.rows, strict=True):
        assert {k: getattr(a.figures, k) for k in COUNT_FIELDS} == {
            k: getattr(b.figures, k) for k in COUNT_FIELDS
        }


def test_as_of_through_the_api(history, chief):
    client = APIClient()
    client.force_authenticate(chief)
    data = client.get("/api/v1/rollups/", {"as_of": "2026-03-04"}).json()
    assert data["as_of"] == "2026-03-04"
    assert (data["total"]["total"], data["total"]["completed"], data["total"]["overdue"]) == (
        4, 1, 1,
    )
    assert client.get("/api/v1/rollups/", {"as_of": "2026-13-01"}).status_code == 400


def test_saved_snapshot_is_unchanged_after_later_changes(history, chief, alice):
    snapshot = snapshot_create(actor=chief, name="2026年3月4日向省委巡视办报送数据",
                               group_by=Grouping.UNIT, filters=RollupFilters())
    frozen_rows, frozen_total = snapshot.rows, snapshot.total
    assert frozen_total["completed"] == 1
    assert frozen_total["sentence"].startswith("细化分解为4个具体问题，已完成整改1个，")

    later_changes(history, chief, alice)
    svc.task_reopen(task=history["t4"], actor=chief, note="重新部署", now=at(5, 18))

    live = rollup(user=chief, group_by=Grouping.UNIT, filters=RollupFilters())
    assert live.total.long_term == 0  # the ledger did change…
    snapshot = RollupSnapshot.objects.get(pk=snapshot.pk)
    assert snapshot.rows == frozen_rows  # …the snapshot did not
    assert snapshot.total == frozen_total
    assert snapshot.total["long_term"] == 1


def test_snapshot_rows_cannot_be_edited_or_deleted(chief):
    snapshot = RollupSnapshotFactory(created_by=chief)
    snapshot.name = "改名"
    with pytest.raises(ValueError, match="不可修改"):
        snapshot.save()
    with pytest.raises(ValueError, match="不可删除"):
        snapshot.delete()


def test_snapshot_as_of_a_past_day_freezes_that_days_figures(history, chief):
    snapshot = snapshot_create(actor=chief, name="3月3日数据", group_by=Grouping.TOTAL,
                               filters=RollupFilters(as_of=DAY[2]))
    assert snapshot.as_of == DAY[2]
    assert (snapshot.total["total"], snapshot.total["submitted"]) == (4, 1)


def test_only_supervisors_save_snapshots_and_names_are_unique(history, chief, alice):
    with pytest.raises(ActionForbidden):
        snapshot_create(actor=alice, name="联络员快照", group_by="total", filters=RollupFilters())
    snapshot_create(actor=chief, name="月报", group_by="total", filters=RollupFilters())
    with pytest.raises(InvalidInput, match="已有名为"):
        snapshot_create(actor=chief, name="月报", group_by="total", filters=RollupFilters())


def test_snapshot_api_create_list_read_and_scope(history, chief, sam, alice, root_admin):
    client = APIClient()
    client.force_authenticate(chief)
    body = {"name": "第一季度报送", "group_by": "inspection", "as_of": "2026-03-04"}
    response = client.post("/api/v1/rollups/snapshots/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["total"]["completed"] == 1
    assert created["rows"][0]["sentence"].endswith("整改完成率25.0%，含基本完成整改的完成率50.0%。")
    assert client.get(f"/api/v1/rollups/snapshots/{created['id']}/").json() == created

    for user, sees in [(chief, True), (root_admin, True), (sam, False), (alice, False)]:
        other = APIClient()
        other.force_authenticate(user)
        listed = [s["id"] for s in other.get("/api/v1/rollups/snapshots/").json()]
        assert (created["id"] in listed) is sees, user
        detail = other.get(f"/api/v1/rollups/snapshots/{created['id']}/")
        assert detail.status_code == (200 if sees else 404)

    officer = APIClient()
    officer.force_authenticate(alice)
    refused = officer.post("/api/v1/rollups/snapshots/", {"name": "x"}, format="json")
    assert refused.status_code == 403


def test_a_snapshot_saved_under_the_old_light_rule_still_reads_and_downloads(chief):
    """Snapshots saved before the one light rule carry `overdue_red` and the light as it was
    then decided: they are served as frozen, and new ones no longer carry the field."""
    old = {"total": 5, "completed": 1, "overdue": 2, "overdue_red": 1, "due_soon": 0,
           "light": "red", "light_label": "红灯", "label": "合计"}
    snapshot = RollupSnapshotFactory(created_by=chief, rows=[{"key": None, **old}], total=old)
    client = APIClient()
    client.force_authenticate(chief)
    data = client.get(f"/api/v1/rollups/snapshots/{snapshot.pk}/").json()
    assert data["total"]["overdue_red"] == 1
    assert data["total"]["light"] == "red"
    assert client.get(f"/api/v1/rollups/snapshots/{snapshot.pk}/",
                      {"format": "csv"}).status_code == 200
    new = snapshot_create(actor=chief, name="新规则快照", group_by=Grouping.TOTAL,
                          filters=RollupFilters())
    assert "overdue_red" not in new.total
