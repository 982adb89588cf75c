"""The deadline clock: overdue, due soon, the task light, the aggregate light and the words for
the working days left. The one place these are decided (the rule in Chinese: README, 红黄绿灯).

- Overdue (逾期): the deadline is before today and the task is neither completed (已销号) nor
  long term (长期坚持). Derived, never stored.
- A task's light: none for a completed or long-term task or one without a deadline; red when
  overdue; yellow when due within TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS working days (due today
  counts); green otherwise.
- A group's light (a unit's row on the dashboard, a rollup row): the worst light among its
  tasks, so a unit with a red task is red.

Pure functions of (status, deadline, today) for one task, and the same rules as Q expressions
for the queries (`overdue_q`, `not_overdue_q`, `due_soon_q`), built on the same dates so that a
row and a count can never disagree. Working days follow the Chinese statutory calendar
(tracker.workdays). Pages, the API, rollups, reminders, the Excel export and the monthly .docx
all call this module.
"""

import datetime as dt
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, CharField, F, Q, Value, When

from tracker.errors import InvalidInput
from tracker.models.tasks import CLOSED_STATUSES, TaskStatus
from tracker.workdays import add_workdays, is_workday, workdays_between

RED, YELLOW, GREEN, NONE = "red", "yellow", "green", "none"
# The CSS class of a light's days-left wording on the pages (site.css); green and none: none.
LIGHT_TEXT_CLASSES = {RED: "text-light-red", YELLOW: "text-light-yellow"}
LIGHT_LABELS = {RED: "红灯", YELLOW: "黄灯", GREEN: "绿灯", NONE: "—"}

_ONE_DAY = dt.timedelta(days=1)


def deadline_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a deadline may take: from DEADLINE_EARLIEST (old ledgers are imported) to
    DEADLINE_HORIZON_YEARS after today. A deadline of 9999-12-31 is a typing slip, and every
    page and list that shows it would carry it through the working-day calendar."""
    years = settings.DEADLINE_HORIZON_YEARS
    try:
        latest = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + years, day=28)
    return settings.DEADLINE_EARLIEST, latest


def ensure_deadline_in_bounds(
    deadline: dt.date | None, *, today: dt.date, field: str = "deadline", label: str = "完成时限"
) -> None:
    """Refuse a date outside `deadline_bounds` (every service that sets a deadline calls this:
    tasks, extensions, inspections, and through them the Excel ledger and the API)."""
    if deadline is None:
        return
    earliest, latest = deadline_bounds(today)
    if deadline > latest:
        raise InvalidInput(
            f"{label}{deadline:%Y年%m月%d日}过远：不能晚于{latest:%Y年%m月%d日}"
            f"（{settings.DEADLINE_HORIZON_YEARS}年以内）",
            fields={field: f"不能晚于{latest:%Y年%m月%d日}"},
        )
    if deadline < earliest:
        raise InvalidInput(
            f"{label}{deadline:%Y年%m月%d日}过早：不能早于{earliest:%Y年%m月%d日}",
            fields={field: f"不能早于{earliest:%Y年%m月%d日}"},
        )


def yellow_within_workdays() -> int:
    """The yellow window: a task due within this many working days is yellow."""
    return settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS


def light_rule_text() -> str:
    """The light rule as a legend under a list or a table."""
    return (
        f"红灯：已逾期；黄灯：{yellow_within_workdays()}个工作日内到期（含当日到期）；"
        "绿灯：时限充足。单位、巡视巡察取其任务中最严重的灯色。工作日按国家法定节假日及调休安排计算。"
    )


# --- One task --------------------------------------------------------------------------------


def has_light(status: str, deadline: dt.date | None) -> bool:
    """Completed and long-term tasks are never overdue (DOMAIN) and, like a task without a
    deadline, carry no light."""
    return deadline is not None and status not in CLOSED_STATUSES


def due_soon_until(today: dt.date) -> dt.date:
    """The last deadline that is still "due soon" today: every day up to the one before the
    (N+1)-th working day after today, so that a deadline on the weekend after the N-th working
    day is yellow too (it has N working days left)."""
    return add_workdays(today, yellow_within_workdays() + 1) - _ONE_DAY


def is_overdue(status: str, deadline: dt.date | None, today: dt.date) -> bool:
    return has_light(status, deadline) and deadline < today


def is_due_soon(status: str, deadline: dt.date | None, today: dt.date) -> bool:
    return has_light(status, deadline) and today <= deadline <= due_soon_until(today)


def task_light(status: str, deadline: dt.date | None, today: dt.date) -> str:
    if not has_light(status, deadline):
        return NONE
    if is_overdue(status, deadline, today):
        return RED
    if is_due_soon(status, deadline, today):
        return YELLOW
    return GREEN


def days_left_text(status: str, deadline: dt.date | None, today: dt.date) -> str:
    """What a person reads about a task's deadline on `today`, on every face:
    今日到期 / 剩余N个工作日 / 已逾期N个工作日 (or 已销号 / 长期坚持 / 无完成时限)."""
    if status == TaskStatus.COMPLETED:
        return "已销号"
    if status == TaskStatus.LONG_TERM:
        return "长期坚持"
    if deadline is None:
        return "无完成时限"
    if deadline == today:
        return "今日到期"
    left = workdays_between(today, deadline)  # negative once past
    if deadline > today:
        return f"剩余{left}个工作日" if left else "剩余不足1个工作日"
    # Past a deadline that fell just before a weekend or holiday: overdue, 0 working days.
    return f"已逾期{-left}个工作日" if left else "已逾期不足1个工作日"


@dataclass(frozen=True)
class DeadlineState:
    """A task's light and deadline wording on one day."""

    light: str
    # Working days from today to the deadline: negative when overdue, None without a light.
    workdays_left: int | None
    text: str

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS[self.light]

    @property
    def overdue(self) -> bool:
        return self.light == RED


# templates/_light.html written out in Python, for the rows that 我的任务 and 挂图作战 write
# without the template engine (tracker/web/task_rows.py, reports/web/dashboard_rows.py).
LIGHT_CELL = ('<span class="text-nowrap"><span class="light-dot light-{light}" title="{label}">'
              '</span><span class="{css}">{text}</span></span>')


def light_cell_html(state: DeadlineState, escape: Callable[[str], str] = html.escape) -> str:
    """A task's light and deadline wording as _light.html writes them, each value escaped
    by `escape` (html.escape, as Django's; a page may pass a memoising one)."""
    return LIGHT_CELL.format(light=escape(state.light), label=escape(state.light_label),
                             css=LIGHT_TEXT_CLASSES.get(state.light, ""),
                             text=escape(state.text))


def deadline_state(*, status: str, deadline: dt.date | None, today: dt.date) -> DeadlineState:
    light = task_light(status, deadline, today)
    return DeadlineState(
        light=light,
        workdays_left=None if light == NONE else workdays_between(today, deadline),
        text=days_left_text(status, deadline, today),
    )


def deadline_states(
    tasks: Iterable[tuple[str, dt.date | None]], *, today: dt.date
) -> list[DeadlineState]:
    """deadline_state of each (status, deadline) on `today`, in order: a list page asks once
    per distinct pair (tasks of one ledger share a few deadlines), the answers are the same."""
    known: dict[tuple[str, dt.date | None], DeadlineState] = {}
    states = []
    for status, deadline in tasks:
        state = known.get((status, deadline))
        if state is None:
            state = known[status, deadline] = deadline_state(
                status=status, deadline=deadline, today=today
            )
        states.append(state)
    return states


# --- A group of tasks ------------------------------------------------------------------------


def light_from_counts(*, overdue: int, due_soon: int) -> str:
    """A group's light from how many of its tasks are red (overdue) and yellow (due soon)."""
    if overdue:
        return RED
    if due_soon:
        return YELLOW
    return GREEN


def aggregate_light(lights: Iterable[str]) -> str:
    """The worst light among the tasks' lights; green for a group without a lit task."""
    lights = list(lights)
    return light_from_counts(overdue=lights.count(RED), due_soon=lights.count(YELLOW))


# --- Reminder stages -------------------------------------------------------------------------


def stage_light(offset: int) -> str:
    """The light of an open task on the day a reminder stage at `offset` working days from
    the deadline fires (negative: before it): red once past it, yellow within the yellow
    window, green before that."""
    if offset > 0:
        return RED
    return YELLOW if -offset <= yellow_within_workdays() else GREEN


# --- The same rules in SQL -------------------------------------------------------------------


def has_light_q(*, status: str = "status", deadline: str = "deadline") -> Q:
    """The tasks `has_light` holds for: a deadline, and neither completed nor long term
    (the index task_lit_deadline has exactly this condition)."""
    return Q(**{f"{deadline}__isnull": False}) & ~Q(**{f"{status}__in": CLOSED_STATUSES})


def overdue_q(today: dt.date, *, status: str = "status", deadline: str = "deadline") -> Q:
    """Overdue tasks; `status` and `deadline` name the fields (or aliases, e.g. as of a past
    day) to read."""
    return Q(**{f"{deadline}__lt": today}) & ~Q(**{f"{status}__in": CLOSED_STATUSES})


def deadline_window_q(after: dt.date | None, up_to: dt.date, *, deadline: str = "deadline") -> Q:
    """Deadlines in (after, up_to]: a reminder stage's window (after None: no lower bound)."""
    window = Q(**{f"{deadline}__lte": up_to})
    if after is not None:
        window &= Q(**{f"{deadline}__gt": after})
    return window


def not_overdue_q(today: dt.date, *, status: str = "status", deadline: str = "deadline") -> Q:
    """Exactly the tasks `overdue_q` leaves out (a task without a deadline included)."""
    return (
        Q(**{f"{deadline}__isnull": True})
        | Q(**{f"{deadline}__gte": today})
        | Q(**{f"{status}__in": CLOSED_STATUSES})
    )


def due_soon_q(today: dt.date, *, status: str = "status", deadline: str = "deadline") -> Q:
    """Yellow tasks: not closed, due from today up to `due_soon_until(today)`."""
    return Q(
        **{f"{deadline}__gte": today, f"{deadline}__lte": due_soon_until(today)}
    ) & ~Q(**{f"{status}__in": CLOSED_STATUSES})


# --- Supervision notices (督办单) ------------------------------------------------------------
#
# A notice's colour follows the light of its tasks (the supervisor may choose another); its
# reply is due by a working day the supervisor sets; a task's part of a notice is 已回复 once
# answered, 逾期未回复 when unanswered after the reply-by day, 待回复 otherwise; the notice as
# a whole is 已回复 when every part is, 逾期未回复 when a part is, 部分回复 when some are answered,
# 待回复 when none is. The same rules as expressions for the register's queries.

# Notice colours, named as in tracker.models.NoticeColour (kept as strings: this module does
# not import the notices' models).
NOTICE_BLUE, NOTICE_YELLOW, NOTICE_RED = "blue", "yellow", "red"
NOTICE_PENDING, NOTICE_PARTIAL, NOTICE_REPLIED, NOTICE_OVERDUE = (
    "pending", "partial", "replied", "overdue",
)
# The reply-by date a notice form proposes, and the latest one allowed, in working days.
NOTICE_REPLY_DEFAULT_WORKDAYS = 5
NOTICE_REPLY_MAX_WORKDAYS = 30


def suggest_notice_colour(lights: Iterable[str]) -> str:
    """The colour a notice on tasks with these lights proposes: red when one is overdue, blue
    when one nears its deadline (yellow light), yellow (behind schedule or poor quality)
    otherwise."""
    worst = aggregate_light(lights)
    if worst == RED:
        return NOTICE_RED
    if worst == YELLOW:
        return NOTICE_BLUE
    return NOTICE_YELLOW


def default_reply_by(today: dt.date) -> dt.date:
    return add_workdays(today, NOTICE_REPLY_DEFAULT_WORKDAYS)


def ensure_reply_by_valid(reply_by: dt.date | None, *, today: dt.date) -> None:
    """A reply-by date is a working day after today, at most NOTICE_REPLY_MAX_WORKDAYS working
    days ahead."""
    field = {"reply_by": ""}
    if reply_by is None:
        raise InvalidInput("请填写回复期限", fields={"reply_by": "必填"})
    if reply_by <= today:
        field["reply_by"] = "须晚于今天"
        raise InvalidInput(f"回复期限{reply_by:%Y年%m月%d日}须晚于今天", fields=field)
    latest = add_workdays(today, NOTICE_REPLY_MAX_WORKDAYS)
    if reply_by > latest:
        field["reply_by"] = f"不能晚于{latest:%Y年%m月%d日}"
        raise InvalidInput(
            f"回复期限过远：不能晚于{latest:%Y年%m月%d日}"
            f"（{NOTICE_REPLY_MAX_WORKDAYS}个工作日以内）",
            fields=field,
        )
    if not is_workday(reply_by):
        field["reply_by"] = "须为工作日"
        raise InvalidInput(f"回复期限{reply_by:%Y年%m月%d日}不是工作日", fields=field)


def notice_item_state(*, replied: bool, reply_by: dt.date, today: dt.date) -> str:
    if replied:
        return NOTICE_REPLIED
    return NOTICE_OVERDUE if reply_by < today else NOTICE_PENDING


def notice_state(*, parts: int, replied: int, reply_by: dt.date, today: dt.date) -> str:
    """The notice's state from how many of its parts (those the reader sees) are answered."""
    if parts and replied >= parts:
        return NOTICE_REPLIED
    if reply_by < today:
        return NOTICE_OVERDUE
    return NOTICE_PARTIAL if replied else NOTICE_PENDING


def notice_state_expression(
    today: dt.date, *, parts: str = "parts", replied: str = "replied", reply_by: str = "reply_by"
) -> Case:
    """`notice_state` as a database expression over annotated counts `parts` and `replied`."""
    return Case(
        When(Q(**{f"{parts}__gt": 0}) & Q(**{f"{replied}__gte": F(parts)}),
             then=Value(NOTICE_REPLIED)),
        When(Q(**{f"{reply_by}__lt": today}), then=Value(NOTICE_OVERDUE)),
        When(Q(**{f"{replied}__gt": 0}), then=Value(NOTICE_PARTIAL)),
        default=Value(NOTICE_PENDING),
        output_field=CharField(),
    )


def notice_item_state_expression(
    today: dt.date, *, replied_at: str = "replied_at", reply_by: str = "notice__reply_by"
) -> Case:
    """`notice_item_state` as a database expression."""
    return Case(
        When(Q(**{f"{replied_at}__isnull": False}), then=Value(NOTICE_REPLIED)),
        When(Q(**{f"{reply_by}__lt": today}), then=Value(NOTICE_OVERDUE)),
        default=Value(NOTICE_PENDING),
        output_field=CharField(),
    )


def notice_item_was_late(*, replied_on: dt.date | None, reply_by: dt.date, today: dt.date) -> bool:
    """Whether a notice's part was, on the day after its reply-by day, 逾期未回复 (by
    `notice_item_state`): not answered by the end of the reply-by day. Once that day has passed
    the answer never changes (a later reply is still late), so a past period's count is fixed.
    False while the reply-by day has not passed by `today`."""
    if reply_by >= today:
        return False
    replied = replied_on is not None and replied_on <= reply_by
    return notice_item_state(
        replied=replied, reply_by=reply_by, today=reply_by + _ONE_DAY
    ) == NOTICE_OVERDUE


def notice_item_was_late_q(
    today: dt.date, *, replied_at: str = "replied_at", reply_by: str = "notice__reply_by"
) -> Q:
    """`notice_item_was_late` as a query condition over SupervisionNoticeItem."""
    return Q(**{f"{reply_by}__lt": today}) & (
        Q(**{f"{replied_at}__isnull": True}) | Q(**{f"{replied_at}__date__gt": F(reply_by)})
    )
