"""Issue 15, 回头看 and effectiveness: the verdict and 原因分析 at closure, the re-check
scheduled six months later, marked due by the daily sweep, reported by the unit, confirmed or
failed (the task reopened) by the supervisor — history rows for every change, notices once."""

import datetime as dt
from collections import Counter

import pytest

from tests.tracker.factories import TaskFactory
from tests.tracker.rechecks.conftest import LOCAL, MONDAY
from tracker.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from tracker.models import (
    EventNotice,
    EventType,
    RecheckState,
    TaskAction,
    TaskEvent,
    TaskRecheck,
    TaskStatus,
)
from tracker.services import rechecks
from tracker.services.review import review_bulk
from tracker.services.tasks import task_close

pytestmark = pytest.mark.django_db
DUE_DAY = dt.datetime(2026, 12, 1, 9, 20, tzinfo=LOCAL)  # six months after MONDAY


def told(event):
    return Counter(EventNotice.objects.filter(event=event).values_list(
        "recipient_user__username", flat=True))


def actions(task):
    return list(TaskEvent.objects.filter(task=task).order_by("at", "id")
                .values_list("action", flat=True))


def test_closure_records_verdict_root_cause_and_schedules_recheck_six_months_later(closed):
    assert closed.status == TaskStatus.COMPLETED
    assert (closed.effectiveness, closed.root_cause) == ("effective", "制度执行不严，监督缺位。")
    recheck = TaskRecheck.objects.get(task=closed)
    assert recheck.due_on == dt.date(2026, 12, 1)
    assert recheck.state == RecheckState.SCHEDULED
    close_event = TaskEvent.objects.get(task=closed, action=TaskAction.CLOSE)
    assert close_event.data == {"effectiveness": "effective",
                                "root_cause": "制度执行不严，监督缺位。",
                                "recheck_on": "2026-12-01"}


def test_default_months_come_from_settings(settings, sam, submitted_task):
    settings.RECHECK_DEFAULT_MONTHS = 3
    task_close(task=submitted_task, actor=sam, now=MONDAY, effectiveness="effective")
    assert TaskRecheck.objects.get(task=submitted_task).due_on == dt.date(2026, 9, 1)


def test_closer_may_pick_another_date_or_none(sam, submitted_task, town):
    task_close(task=submitted_task, actor=sam, now=MONDAY, recheck_on=dt.date(2026, 8, 3))
    assert TaskRecheck.objects.get(task=submitted_task).due_on == dt.date(2026, 8, 3)
    other = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    task_close(task=other, actor=sam, now=MONDAY, recheck_on=None)
    assert not TaskRecheck.objects.filter(task=other).exists()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"effectiveness": "great"}, "effectiveness"),
    ({"recheck_on": dt.date(2026, 6, 1)}, "recheck_on"),
    ({"recheck_on": dt.date(2040, 1, 1)}, "recheck_on"),
])
def test_bad_closure_input_is_refused_and_changes_nothing(sam, submitted_task, kwargs, field):
    with pytest.raises(InvalidInput) as error:
        task_close(task=submitted_task, actor=sam, now=MONDAY, **kwargs)
    assert field in error.value.fields
    submitted_task.refresh_from_db()
    assert submitted_task.status == TaskStatus.SUBMITTED
    assert not TaskRecheck.objects.exists()


def test_bulk_close_leaves_verdict_blank_and_schedules_default_recheck(sam, submitted_task):
    outcome = review_bulk(actor=sam, action="close", task_ids=[submitted_task.pk],
                          confirm_no_evidence=True, now=MONDAY)
    assert len(outcome.done) == 1
    submitted_task.refresh_from_db()
    assert submitted_task.effectiveness == ""
    assert TaskRecheck.objects.get(task=submitted_task).due_on == dt.date(2026, 12, 1)


def test_sweep_marks_due_once_and_tells_the_lead_unit_once(closed, bob, sam):
    day_before = DUE_DAY - dt.timedelta(days=1)
    assert rechecks.rechecks_sweep(now=day_before).due == 0
    assert rechecks.rechecks_sweep(now=DUE_DAY).due == 1
    assert rechecks.rechecks_sweep(now=DUE_DAY).due == 0  # idempotent
    recheck = TaskRecheck.objects.get(task=closed)
    assert recheck.state == RecheckState.DUE
    assert told(EventType.RECHECK_DUE) == {"bob": 1}
    assert actions(closed).count(TaskAction.RECHECK_DUE) == 1


def test_unreported_recheck_reminds_unit_then_supervisors_each_once(settings, closed, bob,
                                                                    sam, chief):
    settings.RECHECK_REMIND_AFTER_WORKDAYS = 5
    settings.RECHECK_ESCALATE_AFTER_WORKDAYS = 10
    rechecks.rechecks_sweep(now=DUE_DAY)
    assert told(EventType.RECHECK_OVERDUE) == {}
    week_later = DUE_DAY + dt.timedelta(days=7)  # 5 working days after Tue 1 Dec
    rechecks.rechecks_sweep(now=week_later)
    rechecks.rechecks_sweep(now=week_later)
    assert told(EventType.RECHECK_OVERDUE) == {"bob": 1}
    two_weeks_later = DUE_DAY + dt.timedelta(days=14)
    rechecks.rechecks_sweep(now=two_weeks_later)
    rechecks.rechecks_sweep(now=two_weeks_later + dt.timedelta(days=1))
    assert told(EventType.RECHECK_OVERDUE) == {"bob": 1, "sam": 1}


def test_unit_reports_then_supervisor_confirms(closed, bob, sam):
    rechecks.rechecks_sweep(now=DUE_DAY)
    recheck = TaskRecheck.objects.get(task=closed)
    rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False,
                            note="整改措施持续有效，未发现反弹。", now=DUE_DAY)
    recheck.refresh_from_db()
    assert (recheck.state, recheck.recurred, recheck.reported_by) == (
        RecheckState.REPORTED, False, bob)
    assert told(EventType.RECHECK_REPORTED) == {"sam": 1}
    rechecks.recheck_confirm(actor=sam, recheck=recheck, note="同意", now=DUE_DAY)
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.CONFIRMED
    closed.refresh_from_db()
    assert closed.status == TaskStatus.COMPLETED
    assert actions(closed)[-3:] == [TaskAction.RECHECK_DUE, TaskAction.RECHECK_REPORT,
                                    TaskAction.RECHECK_CONFIRM]


def test_failed_recheck_reopens_the_task_through_reopen(closed, bob, sam):
    recheck = TaskRecheck.objects.get(task=closed)
    rechecks.recheck_report(actor=bob, recheck=recheck, recurred=True,
                            note="部分问题出现反弹。", now=DUE_DAY)
    rechecks.recheck_fail(actor=sam, recheck=recheck, note="问题反弹，重新整改", now=DUE_DAY)
    recheck.refresh_from_db()
    closed.refresh_from_db()
    assert recheck.state == RecheckState.FAILED
    assert closed.status == TaskStatus.IN_PROGRESS
    assert actions(closed)[-2:] == [TaskAction.RECHECK_FAIL, TaskAction.REOPEN]
    assert told(EventType.REOPENED) == {"bob": 1}


def test_who_may_report_and_decide(closed, bob, sam, sue, alice):
    recheck = TaskRecheck.objects.get(task=closed)
    for outsider in (alice, sue):
        with pytest.raises(ActionForbidden):
            rechecks.recheck_report(actor=outsider, recheck=recheck, recurred=False,
                                    note="x", now=DUE_DAY)
    rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False, note="未反弹",
                            now=DUE_DAY)
    for not_supervisor in (bob, sue):
        with pytest.raises(ActionForbidden):
            rechecks.recheck_confirm(actor=not_supervisor, recheck=recheck, now=DUE_DAY)
    with pytest.raises(TransitionNotAllowed):
        rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False, note="again",
                                now=DUE_DAY)


def test_report_needs_answer_and_note_and_fail_needs_reason(closed, bob, sam):
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(InvalidInput):
        rechecks.recheck_report(actor=bob, recheck=recheck, recurred=None, note="x")
    with pytest.raises(InvalidInput):
        rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False, note="  ")
    rechecks.recheck_report(actor=bob, recheck=recheck, recurred=True, note="反弹")
    with pytest.raises(InvalidInput):
        rechecks.recheck_fail(actor=sam, recheck=recheck, note="")
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.REPORTED


def test_confirm_before_report_is_refused(closed, sam):
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(TransitionNotAllowed):
        rechecks.recheck_confirm(actor=sam, recheck=recheck)


def test_closing_again_after_a_manual_reopen_replaces_the_open_recheck(closed, sam, bob):
    from tracker.services.tasks import task_reopen, task_submit

    task_reopen(task=closed, actor=sam, note="复查发现问题")
    task_submit(task=closed, actor=bob)
    task_close(task=closed, actor=sam, recheck_on=dt.date.today() + dt.timedelta(days=30))
    assert TaskRecheck.objects.filter(task=closed).count() == 1


def test_the_sweep_is_a_celery_task_on_the_beat_and_the_sweeps_queue(settings, closed, bob):
    from config.celery_queues import ROUTES, SWEEPS
    from tracker import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["rechecks-sweep"]
    assert entry["task"] == tasks.rechecks_sweep.name
    assert ROUTES[tasks.rechecks_sweep.name] == {"queue": SWEEPS}
    TaskRecheck.objects.filter(task=closed).update(due_on=dt.date(2020, 1, 6))
    assert tasks.rechecks_sweep()["due"] == 1
    assert tasks.rechecks_sweep()["due"] == 0
