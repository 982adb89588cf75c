"""The admin page 节假日安排 and the banner for a year whose holidays nobody has entered."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.tracker.factories import HolidayOverrideFactory
from tracker import workdays
from tracker.models import HolidayKind, HolidayOverride
from tracker.services.calendar import holiday_set

D = dt.date
pytestmark = pytest.mark.django_db
BANNER = "年节假日安排尚未录入"


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.invalidate()
    yield
    HolidayOverride.objects.all().delete()
    workdays.invalidate()
    workdays.is_workday(D(2026, 1, 1))


def test_an_administrator_adds_a_holiday_period_in_one_form(client, root_admin):
    client.force_login(root_admin)
    response = client.post(reverse("admin:tracker_holidayoverride_add_period"), {
        "start": "2027-02-05", "end": "2027-02-11", "kind": HolidayKind.HOLIDAY, "name": "春节",
    })
    assert response.status_code == 302
    assert HolidayOverride.objects.filter(name="春节").count() == 7
    assert not workdays.is_workday(D(2027, 2, 8))  # the calendar changed at once
    page = client.get(reverse("admin:tracker_holidayoverride_calendar"), {"year": 2027})
    text = page.content.decode()
    assert "2027年节假日安排" in text
    assert "由管理员录入（7天）" in text
    assert "春节" in text
    assert client.get(reverse("admin:tracker_holidayoverride_add")).status_code == 200
    assert client.get(reverse("admin:tracker_holidayoverride_changelist")).status_code == 200


def test_the_form_refuses_an_end_before_the_start(client, root_admin):
    client.force_login(root_admin)
    response = client.post(reverse("admin:tracker_holidayoverride_add_period"), {
        "start": "2027-02-11", "end": "2027-02-05", "kind": HolidayKind.HOLIDAY, "name": "春节",
    })
    assert response.status_code == 200
    assert "结束日期早于开始日期" in response.content.decode()
    assert not HolidayOverride.objects.exists()


def test_deleting_in_the_admin_goes_through_the_service(client, root_admin):
    client.force_login(root_admin)
    holiday_set(date=D(2027, 5, 3), kind=HolidayKind.HOLIDAY, name="劳动节")
    assert not workdays.is_workday(D(2027, 5, 3))
    row = HolidayOverride.objects.get()
    response = client.post(reverse("admin:tracker_holidayoverride_delete", args=[row.pk]),
                           {"post": "yes"})
    assert response.status_code == 302
    assert workdays.is_workday(D(2027, 5, 3))


def test_a_supervisor_cannot_see_the_page(client, chief):
    client.force_login(chief)
    for name in ("calendar", "add_period", "changelist"):
        response = client.get(reverse(f"admin:tracker_holidayoverride_{name}"))
        assert response.status_code == 403, name
    assert "节假日安排" not in client.get(reverse("admin:index")).content.decode()


@pytest.fixture
def december_2026(monkeypatch):
    monkeypatch.setattr("config.context_processors._today", lambda: D(2026, 12, 2))


def test_the_banner_shows_to_an_administrator_for_an_unknown_year(client, root_admin, chief,
                                                                   december_2026):
    client.force_login(root_admin)
    text = client.get(reverse("web:task_list")).content.decode()
    assert "2027" + BANNER in text
    assert reverse("admin:tracker_holidayoverride_calendar") + "?year=2027" in text
    client.force_login(chief)
    assert BANNER not in client.get(reverse("web:task_list")).content.decode()


def test_no_banner_once_the_year_has_overrides(client, root_admin, december_2026):
    holiday_set(date=D(2027, 1, 1), kind=HolidayKind.HOLIDAY, name="元旦")
    client.force_login(root_admin)
    assert BANNER not in client.get(reverse("web:task_list")).content.decode()


def test_the_factory_row_is_a_holiday():
    assert HolidayOverrideFactory().kind == HolidayKind.HOLIDAY
