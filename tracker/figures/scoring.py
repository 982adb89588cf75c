"""考评 (unit scoring, issue 15): a score per lead unit per period, from the ledger's history
as of the period's end, with the weights of the scoring scheme in force then.

For a period [start, end] and the units a supervisor reaches (tracker.access), each unit that
led a task existing at the period's end (or received a notice or a send-back in it) gets the
figures below. A task counts under the unit that led it at the period's end, and a send-back
under the unit that led the task when it was sent back (tracker.figures.as_of.lead_unit_as_of,
from the typed lead-unit moves in the history), whoever leads it now:

- due (期内到期): its tasks whose deadline in force at the period's end (tracker.figures.as_of,
  tracker.selectors.deadline_in_force) falls in the period, long-term tasks (长期坚持) left out;
- on time (按期销号): of those, the ones completed (已销号) at the period's end whose last
  closing was on or before that deadline (as_of.ON_TIME); the rate is on time / due;
- overdue working days (逾期工作日): for each task overdue on the period's last day
  (tracker.deadlines.overdue_q on the as-of status and deadline), the working days it was past
  its deadline (tracker.workdays.workdays_between, as "已逾期N个工作日" reads), summed;
- send-backs (退回整改): TaskEvent send_back in the period;
- notices (督办): notice parts addressed to the unit (SupervisionNoticeItem.unit, the lead unit
  when issued) issued in the period; late ones (逾期回复): parts whose reply-by day is in the
  period and which were not answered by its end (tracker.deadlines.notice_item_was_late_q).

score = base − on_time_weight × (1 − rate) − overdue_day_weight × overdue days
        − send_back_weight × send-backs − notice_weight × notices − notice_late_weight × late,
never below 0, rounded to 0.01 (docs/scoring.md, with a worked example). Nothing is stored:
everything is read from the history before the period's end, so the same period always gives
the same scores, whatever happened afterwards. A period that has not ended is scored as of
today (截至今日) and may still change.

Six queries whatever the number of units and tasks: the scheme, the units, the task pass (one
as-of pass grouped by unit), the overdue pass (grouped by unit and deadline), the send-backs,
the notice parts.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q

from tracker import access, deadlines
from tracker.errors import InvalidInput
from tracker.figures import as_of
from tracker.figures.rollups import end_of_day, local_today
from tracker.models import (
    DEFAULT_WEIGHTS,
    ScoringScheme,
    SupervisionNoticeItem,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    Unit,
    User,
)
from tracker.workdays import workdays_between

CUSTOM_MAX_DAYS = 366
TOP_N_DEFAULT, TOP_N_MAX = 3, 10
CENT = Decimal("0.01")
QUARTERS = "一二三四"
LED_THEN = "scored_unit"  # the lead unit as of the figures' moment (as_of.lead_unit_as_of)


# --- The period --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str
    key: str  # what the period picker sends back: 2026-05, 2026-Q2, 2026, or 2026-05-01~2026-06-15


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _check_bounds(start: dt.date, end: dt.date, today: dt.date) -> None:
    if start < settings.DEADLINE_EARLIEST:
        raise InvalidInput(
            f"考评期间不能早于{settings.DEADLINE_EARLIEST:%Y年%m月%d日}",
            fields={"period": "期间过早"},
        )
    if start > today:
        raise InvalidInput("考评期间尚未开始", fields={"period": "不能选择今后的期间"})


def period_from_key(key: str, *, today: dt.date) -> Period:
    """`2026-05` a month, `2026-Q2` a quarter, `2026` a year, `2026-05-01~2026-06-15` a custom
    range (at most 366 days). Refused in Chinese otherwise."""
    key = (key or "").strip()
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", key):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"月份“{month}”无效", fields={"period": "月份应为1至12"})
        period = Period(dt.date(year, month, 1), _month_end(year, month),
                        f"{year}年{month}月", f"{year}-{month:02d}")
    elif match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", key):
        year, quarter = int(match[1]), int(match[2])
        period = Period(dt.date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter),
                        f"{year}年第{QUARTERS[quarter - 1]}季度", f"{year}-Q{quarter}")
    elif match := re.fullmatch(r"(\d{4})", key):
        year = int(match[1])
        period = Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年度", str(year))
    elif match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*~\s*(\d{4}-\d{2}-\d{2})", key):
        try:
            start, end = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
        except ValueError as error:
            raise InvalidInput("日期无效", fields={"period": "日期格式应为2026-05-01"}) from error
        return custom_period(start, end, today=today)
    else:
        raise InvalidInput(
            f"考评期间“{key[:30]}”无法识别",
            fields={"period": "应为月（2026-05）、季度（2026-Q2）、年度（2026）或起止日期"},
        )
    _check_bounds(period.start, period.end, today)
    return period


def custom_period(start: dt.date, end: dt.date, *, today: dt.date) -> Period:
    if end < start:
        raise InvalidInput("结束日期早于开始日期", fields={"end": "不能早于开始日期"})
    if (end - start).days + 1 > CUSTOM_MAX_DAYS:
        raise InvalidInput(f"考评期间不能超过{CUSTOM_MAX_DAYS}天", fields={"end": "期间过长"})
    _check_bounds(start, end, today)
    return Period(
        start, end,
        f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日",
        f"{start.isoformat()}~{end.isoformat()}",
    )


def default_period(*, today: dt.date) -> Period:
    """The last month that has ended."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return period_from_key(f"{last.year}-{last.month:02d}", today=today)


# --- The scheme ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    name: str
    effective_from: dt.date | None  # None: the built-in default, no scheme in force
    scheme_id: int | None
    base_score: Decimal
    on_time_weight: Decimal
    overdue_day_weight: Decimal
    send_back_weight: Decimal
    notice_weight: Decimal
    notice_late_weight: Decimal


def scheme_in_force(day: dt.date) -> Weights:
    """The newest scheme effective on `day` (the period's last day), else the defaults."""
    scheme = (ScoringScheme.objects.filter(effective_from__lte=day)
              .order_by("-effective_from").first())
    if scheme is None:
        return Weights(name="默认方案", effective_from=None, scheme_id=None, **DEFAULT_WEIGHTS)
    return Weights(name=scheme.name, effective_from=scheme.effective_from,
                   scheme_id=scheme.pk, **scheme.weights())


# --- The scores ----------------------------------------------------------------------------


@dataclass
class UnitScore:
    unit_id: int
    name: str
    path: str
    tasks: int = 0
    due: int = 0
    on_time: int = 0
    overdue_tasks: int = 0
    overdue_days: int = 0
    send_backs: int = 0
    notices: int = 0
    notices_late: int = 0
    deductions: dict[str, Decimal] = field(default_factory=dict)
    score: Decimal = Decimal("0")
    rank: int = 0
    mark: str = ""  # "best", "lagging" or ""

    @property
    def on_time_rate(self) -> Decimal | None:
        """On time / due, as a fraction rounded to 0.0001; None when nothing was due."""
        if not self.due:
            return None
        return (Decimal(self.on_time) / Decimal(self.due)).quantize(Decimal("0.0001"),
                                                                   ROUND_HALF_UP)

    @property
    def on_time_rate_text(self) -> str:
        rate = self.on_time_rate
        return "—" if rate is None else f"{(rate * 100).quantize(Decimal('0.1'))}%"


@dataclass
class Scoreboard:
    period: Period
    as_of: dt.date  # the day the figures stand at: the period's end, or today while it runs
    final: bool  # the period has ended: the scores are fixed
    weights: Weights
    rows: list[UnitScore]
    best: list[UnitScore]
    lagging: list[UnitScore]


def _score(row: UnitScore, w: Weights) -> None:
    rate = row.on_time_rate
    row.deductions = {
        "on_time": Decimal(0) if rate is None else w.on_time_weight * (1 - rate),
        "overdue_days": w.overdue_day_weight * row.overdue_days,
        "send_backs": w.send_back_weight * row.send_backs,
        "notices": w.notice_weight * row.notices,
        "notices_late": w.notice_late_weight * row.notices_late,
    }
    row.deductions = {k: v.quantize(CENT, ROUND_HALF_UP) for k, v in row.deductions.items()}
    score = w.base_score - sum(row.deductions.values(), Decimal(0))
    row.score = max(score, Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def _rank(rows: list[UnitScore]) -> list[UnitScore]:
    """Highest score first; ties share a rank (1, 2, 2, 4) and are listed by the unit tree."""
    rows.sort(key=lambda r: (-r.score, r.path))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row.score != previous:
            rank, previous = position, row.score
        row.rank = rank
    return rows


def unit_scores(
    *, user: User, period: Period, now: dt.datetime | None = None, top: int = TOP_N_DEFAULT
) -> Scoreboard:
    """The ranking of the units `user` reaches for `period` (see the module's docstring)."""
    today = local_today() if now is None else now.astimezone(end_of_day(period.end).tzinfo).date()
    day = min(period.end, today)  # the day the figures stand at
    cutoff = end_of_day(day)
    start_at = end_of_day(period.start - dt.timedelta(days=1))
    weights = scheme_in_force(period.end)  # query 1

    units_q = Unit.objects.filter(access.reachable_units_q(user))
    units = {u["id"]: u for u in units_q.values("id", "name", "short_name", "path")}  # 2
    rows: dict[int, UnitScore] = {}

    def row(unit_id: int) -> UnitScore:
        if unit_id not in rows:
            unit = units[unit_id]
            rows[unit_id] = UnitScore(unit_id=unit_id, name=unit["name"], path=unit["path"])
        return rows[unit_id]

    # Each task counts under the unit that led it at the figures' moment, not the one leading
    # it now: a task handed over after the period stays with the unit that had it then.
    led_then = access.visible_by_lead_unit_q(user, lead_unit=LED_THEN)
    once_led = access.visible_by_lead_unit_q(user)
    if once_led:  # not the whole ledger: also the tasks since handed out of the user's units
        once_led |= Q(pk__in=TaskEvent.objects.filter(  # the moves' partial index
            access.visible_by_lead_unit_q(user, lead_unit="lead_unit_from"),
            lead_unit_from__isnull=False).values("task_id"))
    tasks = as_of.with_state_as_of(Task.objects.filter(once_led), cutoff).annotate(
        **{LED_THEN: as_of.lead_unit_as_of(cutoff)}
    ).filter(led_then)
    status, deadline = as_of.STATUS, as_of.DEADLINE
    due_q = (Q(**{f"{deadline}__gte": period.start, f"{deadline}__lte": day})
             & ~Q(**{status: TaskStatus.LONG_TERM}))
    on_time_q = due_q & Q(**{status: TaskStatus.COMPLETED, as_of.ON_TIME: True})
    for r in (tasks.values(LED_THEN)  # 3
              .annotate(n=Count("id"), due=Count("id", filter=due_q),
                        on_time=Count("id", filter=on_time_q))
              .order_by()):
        if r[LED_THEN] in units:
            target = row(r[LED_THEN])
            target.tasks, target.due, target.on_time = r["n"], r["due"], r["on_time"]

    overdue = (tasks.filter(deadlines.overdue_q(day, status=status, deadline=deadline))
               .annotate(due_on=F(deadline))
               .values(LED_THEN, "due_on").annotate(n=Count("id")).order_by())
    for r in overdue:  # 4
        if r[LED_THEN] in units:
            target = row(r[LED_THEN])
            target.overdue_tasks += r["n"]
            target.overdue_days += r["n"] * -workdays_between(day, r["due_on"])

    # A send-back counts against the unit that led the task when it was sent back.
    send_backs = (TaskEvent.objects
                  .filter(action=TaskAction.SEND_BACK, at__gte=start_at, at__lt=cutoff)
                  .annotate(**{LED_THEN: as_of.lead_unit_as_of(
                      OuterRef("at"), task="task", leading_now="task__lead_unit",
                      strictly_after=True)})
                  .filter(**{f"{LED_THEN}__in": units_q})
                  .values(LED_THEN).annotate(n=Count("id")).order_by())
    for r in send_backs:  # 5
        row(r[LED_THEN]).send_backs = r["n"]

    issued_q = Q(notice__issued_at__gte=start_at, notice__issued_at__lt=cutoff)
    late_q = (Q(notice__reply_by__gte=period.start, notice__reply_by__lte=day)
              & deadlines.notice_item_was_late_q(day + dt.timedelta(days=1)))
    notices = (SupervisionNoticeItem.objects.filter(unit__in=units_q)
               .filter(issued_q | late_q)
               .values("unit").annotate(n=Count("id", filter=issued_q),
                                        late=Count("id", filter=late_q))
               .order_by())
    for r in notices:  # 6
        target = row(r["unit"])
        target.notices, target.notices_late = r["n"], r["late"]

    ranked = list(rows.values())
    for r in ranked:
        _score(r, weights)
    _rank(ranked)
    top = max(1, min(top, TOP_N_MAX))
    best = ranked[:top]
    lagging = [r for r in ranked[-top:] if r not in best][::-1] if len(ranked) > top else []
    lagging = sorted(lagging, key=lambda r: (r.score, r.path))
    for r in best:
        r.mark = "best"
    for r in lagging:
        r.mark = "lagging"
    return Scoreboard(period=period, as_of=day, final=period.end < today, weights=weights,
                      rows=ranked, best=best, lagging=lagging)


def score_as_dict(row: UnitScore) -> dict:
    rate = row.on_time_rate
    return {
        "unit": {"id": row.unit_id, "name": row.name},
        "rank": row.rank,
        "score": str(row.score),
        "mark": row.mark,
        "tasks": row.tasks,
        "due": row.due,
        "on_time": row.on_time,
        "on_time_rate": None if rate is None else str(rate),
        "overdue_tasks": row.overdue_tasks,
        "overdue_days": row.overdue_days,
        "send_backs": row.send_backs,
        "notices": row.notices,
        "notices_late": row.notices_late,
        "deductions": {k: str(v) for k, v in row.deductions.items()},
    }


def weights_as_dict(w: Weights) -> dict:
    return {
        "name": w.name,
        "effective_from": w.effective_from.isoformat() if w.effective_from else None,
        **{k: str(getattr(w, k)) for k in (
            "base_score", "on_time_weight", "overdue_day_weight", "send_back_weight",
            "notice_weight", "notice_late_weight")},
    }
