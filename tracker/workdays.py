"""Working days (工作日) on the Chinese statutory calendar, adjusted workdays (调休) included.

Pure functions, no database. The calendar comes from chinese-calendar, which knows a fixed range
of years; for a year it does not know, a working day is Monday to Friday and a warning is logged
once per year, so that deadline arithmetic keeps working while someone upgrades the package.
"""

import datetime as dt
import logging
from functools import lru_cache

import chinese_calendar

logger = logging.getLogger(__name__)

_ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=8192)
def is_workday(day: dt.date) -> bool:
    """True when `day` is a working day: statutory holidays off, adjusted weekend workdays on."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=64)
def _warn_unknown_year(year: int) -> None:
    # lru_cache makes this log once per year and process.
    logger.warning(
        "chinese-calendar %s 不包含 %s 年的法定节假日安排，按周一至周五为工作日计算；"
        "请升级 chinesecalendar 包",
        getattr(chinese_calendar, "__version__", "?"),
        year,
    )


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0.

    `day` need not be a working day: add_workdays(holiday, 1) is the first working day after it.
    """
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        day += step
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end`; negative when end < start."""
    if end < start:
        return -workdays_between(end, start)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        if is_workday(day):
            count += 1
    return count


def previous_or_same_workday(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the last working day before it."""
    while not is_workday(day):
        day -= _ONE_DAY
    return day
