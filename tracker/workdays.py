"""Working days (工作日): Chinese statutory holidays and adjusted workdays (调休) apply.

Minimal version for the rollup lights; chinese-calendar knows the State Council's calendar
for the years it ships, and outside them the fallback is Monday to Friday.
"""

import datetime as dt

import chinese_calendar


def is_workday(date: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(date)
    except NotImplementedError:  # a year the installed calendar does not cover
        return date.weekday() < 5


def add_workdays(date: dt.date, n: int) -> dt.date:
    """The date n working days after `date` (before it when n is negative)."""
    step = dt.timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    day = date
    while remaining:
        day += step
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if is_workday(day):
            count += 1
        day += dt.timedelta(days=1)
    return count
