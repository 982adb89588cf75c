"""Working days (工作日) on the Chinese statutory calendar, adjusted workdays (调休) included.

No request state. Three sources, in order of precedence:
1. holiday overrides an administrator entered (tracker.models.HolidayOverride), for the years
   the State Council has published but the package does not know yet;
2. the chinesecalendar package (2004 to the last year it ships);
3. Monday to Friday, for a year known to neither; a warning is logged once per year and
   administrators see a banner (config.context_processors), so deadline arithmetic keeps
   working while someone enters the schedule.

Arithmetic is O(log n): each process keeps a sorted array of cumulative working-day counts for
the years the package or the overrides cover, searched with bisect; outside that range the
Monday-to-Friday count has a closed form. The array is rebuilt when the overrides change: the
services bump a generation counter in the database (WorkdayCalendarGeneration) and clear this
process's copy at once; other processes compare the counter at most every
settings.WORKDAY_CALENDAR_RECHECK_SECONDS (None: never, used by tests that pin query counts).
"""

import datetime as dt
import logging
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
from django.conf import settings
from django.db import DatabaseError

logger = logging.getLogger(__name__)

_ONE_DAY = dt.timedelta(days=1)


# --- the package's calendar (fixed per process) ---------------------------------------------


@lru_cache(maxsize=1)
def package_years() -> range:
    """The years chinesecalendar knows (its holiday table's first to last year)."""
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def _package_is_workday(day: dt.date) -> bool:
    if day.year in package_years():
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


# --- closed form for Monday to Friday ---------------------------------------------------------


def _weekdays_upto(ordinal: int) -> int:
    """Monday-to-Friday days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    return 5 * (ordinal // 7) + min(ordinal % 7, 5)


def _kth_weekday(k: int) -> int:
    """Ordinal of the k-th Monday-to-Friday day: the least m with _weekdays_upto(m) >= k."""
    return 7 * ((k - 1) // 5) + (k - 1) % 5 + 1


# --- the per-process calendar -----------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    generation: int | None  # None: the overrides could not be read; retried on the next check
    first: int  # ordinal of the first day of the array
    last: int  # ordinal of the last day
    cumulative: list[int]  # cumulative[i]: working days among first..first+i
    override_years: frozenset[int]
    checked_at: float

    def count(self, ordinal: int) -> int:
        """C(d): working days in first..d (d >= first), minus those in d+1..first-1 (d < first)."""
        if ordinal < self.first:
            return _weekdays_upto(ordinal) - _weekdays_upto(self.first - 1)
        if ordinal > self.last:
            return self.cumulative[-1] + _weekdays_upto(ordinal) - _weekdays_upto(self.last)
        return self.cumulative[ordinal - self.first]

    def first_reaching(self, target: int) -> int:
        """The least ordinal d with C(d) >= target: that day is a working day."""
        if target <= 0:
            return _kth_weekday(target + _weekdays_upto(self.first - 1))
        if target > self.cumulative[-1]:
            return _kth_weekday(target - self.cumulative[-1] + _weekdays_upto(self.last))
        return self.first + bisect_left(self.cumulative, target)

    def is_workday(self, ordinal: int) -> bool:
        return self.count(ordinal) != self.count(ordinal - 1)


_lock = threading.Lock()
_calendar: _Calendar | None = None


def _read_generation() -> int:
    from tracker.models import WorkdayCalendarGeneration

    row = WorkdayCalendarGeneration.objects.filter(pk=1).values_list("generation", flat=True)
    return next(iter(row), 0)


def _build() -> _Calendar:
    from tracker.models import HolidayKind, HolidayOverride

    try:
        generation = _read_generation()
        overrides = dict(HolidayOverride.objects.values_list("date", "kind"))
    except (DatabaseError, RuntimeError) as exc:  # no table yet, or a test without a database
        logger.debug("节假日安排读取失败，暂按 chinesecalendar 计算：%s", exc)
        generation, overrides = None, {}
    years = package_years()
    override_years = frozenset(day.year for day in overrides)
    first_year = min([years.start, *override_years])
    last_year = max([years.stop - 1, *override_years])
    first = dt.date(first_year, 1, 1).toordinal()
    last = dt.date(last_year, 12, 31).toordinal()
    cumulative = []
    total = 0
    for ordinal in range(first, last + 1):
        day = dt.date.fromordinal(ordinal)
        kind = overrides.get(day)
        if kind is None:
            total += _package_is_workday(day)
        else:
            total += kind == HolidayKind.WORKDAY
        cumulative.append(total)
    return _Calendar(generation, first, last, cumulative, override_years, time.monotonic())


def _current() -> _Calendar:
    global _calendar
    calendar = _calendar
    if calendar is not None:
        recheck = getattr(settings, "WORKDAY_CALENDAR_RECHECK_SECONDS", 5)
        if recheck is None or time.monotonic() - calendar.checked_at < recheck:
            return calendar
        try:
            generation = _read_generation()
        except (DatabaseError, RuntimeError):
            generation = None
        if generation is not None and generation == calendar.generation:
            calendar = _Calendar(**{**calendar.__dict__, "checked_at": time.monotonic()})
            _calendar = calendar
            return calendar
    with _lock:
        if _calendar is None or _calendar is calendar:
            _calendar = _build()
        return _calendar


def invalidate() -> None:
    """Forget this process's calendar; the next call rebuilds it from the database."""
    global _calendar
    _calendar = None
    _warn_unknown_year.cache_clear()


# --- years known ------------------------------------------------------------------------------


def year_known_to_package(year: int) -> bool:
    return year in package_years()


def year_has_overrides(year: int) -> bool:
    return year in _current().override_years


def year_is_known(year: int) -> bool:
    """True when the package or the administrators' overrides give this year's holidays."""
    return year_known_to_package(year) or year_has_overrides(year)


def _note_year(day: dt.date, calendar: _Calendar) -> None:
    if day.year not in package_years() and day.year not in calendar.override_years:
        _warn_unknown_year(day.year)


@lru_cache(maxsize=64)
def _warn_unknown_year(year: int) -> None:
    # lru_cache makes this log once per year and process.
    logger.warning(
        "chinese-calendar %s 不包含 %s 年的法定节假日安排，也未录入该年的节假日安排，"
        "按周一至周五为工作日计算；请在管理后台“节假日安排”中录入",
        getattr(chinese_calendar, "__version__", "?"),
        year,
    )


# --- the public functions ---------------------------------------------------------------------


def is_workday(day: dt.date) -> bool:
    """True when `day` is a working day: statutory holidays off, adjusted weekend workdays on."""
    calendar = _current()
    _note_year(day, calendar)
    return calendar.is_workday(day.toordinal())


is_workday.cache_clear = invalidate  # the name tests used when this was an lru_cache


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0.

    `day` need not be a working day: add_workdays(holiday, 1) is the first working day after it.
    """
    if n == 0:
        return day
    calendar = _current()
    ordinal = day.toordinal()
    # n > 0: reach C(day) + n; n < 0: the working day d with |n| of them in d..day-1.
    target = calendar.count(ordinal) + n if n > 0 else calendar.count(ordinal - 1) + n + 1
    result = dt.date.fromordinal(calendar.first_reaching(target))
    _note_year(day, calendar)
    _note_year(result, calendar)
    return result


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end`; negative when end < start."""
    calendar = _current()
    _note_year(start, calendar)
    _note_year(end, calendar)
    return calendar.count(end.toordinal()) - calendar.count(start.toordinal())


def previous_or_same_workday(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the last working day before it."""
    calendar = _current()
    ordinal = day.toordinal()
    result = dt.date.fromordinal(calendar.first_reaching(calendar.count(ordinal)))
    _note_year(result, calendar)
    return result
