"""Red/yellow/green lights, the trend series and the .xlsx / CSV downloads."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory, UnitFactory
from tracker.models import TaskStatus
from tracker.services import tasks as svc
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db
S = TaskStatus
BEIJING = ZoneInfo("Asia/Shanghai")


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def lit_units(city):
    today = timezone.localdate()
    names = ("红", "红一天", "黄今日到期", "绿")
    units = {name: UnitFactory(name=name, parent=city) for name in names}
    TaskFactory(lead_unit=units["红"], deadline=today - dt.timedelta(days=30))
    TaskFactory(lead_unit=units["红一天"], deadline=add_workdays(today, -1),
                status=S.IN_PROGRESS)
    TaskFactory(lead_unit=units["黄今日到期"], deadline=today, status=S.SUBMITTED)
    TaskFactory(lead_unit=units["绿"], deadline=today - dt.timedelta(days=30), status=S.COMPLETED)
    TaskFactory(lead_unit=units["绿"], deadline=today - dt.timedelta(days=30), status=S.LONG_TERM)
    TaskFactory(lead_unit=units["绿"], deadline=today + dt.timedelta(days=60))
    return units


def _lights(user) -> dict:
    rows = _client(user).get("/api/v1/rollups/", {"group_by": "unit"}).json()["rows"]
    return {r["label"]: (r["light"], r["light_label"]) for r in rows}


def test_unit_lights_are_the_worst_light_of_their_tasks(lit_units, chief):
    """The README rule: a unit is red if any of its tasks is overdue (by any number of working
    days), else yellow if any falls due within the yellow window, else green."""
    assert _lights(chief) == {
        "江屿市委": ("red", "红灯"),  # a parent takes the worst of its subtree
        "红": ("red", "红灯"),
        "红一天": ("red", "红灯"),  # one working day overdue is red, as on the task list
        "黄今日到期": ("yellow", "黄灯"),  # due today counts as due
        "绿": ("green", "绿灯"),  # closed or long term tasks never become overdue
    }


def test_the_yellow_window_is_one_setting(lit_units, chief, settings):
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 0
    lights = _lights(chief)
    assert lights["黄今日到期"] == ("yellow", "黄灯")  # due today still counts at 0 working days
    assert lights["绿"] == ("green", "绿灯")
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 60
    assert _lights(chief)["绿"] == ("yellow", "黄灯")  # due in 60 days: within 60 working days


def test_inspection_rows_carry_a_light(lit_units, chief):
    rows = _client(chief).get("/api/v1/rollups/", {"group_by": "inspection"}).json()["rows"]
    assert {r["light"] for r in rows} == {"red", "yellow", "green"}


def test_trend_counts_completions_per_month(chief, alice, bureau):
    inspection = InspectionFactory(feedback_date=dt.date(2026, 1, 20))
    problem = ProblemFactory(inspection=inspection)

    def at(month, day):
        return dt.datetime(2026, month, day, 10, tzinfo=BEIJING)

    tasks = [
        svc.task_create(problem=problem, actor=chief, title=f"任务{i}", lead_unit=bureau,
                        deadline=dt.date(2026, 6, 30), now=at(2, 1))
        for i in range(3)
    ]
    for i, task in enumerate(tasks[:2]):
        task = svc.task_start(task=task, actor=alice, now=at(2, 10))
        task = svc.task_submit(task=task, actor=alice, now=at(3, 1))
        tasks[i] = svc.task_close(task=task, actor=chief, now=at(3 + i, 5))
    svc.task_reopen(task=tasks[0], actor=chief, note="复查发现反弹", now=at(4, 20))

    response = _client(chief).get(
        "/api/v1/rollups/trend/",
        {"inspection": inspection.pk, "period": "month", "as_of": "2026-05-31"},
    )
    series = response.json()["series"]
    assert [(p["label"], p["created"], p["closed"], p["reopened"], p["completed_to_date"],
             p["completion_rate_to_date"]) for p in series] == [
        ("2026年1月", 0, 0, 0, 0, 0.0),  # the feedback month starts the series
        ("2026年2月", 3, 0, 0, 0, 0.0),
        ("2026年3月", 0, 1, 0, 1, 33.3),
        ("2026年4月", 0, 1, 1, 1, 33.3),
        ("2026年5月", 0, 0, 0, 1, 33.3),
    ]
    weekly = _client(chief).get(
        "/api/v1/rollups/trend/",
        {"inspection": inspection.pk, "period": "week", "as_of": "2026-03-08"},
    ).json()["series"]
    assert weekly[0]["period_start"] == "2026-01-19"  # the Monday of the feedback week
    assert weekly[-1]["label"] == "2026年第10周"
    assert sum(p["closed"] for p in weekly) == 1


@pytest.fixture
def small_ledger(bureau):
    problem = ProblemFactory(aspect="方面一")
    for status in [S.COMPLETED] * 3 + [S.IN_PROGRESS]:
        TaskFactory(problem=problem, lead_unit=bureau, status=status,
                    deadline=dt.date(2099, 1, 1))


def test_xlsx_download_has_the_same_rows_as_the_json(small_ledger, chief):
    response = _client(chief).get("/api/v1/rollups/", {"group_by": "aspect", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename*=UTF-8''%E6%95%B4%E6%94%B9" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "统计对象", "任务总数", "已完成整改", "基本完成整改", "长期坚持", "未完成整改",
    )
    assert rows[1][:6] == ("方面一", 4, 3, 0, 0, 1)
    assert rows[1][10] == 75.0
    assert rows[1][-1] == (
        "细化分解为4个具体问题，已完成整改3个，基本完成整改0个，长期坚持0个，未完成整改1个，"
        "整改完成率75.0%，含基本完成整改的完成率75.0%。"
    )


def test_csv_download_opens_in_excel_as_chinese(small_ledger, chief, bureau):
    response = _client(chief).get("/api/v1/rollups/", {"group_by": "unit", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "统计对象"
    assert [r[:3] for r in rows[1:]] == [
        ["江屿市委", "4", "3"], ["市教育局", "4", "3"], ["合计", "4", "3"],
    ]


def test_spreadsheet_cells_never_start_a_formula(chief, city):
    unit = UnitFactory(name="=HYPERLINK(\"http://x\")", parent=city)
    TaskFactory(lead_unit=unit)
    response = _client(chief).get("/api/v1/rollups/", {"group_by": "unit", "format": "csv"})
    labels = [r[0] for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))]
    assert "'=HYPERLINK(\"http://x\")" in labels
    assert not any(label.startswith("=") for label in labels)


def test_control_characters_in_a_label_do_not_break_the_spreadsheet(chief, city):
    TaskFactory(lead_unit=UnitFactory(name="区\x02教育局\x0b", parent=city))
    response = _client(chief).get("/api/v1/rollups/", {"group_by": "unit", "format": "xlsx"})
    assert response.status_code == 200
    labels = [row[0] for row in load_workbook(io.BytesIO(response.content)).active
              .iter_rows(min_row=2, values_only=True)]
    assert "区教育局\n" in labels


def test_snapshot_downloads_as_xlsx(small_ledger, chief):
    client = _client(chief)
    created = client.post("/api/v1/rollups/snapshots/", {"name": "报送", "group_by": "total"},
                          format="json").json()
    response = client.get(f"/api/v1/rollups/snapshots/{created['id']}/", {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("合计", 4, 3)
