"""Holiday overrides (节假日安排) for 2027 and beyond, and the O(log n) working-day arithmetic.

The 2027 schedule used here is made up for the tests (the State Council has not published it):
春节 2027-02-05 (Friday) .. 02-11 off, Saturday 2027-02-13 an adjusted workday (调休).
"""

import datetime as dt
import logging

import chinese_calendar
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tracker.factories import WorkdayCalendarGenerationFactory
from tracker import workdays
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import HolidayKind, HolidayOverride, WorkdayCalendarGeneration
from tracker.services.calendar import holiday_remove, holiday_set, holiday_set_period

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.invalidate()
    yield
    # Leave the process with the calendar the other tests expect (no overrides), built now so
    # that a later test pinning its query count does not pay for the rebuild.
    HolidayOverride.objects.all().delete()
    workdays.invalidate()
    workdays.is_workday(D(2026, 1, 1))


@pytest.fixture
def spring_2027():
    holiday_set_period(start=D(2027, 2, 5), end=D(2027, 2, 11), kind=HolidayKind.HOLIDAY,
                       name="春节")
    holiday_set(date=D(2027, 2, 13), kind=HolidayKind.WORKDAY, name="春节")


def day_walk_add(day, n):
    step = dt.timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if workdays.is_workday(day):
            remaining -= 1
    return day


def day_walk_between(start, end):
    if end < start:
        return -day_walk_between(end, start)
    return sum(workdays.is_workday(start + dt.timedelta(days=i))
               for i in range(1, (end - start).days + 1))


def test_a_holiday_on_a_weekday_and_an_adjusted_saturday_in_an_override_year(spring_2027):
    assert not workdays.is_workday(D(2027, 2, 5))  # a Friday off
    assert not workdays.is_workday(D(2027, 2, 8))  # a Monday off
    assert workdays.is_workday(D(2027, 2, 13))  # a Saturday at work
    assert not workdays.is_workday(D(2027, 2, 14))
    assert workdays.add_workdays(D(2027, 2, 4), 1) == D(2027, 2, 12)
    assert workdays.add_workdays(D(2027, 2, 12), 1) == D(2027, 2, 13)
    assert workdays.add_workdays(D(2027, 2, 12), -1) == D(2027, 2, 4)
    assert workdays.add_workdays(D(2027, 2, 7), -1) == D(2027, 2, 4)
    assert workdays.workdays_between(D(2027, 2, 4), D(2027, 2, 15)) == 3  # 12, 13, 15
    assert workdays.workdays_between(D(2027, 2, 15), D(2027, 2, 4)) == -3
    assert workdays.previous_or_same_workday(D(2027, 2, 10)) == D(2027, 2, 4)
    assert workdays.previous_or_same_workday(D(2027, 2, 13)) == D(2027, 2, 13)
    assert workdays.year_is_known(2027)
    assert not workdays.year_known_to_package(2027)


def test_overrides_take_precedence_over_the_package():
    assert workdays.is_workday(D(2026, 3, 2))  # a Monday, a workday for the package
    assert not workdays.is_workday(D(2026, 10, 1))
    holiday_set(date=D(2026, 3, 2), kind=HolidayKind.HOLIDAY, name="测试")
    holiday_set(date=D(2026, 10, 1), kind=HolidayKind.WORKDAY, name="测试")
    assert not workdays.is_workday(D(2026, 3, 2))
    assert workdays.is_workday(D(2026, 10, 1))
    assert workdays.add_workdays(D(2026, 3, 1), 1) == D(2026, 3, 3)  # Sunday → Tuesday


def test_a_change_invalidates_the_calendar_at_once():
    assert workdays.is_workday(D(2027, 5, 3))  # Monday, unknown year: Monday to Friday
    holiday_set(date=D(2027, 5, 3), kind=HolidayKind.HOLIDAY, name="劳动节")
    assert not workdays.is_workday(D(2027, 5, 3))
    assert holiday_remove(start=D(2027, 5, 3)) == 1
    assert workdays.is_workday(D(2027, 5, 3))
    assert WorkdayCalendarGeneration.objects.get().generation == 2


def test_another_process_change_is_seen_through_the_generation_counter(settings):
    settings.WORKDAY_CALENDAR_RECHECK_SECONDS = 0
    assert workdays.is_workday(D(2027, 5, 3))
    # Another process writes the row and bumps the counter; this process's copy is stale.
    HolidayOverride.objects.create(date=D(2027, 5, 3), kind=HolidayKind.HOLIDAY, name="劳动节")
    WorkdayCalendarGenerationFactory(generation=7)
    assert not workdays.is_workday(D(2027, 5, 3))


def test_unknown_year_without_overrides_falls_back_to_weekdays_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="tracker.workdays"):
        assert workdays.is_workday(D(2028, 1, 3))
        assert workdays.add_workdays(D(2028, 1, 7), 1) == D(2028, 1, 10)
    assert len([r for r in caplog.records if "2028" in r.getMessage()]) == 1
    assert not workdays.year_is_known(2028)


def test_services_refuse_non_administrators_and_bad_periods(sam, root_admin):
    with pytest.raises(ActionForbidden):
        holiday_set(date=D(2027, 1, 1), kind=HolidayKind.HOLIDAY, name="元旦", actor=sam)
    with pytest.raises(InvalidInput):
        holiday_set_period(start=D(2027, 1, 3), end=D(2027, 1, 1), kind=HolidayKind.HOLIDAY)
    row = holiday_set(date=D(2027, 1, 1), kind=HolidayKind.HOLIDAY, name="元旦",
                      actor=root_admin)
    assert str(row) == "2027-01-01 法定节假日 元旦"


def test_far_dates_use_the_closed_form_beyond_the_calendar():
    # 2200 is outside every table: Monday to Friday, computed without walking the days.
    start = D(2026, 12, 31)
    far = workdays.add_workdays(start, 100_000)
    assert far.year > 2400
    assert workdays.workdays_between(start, far) == 100_000
    assert workdays.add_workdays(far, -100_000) == start


def test_command_set_and_show(capsys):
    call_command("workdays", "set", "2027-02-05", "2027-02-11", "--holiday", "--name", "春节")
    call_command("workdays", "set", "2027-02-13", "--workday", "--name", "春节")
    out = capsys.readouterr().out
    assert "已录入春节：2027-02-05 至 2027-02-11，共7天，法定节假日" in out
    assert not workdays.is_workday(D(2027, 2, 8))
    call_command("workdays", "show", "2027")
    out = capsys.readouterr().out
    assert "2027年节假日安排：由管理员录入（8天）" in out
    assert "2027-02-08 周一 春节" in out
    assert "2027-02-13 周六 春节" in out
    call_command("workdays", "show", "2026")
    assert "chinesecalendar 包已包含该年安排" in capsys.readouterr().out
    call_command("workdays", "show", "2029")
    assert "尚未录入" in capsys.readouterr().out


# --- the fast arithmetic equals a day walk ----------------------------------------------------

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2028, 12, 31))
HYPOTHESIS = settings(max_examples=200, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_calendar_matches_the_package_where_it_knows_the_year():
    day = D(2024, 1, 1)
    while day <= D(2026, 12, 31):
        assert workdays.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


@HYPOTHESIS
@given(day=dates, n=st.integers(min_value=-400, max_value=400))
def test_add_workdays_equals_a_day_walk(spring_2027, day, n):
    assert workdays.add_workdays(day, n) == day_walk_add(day, n)


@HYPOTHESIS
@given(start=dates, end=dates)
def test_workdays_between_equals_a_day_walk(spring_2027, start, end):
    assert workdays.workdays_between(start, end) == day_walk_between(start, end)


@HYPOTHESIS
@given(day=dates)
def test_previous_or_same_workday_equals_a_day_walk(spring_2027, day):
    walked = day
    while not workdays.is_workday(walked):
        walked -= dt.timedelta(days=1)
    assert workdays.previous_or_same_workday(day) == walked
