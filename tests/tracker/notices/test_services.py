"""Issue 15, 督办单: issuing and answering a notice through the services — numbers, history
rows on every task, notifications exactly once, refusals that change nothing."""

import datetime as dt
from collections import Counter

import pytest
from django.db import transaction

from tests.tracker.factories import TaskFactory
from tests.tracker.notices.conftest import LOCAL, MONDAY
from tracker.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from tracker.models import (
    EventNotice,
    EventType,
    NoticeColour,
    SupervisionNotice,
    SupervisionNoticeItem,
    TaskAction,
    TaskEvent,
    TaskStatus,
)
from tracker.services.notices import notice_issue, notice_reply

pytestmark = pytest.mark.django_db
REPLY_BY = dt.date(2026, 6, 5)  # the Friday of MONDAY's week


def issue(actor, tasks, **kwargs):
    args = {"colour": NoticeColour.RED, "reason": "任务已逾期，进度严重滞后。",
            "requirements": "请说明原因和整改时间表。", "reply_by": REPLY_BY, "now": MONDAY}
    args.update(kwargs)
    return notice_issue(actor=actor, task_ids=[t.pk for t in tasks], **args)


def told(event):
    return Counter(EventNotice.objects.filter(event=event).values_list(
        "recipient_user__username", flat=True))


def test_issue_numbers_the_notice_and_addresses_each_task_to_its_lead_unit(
    sam, bob, vera, overdue_task, lagging_task, town, village
):
    notice = issue(sam, [overdue_task, lagging_task])
    assert notice.number == "督办〔2026〕1号"
    parts = {item.task_id: item.unit_id for item in notice.items.all()}
    assert parts == {overdue_task.pk: town.pk, lagging_task.pk: village.pk}
    second = issue(sam, [overdue_task], colour=NoticeColour.YELLOW)
    assert second.number == "督办〔2026〕2号"


def test_numbers_start_again_each_year(sam, overdue_task):
    issue(sam, [overdue_task])
    next_year = issue(sam, [overdue_task], now=dt.datetime(2027, 1, 4, 9, tzinfo=LOCAL),
                      reply_by=dt.date(2027, 1, 8))
    assert next_year.number == "督办〔2027〕1号"


def test_issue_writes_a_history_row_on_each_task_without_changing_its_status(
    sam, overdue_task, lagging_task
):
    notice = issue(sam, [overdue_task, lagging_task])
    events = TaskEvent.objects.filter(action=TaskAction.NOTICE_ISSUE).order_by("task_id")
    assert [(e.task_id, e.from_status, e.to_status) for e in events] == [
        (overdue_task.pk, TaskStatus.IN_PROGRESS, TaskStatus.IN_PROGRESS),
        (lagging_task.pk, TaskStatus.NOT_STARTED, TaskStatus.NOT_STARTED),
    ]
    assert all(e.data["notice_id"] == notice.pk and e.actor == sam for e in events)
    assert "督办〔2026〕1号" in events[0].note
    overdue_task.refresh_from_db()
    assert overdue_task.status == TaskStatus.IN_PROGRESS
    assert overdue_task.version == 1


def test_issue_tells_each_lead_units_officers_once_and_the_issuer_not(
    sam, bob, vera, overdue_task, lagging_task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issue(sam, [overdue_task, lagging_task])
    assert told(EventType.NOTICE_ISSUED) == {"bob": 1, "vera": 1}
    assert callbacks, "the sending is queued after commit"
    notice_text = EventNotice.objects.get(recipient_user=bob).text
    assert "督办〔2026〕1号" in notice_text
    assert "6月5日" in notice_text


def test_reply_records_history_and_tells_the_issuer_once(sam, bob, overdue_task):
    notice = issue(sam, [overdue_task])
    item = notice.items.get()
    later = MONDAY + dt.timedelta(days=1)
    notice_reply(actor=bob, item=item, reply="已召开专题会议，6月底前完成整改。", now=later)
    item.refresh_from_db()
    assert (item.replied_by, item.replied_at) == (bob, later)
    event = TaskEvent.objects.get(action=TaskAction.NOTICE_REPLY)
    assert (event.task_id, event.actor, event.from_status, event.to_status) == (
        overdue_task.pk, bob, TaskStatus.IN_PROGRESS, TaskStatus.IN_PROGRESS)
    assert told(EventType.NOTICE_REPLIED) == {"sam": 1}
    with pytest.raises(TransitionNotAllowed):
        notice_reply(actor=bob, item=item, reply="再次回复", now=later)
    assert told(EventType.NOTICE_REPLIED) == {"sam": 1}
    assert TaskEvent.objects.filter(action=TaskAction.NOTICE_REPLY).count() == 1


def test_another_units_officer_cannot_reply(sam, vera, overdue_task):
    item = issue(sam, [overdue_task]).items.get()
    with pytest.raises(ActionForbidden):
        notice_reply(actor=vera, item=item, reply="代为回复", now=MONDAY)
    item.refresh_from_db()
    assert item.replied_at is None


def test_empty_reply_is_refused(sam, bob, overdue_task):
    item = issue(sam, [overdue_task]).items.get()
    with pytest.raises(InvalidInput):
        notice_reply(actor=bob, item=item, reply="   ", now=MONDAY)


def test_officer_cannot_issue(bob, overdue_task):
    with pytest.raises(ActionForbidden):
        issue(bob, [overdue_task])
    assert not SupervisionNotice.objects.exists()


def test_supervisor_out_of_scope_is_refused_and_nothing_is_written(
    sue, sam, overdue_task, bureau_task
):
    # sue supervises the bureau: the township's task is not hers (not even visible).
    with pytest.raises(InvalidInput):
        issue(sue, [bureau_task, overdue_task])
    # sam sees neither... the bureau's task is outside his county.
    with pytest.raises(InvalidInput):
        issue(sam, [overdue_task, bureau_task])
    assert not SupervisionNotice.objects.exists()
    assert not SupervisionNoticeItem.objects.exists()
    assert not TaskEvent.objects.filter(action=TaskAction.NOTICE_ISSUE).exists()
    assert not EventNotice.objects.exists()


def test_supervisor_who_only_sees_a_task_through_a_supporting_unit_cannot_issue(sam, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    task.supporting_units.set([sam.unit])
    with pytest.raises(ActionForbidden):
        issue(sam, [task])


def test_a_closed_task_takes_no_notice(sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.COMPLETED)
    with pytest.raises(TransitionNotAllowed):
        issue(sam, [task])


@pytest.mark.parametrize(("reply_by", "hint"), [
    (dt.date(2026, 6, 1), "须晚于今天"),          # today
    (dt.date(2026, 5, 29), "须晚于今天"),         # the past
    (dt.date(2026, 6, 6), "须为工作日"),          # a Saturday
    (dt.date(2026, 6, 19), "须为工作日"),         # 端午节 2026
    (dt.date(2026, 9, 30), "不能晚于"),           # beyond 30 working days
])
def test_reply_by_must_be_a_future_workday_within_bounds(sam, overdue_task, reply_by, hint):
    with pytest.raises(InvalidInput) as refusal:
        issue(sam, [overdue_task], reply_by=reply_by)
    assert hint in refusal.value.fields["reply_by"]
    assert not SupervisionNotice.objects.exists()


def test_a_notice_needs_tasks_a_known_colour_and_a_reason(sam, overdue_task):
    with pytest.raises(InvalidInput):
        issue(sam, [])
    with pytest.raises(InvalidInput):
        issue(sam, [overdue_task], colour="green")
    with pytest.raises(InvalidInput):
        issue(sam, [overdue_task], reason=" ")


def test_a_rolled_back_issue_leaves_no_number_notice_or_message(
    sam, bob, overdue_task, django_capture_on_commit_callbacks
):
    def issue_then_fail():
        with transaction.atomic():
            issue(sam, [overdue_task])
            assert EventNotice.objects.count() == 1  # recorded inside the transaction …
            raise RuntimeError("the request fails after the notice")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        issue_then_fail()
    assert callbacks == []
    assert not SupervisionNotice.objects.exists()
    assert not EventNotice.objects.exists()
    assert issue(sam, [overdue_task]).number == "督办〔2026〕1号"


def test_an_officer_who_switched_notices_off_is_not_told(sam, bob, overdue_task):
    from tracker.reminders.preferences import notification_preferences_update

    notification_preferences_update(user=bob, on_notice_issued=False)
    issue(sam, [overdue_task])
    assert told(EventType.NOTICE_ISSUED) == Counter()


def test_unanswered_parts_are_reminded_once_after_the_reply_by_day(
    sam, bob, vera, overdue_task, lagging_task
):
    from tracker.services.notices import notice_overdue_remind

    notice = issue(sam, [overdue_task, lagging_task])
    notice_reply(actor=vera, item=notice.items.get(task=lagging_task), reply="已整改",
                 now=MONDAY)
    on_the_day = dt.datetime(2026, 6, 5, 18, tzinfo=LOCAL)  # the reply-by day itself
    assert notice_overdue_remind(now=on_the_day) == 0
    next_day = dt.datetime(2026, 6, 6, 9, tzinfo=LOCAL)
    assert notice_overdue_remind(now=next_day) == 1
    assert notice_overdue_remind(now=next_day + dt.timedelta(days=1)) == 0  # once only
    assert told(EventType.NOTICE_OVERDUE) == {"bob": 1}  # vera answered: not chased


def test_the_overdue_reminder_is_a_celery_task_on_the_beat(settings):
    from tracker import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["notice-overdue-remind"]
    assert entry["task"] == tasks.notice_overdue_remind.name
