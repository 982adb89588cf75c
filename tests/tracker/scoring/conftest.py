"""A hand-built ledger for May 2026 (period 2026-05-01 … 2026-05-31), written straight into the
history (TaskEvent) so that every figure below is known by hand:

市教育局 (bureau):
- T1 due 5/10, submitted 5/8, closed 5/9: due, on time.
- T2 due 5/15, submitted 5/12, sent back 5/13, submitted 5/18, closed 5/20: due, late; 1 send-back.
- T3 due 5/25, in progress: due, not on time, overdue on 5/31 by 4 working days (5/26-5/29).
- T4 due 6/30: not due.
- a notice part issued 5/11 on T3, reply by 5/15, replied 5/20: received 1, late 1.
  → due 3, on time 1 (rate 0.3333), overdue days 4, send-backs 1, notices 1, late 1.
  Default weights: 100 − 40×(1−0.3333)=26.67 − 0.5×4 − 2×1 − 3×1 − 5×1 = 61.33.
湖滨街道 (town, in the county):
- T5 due 5/20, extended on 5/18 to 6/20: not due, not overdue.
- T6 due 5/29, submitted 5/28, closed 5/29: due, on time.
- a notice part issued 5/20 on T5, reply by 5/27, replied 5/26: received, on time.
- a notice part issued 5/22 on T6, reply by 5/29, unanswered at the period's end: received, late.
  → due 1, on time 1, overdue 0, send-backs 0, notices 2, late 1: 100 − 6 − 5 = 89.
东湖区 (county): T7 created 6/5, after the period: not scored.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import (
    SupervisionNoticeFactory,
    SupervisionNoticeItemFactory,
    TaskEventFactory,
    TaskFactory,
    UserFactory,
)
from tracker.figures.scoring import period_from_key
from tracker.models import Role, TaskAction, TaskStatus

S, A = TaskStatus, TaskAction
LOCAL = ZoneInfo("Asia/Shanghai")
MAY_KEY = "2026-05"
AFTER_MAY = dt.datetime(2026, 6, 10, 12, 0, tzinfo=LOCAL)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=LOCAL)


def event(task, when, action, from_status, to_status, actor, deadline_to=None, deadline_from=None):
    return TaskEventFactory(task=task, at=when, action=action, from_status=from_status,
                            to_status=to_status, actor=actor, deadline_to=deadline_to,
                            deadline_from=deadline_from)


def create(title, unit, deadline, actor, when=None, status=S.IN_PROGRESS):
    task = TaskFactory(title=title, lead_unit=unit, deadline=deadline, status=status)
    event(task, when or at(4, 1), A.CREATE, S.NOT_STARTED, S.NOT_STARTED, actor)
    if status != S.NOT_STARTED:
        event(task, (when or at(4, 1)) + dt.timedelta(hours=1), A.START, S.NOT_STARTED,
              S.IN_PROGRESS, actor)
    return task


def close(task, submitted, closed, actor):
    event(task, submitted, A.SUBMIT, S.IN_PROGRESS, S.SUBMITTED, actor)
    event(task, closed, A.CLOSE, S.SUBMITTED, S.COMPLETED, actor)


def notice_part(task, unit, issued, reply_by, issuer, replied=None, replier=None):
    notice = SupervisionNoticeFactory(issued_at=issued, reply_by=reply_by, issued_by=issuer)
    return SupervisionNoticeItemFactory(
        notice=notice, task=task, unit=unit, replied_at=replied,
        replied_by=replier if replied else None, reply="已整改" if replied else "",
    )


@pytest.fixture
def may():
    return period_from_key(MAY_KEY, today=AFTER_MAY.date())


@pytest.fixture
def ledger(bureau, town, county, chief):
    clerk = UserFactory(username="clerk", unit=bureau, role=Role.OFFICER)
    t1 = create("T1", bureau, dt.date(2026, 5, 10), clerk)
    close(t1, at(5, 8), at(5, 9), chief)
    t2 = create("T2", bureau, dt.date(2026, 5, 15), clerk)
    event(t2, at(5, 12), A.SUBMIT, S.IN_PROGRESS, S.SUBMITTED, clerk)
    event(t2, at(5, 13), A.SEND_BACK, S.SUBMITTED, S.IN_PROGRESS, chief)
    close(t2, at(5, 18), at(5, 20), chief)
    t3 = create("T3", bureau, dt.date(2026, 5, 25), clerk)
    t4 = create("T4", bureau, dt.date(2026, 6, 30), clerk)
    t5 = create("T5", town, dt.date(2026, 5, 20), clerk)
    event(t5, at(5, 18), A.EXTEND_DEADLINE, S.IN_PROGRESS, S.IN_PROGRESS, chief,
          deadline_from=dt.date(2026, 5, 20), deadline_to=dt.date(2026, 6, 20))
    t6 = create("T6", town, dt.date(2026, 5, 29), clerk)
    close(t6, at(5, 28), at(5, 29), chief)
    t7 = create("T7", county, dt.date(2026, 5, 30), clerk, when=at(6, 5))
    n1 = notice_part(t3, bureau, at(5, 11), dt.date(2026, 5, 15), chief, at(5, 20), clerk)
    n2 = notice_part(t5, town, at(5, 20), dt.date(2026, 5, 27), chief, at(5, 26), clerk)
    n3 = notice_part(t6, town, at(5, 22), dt.date(2026, 5, 29), chief)
    return {"clerk": clerk, "t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t6": t6,
            "t7": t7, "n1": n1, "n2": n2, "n3": n3}
