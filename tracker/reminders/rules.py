"""Which reminder stage a task is in on a given day. Pure logic: dates in, stages out.

Every stage sits at a signed offset in working days from the deadline:

    before_7 (-7), before_3 (-3), due_today (0), overdue (+1), escalation_1 (+N),
    escalation_2 (+N+M)

A stage fires on its fire date (`fire_date`), and a task is in the latest stage whose fire date
has come (`current_stage`). Only the current stage is ever recorded, so a task that enters the
ledger already overdue gets one overdue or escalation notice, not the whole history.

A stage's light (`level`) is the light rule of tracker.deadlines on its fire day (a notice
before the deadline is yellow within the yellow window, green before it; overdue and escalations
red); its label names the kind of notice, never a count of days, since a notice may be read on a
later day than its stage fired. What a person reads (light and days left) is computed from the
day the message is written, by tracker.deadlines.

Because every fire date grows with the deadline, "stage S is current today" is the same as "the
deadline lies in a window of dates" (`deadline_windows`), which is what lets the sweep select
candidate tasks with plain date comparisons in SQL.
"""

import datetime as dt
from dataclasses import dataclass

from tracker.deadlines import stage_light
from tracker.workdays import add_workdays, previous_or_same_workday


@dataclass(frozen=True)
class Stage:
    code: str
    offset: int  # working days relative to the deadline (negative: before it)
    level: str  # green / yellow / red (红黄绿灯) on the fire day: tracker.deadlines.stage_light
    audience: str  # "unit": the lead unit; "supervisors_1"/"supervisors_2": 督办 levels;
    # "supervisors_1_2": the responsible supervisors and the next ones up (review overdue)
    label: str
    deadline_caption: str = "完成时限"  # what the date counted from is called in a message


def build_stages(
    *, before: list[int] | tuple[int, ...], escalate_after: int, escalate_again_after: int
) -> tuple[Stage, ...]:
    """Stages from the settings, ordered by offset, each with the light of its fire day."""
    if escalate_after < 2 or escalate_again_after < 1:
        raise ValueError("督办须在逾期至少2个工作日后，二级督办须在督办之后")
    before = sorted({int(k) for k in before if int(k) >= 0}, reverse=True)
    stages = [
        (("due_today" if k == 0 else f"before_{k}"), -k, "unit", "到期提醒") for k in before
    ]
    stages.append(("overdue", 1, "unit", "已逾期"))
    stages.append(("escalation_1", escalate_after, "supervisors_1", "逾期督办"))
    stages.append(
        ("escalation_2", escalate_after + escalate_again_after, "supervisors_2", "逾期二级督办")
    )
    return tuple(
        Stage(code, offset, stage_light(offset), audience, label)
        for code, offset, audience, label in sorted(stages, key=lambda s: s[1])
    )


# --- The review deadline (审核时限) of a submitted task ------------------------------------
#
# Once a task is submitted (已提交待审核) the unit has done its part: the task stops chasing
# the unit and waits on its supervisors, who must review it (close or send it back) within
# REVIEW_WITHIN_WORKDAYS working days of the submission. Its stages work like the deadline's:
# a reminder a few working days before, and escalation once it has passed.


def review_deadline(submitted_on: dt.date, within_workdays: int) -> dt.date:
    """The working day by which a task submitted on `submitted_on` is to be reviewed."""
    return add_workdays(submitted_on, within_workdays)


def build_review_stages(*, remind_before: int, escalate_after: int) -> tuple[Stage, ...]:
    """Review stages: `review_due_soon` `remind_before` working days before the review
    deadline (none when 0), `review_overdue` `escalate_after` working days after it."""
    if escalate_after < 1:
        raise ValueError("审核逾期督办须在审核时限之后")
    stages = []
    if remind_before > 0:
        stages.append(Stage("review_due_soon", -remind_before, stage_light(-remind_before),
                            "supervisors_1", "销号审核即将到期", "审核时限"))
    stages.append(Stage("review_overdue", escalate_after, stage_light(escalate_after),
                        "supervisors_1_2", "销号审核逾期督办", "审核时限"))
    return tuple(stages)


# --- The acknowledgement deadline (签收时限) of a new assignment -----------------------------
#
# A task created, moved to another lead unit or sent back awaits its lead unit's 签收
# (docs/acknowledgement.md). Counted from the (Shanghai) day the assignment was made: the
# unit's officers are reminded ACK_REMIND_WORKDAYS working days later (that day is the
# 签收时限), the task's supervisors escalated to ACK_ESCALATE_WORKDAYS working days later.


def ack_deadline(requested_on: dt.date, remind_workdays: int) -> dt.date:
    """The 签收时限 of an assignment made on `requested_on`: its reminder fires that day."""
    return add_workdays(requested_on, remind_workdays)


def build_ack_stages(*, remind_after: int, escalate_after: int) -> tuple[Stage, ...]:
    """`ack_remind` on the 签收时限 (the lead unit), `ack_escalation` when `escalate_after`
    working days have passed since the assignment (the task's supervisors)."""
    if remind_after < 1 or escalate_after <= remind_after:
        raise ValueError("签收提醒须在交办至少1个工作日后，督办须在提醒之后")
    offset = escalate_after - remind_after
    return (
        Stage("ack_remind", 0, stage_light(0), "unit", "逾期未签收提醒", "签收时限"),
        Stage("ack_escalation", offset, stage_light(offset), "supervisors_1", "逾期未签收督办",
              "签收时限"),
    )


def fire_date(deadline: dt.date, stage: Stage) -> dt.date:
    """The working day on which `stage` fires for `deadline`.

    "On the day" of a deadline that falls on a holiday fires on the last working day before it;
    "overdue" fires on the first working day after the deadline.
    """
    if stage.offset == 0:
        return previous_or_same_workday(deadline)
    return add_workdays(deadline, stage.offset)


def current_stage(stages: tuple[Stage, ...], deadline: dt.date, today: dt.date) -> Stage | None:
    """The latest stage whose fire date is on or before `today`, or None (nothing due yet)."""
    for stage in reversed(stages):
        if fire_date(deadline, stage) <= today:
            return stage
    return None


def _last_deadline_fired(stage: Stage, today: dt.date) -> dt.date:
    """The latest deadline for which `stage` has fired by `today` (fire dates grow with it)."""
    day = today + dt.timedelta(days=3 * max(0, -stage.offset) + 30)
    while fire_date(day, stage) > today:
        day -= dt.timedelta(days=1)
    return day


def deadline_windows(
    stages: tuple[Stage, ...], today: dt.date
) -> list[tuple[Stage, dt.date | None, dt.date]]:
    """For each stage, (stage, after, up_to): the stage is current today exactly for deadlines
    with after < deadline <= up_to (after None: no lower bound, the last stage)."""
    limits = [_last_deadline_fired(stage, today) for stage in stages]
    windows = []
    for index, stage in enumerate(stages):
        after = limits[index + 1] if index + 1 < len(stages) else None
        if after is None or after < limits[index]:
            windows.append((stage, after, limits[index]))
    return windows
