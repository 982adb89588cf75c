"""Working days and stage dates over National Day 2026 (acceptance 2), without a database.

chinese-calendar 1.11.0 for 2026: 10-01..10-07 off, 09-25 off (中秋), 09-20 (Sunday) and
10-10 (Saturday) are adjusted workdays (调休).
"""

import datetime as dt
import logging

from tracker import workdays
from tracker.reminders.rules import build_stages, current_stage, deadline_windows, fire_date

D = dt.date
STAGES = build_stages(before=[7, 3, 0], escalate_after=5, escalate_again_after=5)
BY_CODE = {stage.code: stage for stage in STAGES}


def test_adjusted_saturday_is_a_workday_and_golden_week_is_not():
    assert workdays.is_workday(D(2026, 10, 10))
    assert workdays.is_workday(D(2026, 9, 20))
    assert not any(workdays.is_workday(D(2026, 10, day)) for day in range(1, 8))
    assert not workdays.is_workday(D(2026, 10, 11))


def test_add_workdays_and_workdays_between_cross_the_holiday():
    assert workdays.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert workdays.add_workdays(D(2026, 10, 9), 1) == D(2026, 10, 10)
    assert workdays.add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert workdays.add_workdays(D(2026, 10, 3), 0) == D(2026, 10, 3)
    assert workdays.workdays_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert workdays.workdays_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert workdays.workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


def test_years_unknown_to_the_calendar_fall_back_to_weekends_and_warn(caplog):
    workdays.is_workday.cache_clear()
    workdays._warn_unknown_year.cache_clear()
    with caplog.at_level(logging.WARNING, logger="tracker.workdays"):
        assert workdays.is_workday(D(2027, 1, 1))  # a Friday: a holiday in reality, unknown
        assert not workdays.is_workday(D(2027, 1, 2))
        assert workdays.add_workdays(D(2026, 12, 31), 2) == D(2027, 1, 4)
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1, "warn once per unknown year"


def test_stage_fire_dates_for_a_deadline_right_after_national_day():
    deadline = D(2026, 10, 9)
    assert {code: fire_date(deadline, stage) for code, stage in BY_CODE.items()} == {
        "before_7": D(2026, 9, 22),
        "before_3": D(2026, 9, 29),
        "due_today": D(2026, 10, 9),
        "overdue": D(2026, 10, 10),  # the 调休 Saturday is the first working day after
        "escalation_1": D(2026, 10, 15),
        "escalation_2": D(2026, 10, 22),
    }


def test_a_deadline_on_a_holiday_is_announced_on_the_last_workday_before_it():
    deadline = D(2026, 10, 3)
    assert fire_date(deadline, BY_CODE["due_today"]) == D(2026, 9, 30)
    assert fire_date(deadline, BY_CODE["overdue"]) == D(2026, 10, 8)


def test_the_latest_stage_that_has_fired_is_current():
    deadline = D(2026, 10, 9)
    assert current_stage(STAGES, deadline, D(2026, 9, 21)) is None
    assert current_stage(STAGES, deadline, D(2026, 9, 25)).code == "before_7"
    assert current_stage(STAGES, deadline, D(2026, 10, 5)).code == "before_3"
    assert current_stage(STAGES, deadline, D(2026, 10, 11)).code == "overdue"
    assert current_stage(STAGES, deadline, D(2027, 3, 1)).code == "escalation_2"


def test_deadline_windows_agree_with_current_stage_on_every_day():
    """The SQL windows the sweep selects with must say exactly what current_stage says."""
    for offset in range(-40, 60):
        today = D(2026, 9, 1) + dt.timedelta(days=offset)
        windows = deadline_windows(STAGES, today)
        for d in range(-60, 60):
            deadline = today + dt.timedelta(days=d)
            expected = current_stage(STAGES, deadline, today)
            found = [stage for stage, after, up_to in windows
                     if deadline <= up_to and (after is None or deadline > after)]
            assert found == ([expected] if expected else []), (today, deadline)
