"""A task's light (红黄绿灯) and working days left, as the task lists show them.

Pure functions of a task's status, deadline and today's date: no database.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from tracker.models import TaskStatus
from tracker.workdays import workdays_between

RED, YELLOW, GREEN, NONE = "red", "yellow", "green", "none"
LIGHT_LABELS = {RED: "红灯", YELLOW: "黄灯", GREEN: "绿灯", NONE: "—"}


@dataclass(frozen=True)
class DeadlineState:
    light: str
    # Working days from today to the deadline: negative when overdue, None without one.
    workdays_left: int | None
    text: str

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS[self.light]

    @property
    def overdue(self) -> bool:
        return self.light == RED


def signed_workdays(today: dt.date, deadline: dt.date) -> int:
    """Working days from today to the deadline; negative (days overdue) once it has passed."""
    if deadline >= today:
        return workdays_between(today, deadline)
    return -workdays_between(deadline, today)


def deadline_state(
    *, status: str, deadline: dt.date | None, today: dt.date, due_soon: int | None = None
) -> DeadlineState:
    """Red: overdue; yellow: due within `due_soon` working days; green: later.

    Completed and long-term tasks are never overdue (DOMAIN) and carry no light.
    """
    if due_soon is None:
        due_soon = settings.TRACKER_DUE_SOON_WORKING_DAYS
    if status == TaskStatus.COMPLETED:
        return DeadlineState(NONE, None, "已销号")
    if status == TaskStatus.LONG_TERM:
        return DeadlineState(NONE, None, "长期坚持")
    if deadline is None:
        return DeadlineState(NONE, None, "无完成时限")
    left = signed_workdays(today, deadline)
    if deadline < today:
        # Past a deadline that fell just before a weekend or holiday: overdue, 0 working days.
        return DeadlineState(RED, left, f"已逾期{-left}个工作日" if left else "已逾期")
    if deadline == today:
        return DeadlineState(YELLOW, 0, "今日到期")
    if left <= due_soon:
        return DeadlineState(YELLOW, left, f"剩余{left}个工作日")
    return DeadlineState(GREEN, left, f"剩余{left}个工作日")
