"""Issue 15 on PostgreSQL: notices issued at the same moment get distinct consecutive numbers
(the year's counter row is locked), and simultaneous replies to one part succeed once."""

import threading
from functools import partial

import pytest

from tests.threads import start_in_thread
from tests.tracker.factories import TaskFactory
from tests.tracker.notices.conftest import MONDAY
from tests.tracker.notices.test_services import REPLY_BY
from tracker.errors import StaleWrite, TransitionNotAllowed
from tracker.models import (
    NoticeColour,
    SupervisionNotice,
    SupervisionNoticeItem,
    TaskAction,
    TaskEvent,
    TaskStatus,
)
from tracker.services.notices import notice_issue, notice_reply

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_issues_get_distinct_consecutive_numbers(sam, town):
    tasks = [TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS) for _ in range(6)]
    barrier = threading.Barrier(len(tasks))
    results = {}
    threads = [
        start_in_thread(partial(notice_issue, actor=sam, task_ids=[task.pk],
                                colour=NoticeColour.RED, reason="进度滞后", reply_by=REPLY_BY,
                                now=MONDAY), results, i, barrier)
        for i, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.join(30)

    assert all(isinstance(r, SupervisionNotice) for r in results.values()), results
    assert sorted(SupervisionNotice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4,
                                                                                    5, 6]


def test_simultaneous_replies_to_one_part_succeed_once(sam, bob, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    notice = notice_issue(actor=sam, task_ids=[task.pk], colour=NoticeColour.RED,
                          reason="进度滞后", reply_by=REPLY_BY, now=MONDAY)
    item = notice.items.get()
    copies = [SupervisionNoticeItem.objects.get(pk=item.pk) for _ in range(5)]
    barrier = threading.Barrier(len(copies))
    results = {}
    threads = [
        start_in_thread(partial(notice_reply, actor=bob, item=copy, reply=f"回复{i}"),
                        results, i, barrier)
        for i, copy in enumerate(copies)
    ]
    for thread in threads:
        thread.join(30)

    outcomes = list(results.values())
    assert sum(isinstance(o, SupervisionNoticeItem) for o in outcomes) == 1
    assert sum(isinstance(o, (TransitionNotAllowed, StaleWrite)) for o in outcomes) == 4
    assert TaskEvent.objects.filter(task=task, action=TaskAction.NOTICE_REPLY).count() == 1
