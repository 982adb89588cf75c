"""Acceptance: every allowed and every forbidden transition, and the
history row each writes."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.tracker.factories import TaskFactory
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.models import TaskAction, TaskEvent, TaskStatus
from tracker.services import tasks as services

pytestmark = pytest.mark.django_db

S = TaskStatus
SERVICES = {
    TaskAction.START: services.task_start,
    TaskAction.SUBMIT: services.task_submit,
    TaskAction.CLOSE: services.task_close,
    TaskAction.SEND_BACK: services.task_send_back,
    TaskAction.MARK_BASICALLY_COMPLETED: services.task_mark_basically_completed,
    TaskAction.MARK_LONG_TERM: services.task_mark_long_term,
    TaskAction.REOPEN: services.task_reopen,
}

# (action, from status) -> resulting status; every pair not listed must be refused.
ALLOWED = {
    (TaskAction.START, S.NOT_STARTED): S.IN_PROGRESS,
    (TaskAction.PROGRESS, S.NOT_STARTED): S.IN_PROGRESS,
    (TaskAction.PROGRESS, S.IN_PROGRESS): S.IN_PROGRESS,
    (TaskAction.PROGRESS, S.BASICALLY_COMPLETED): S.BASICALLY_COMPLETED,
    (TaskAction.PROGRESS, S.LONG_TERM): S.LONG_TERM,
    (TaskAction.SUBMIT, S.IN_PROGRESS): S.SUBMITTED,
    (TaskAction.SUBMIT, S.BASICALLY_COMPLETED): S.SUBMITTED,
    (TaskAction.CLOSE, S.SUBMITTED): S.COMPLETED,
    (TaskAction.SEND_BACK, S.SUBMITTED): S.IN_PROGRESS,
    (TaskAction.MARK_BASICALLY_COMPLETED, S.IN_PROGRESS): S.BASICALLY_COMPLETED,
    (TaskAction.MARK_BASICALLY_COMPLETED, S.SUBMITTED): S.BASICALLY_COMPLETED,
    (TaskAction.MARK_LONG_TERM, S.NOT_STARTED): S.LONG_TERM,
    (TaskAction.MARK_LONG_TERM, S.IN_PROGRESS): S.LONG_TERM,
    (TaskAction.MARK_LONG_TERM, S.SUBMITTED): S.LONG_TERM,
    (TaskAction.MARK_LONG_TERM, S.BASICALLY_COMPLETED): S.LONG_TERM,
    (TaskAction.REOPEN, S.COMPLETED): S.IN_PROGRESS,
    (TaskAction.REOPEN, S.BASICALLY_COMPLETED): S.IN_PROGRESS,
    (TaskAction.REOPEN, S.LONG_TERM): S.IN_PROGRESS,
}
ACTIONS = [*SERVICES, TaskAction.PROGRESS]
ALL_PAIRS = [(action, status) for action in ACTIONS for status in S]
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def run(action, task, actor, **kwargs):
    kwargs.setdefault("note", "依据核查情况办理")
    if action == TaskAction.PROGRESS:
        return services.task_report_progress(task=task, actor=actor, now=NOW, **kwargs)
    return SERVICES[action](task=task, actor=actor, now=NOW, **kwargs)


@pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p in ALLOWED])
def test_allowed_transition_moves_status_and_writes_one_history_row(
    action, status, chief, bureau
):
    task = TaskFactory(lead_unit=bureau, status=status)
    run(action, task, chief)

    task.refresh_from_db()
    assert task.status == ALLOWED[(action, status)]
    assert task.version == 2
    event = TaskEvent.objects.get(task=task)
    assert (event.action, event.from_status, event.to_status) == (
        action, status, ALLOWED[(action, status)]
    )
    assert event.actor == chief
    assert event.at == NOW
    assert event.note == "依据核查情况办理"


@pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p not in ALLOWED])
def test_forbidden_transition_is_refused_in_chinese_and_changes_nothing(
    action, status, chief, bureau
):
    task = TaskFactory(lead_unit=bureau, status=status)

    with pytest.raises(TransitionNotAllowed) as refused:
        run(action, task, chief)

    assert f"任务当前状态为“{status.label}”" in refused.value.message
    task.refresh_from_db()
    assert (task.status, task.version) == (status, 1)
    assert not TaskEvent.objects.filter(task=task).exists()


def test_timestamps_follow_the_life_cycle(alice, chief, bureau):
    task = TaskFactory(lead_unit=bureau)
    services.task_start(task=task, actor=alice, now=NOW)
    assert task.started_at == NOW
    assert task.completed_at is None

    submitted_at = NOW + dt.timedelta(days=3)
    services.task_submit(task=task, actor=alice, now=submitted_at)
    assert task.completed_at == submitted_at
    assert task.closed_at is None

    closed_at = NOW + dt.timedelta(days=5)
    services.task_close(task=task, actor=chief, now=closed_at)
    assert (task.completed_at, task.closed_at) == (submitted_at, closed_at)

    services.task_reopen(task=task, actor=chief, note="复查发现问题反弹", now=closed_at)
    assert task.status == S.IN_PROGRESS
    assert (task.completed_at, task.closed_at, task.started_at) == (None, None, NOW)


def test_officer_cannot_close_task(alice, bureau):
    task = TaskFactory(lead_unit=bureau, status=S.SUBMITTED)
    with pytest.raises(ActionForbidden) as refused:
        services.task_close(task=task, actor=alice)
    assert "审核销号" in refused.value.message
    task.refresh_from_db()
    assert task.status == S.SUBMITTED


def test_officer_of_another_unit_cannot_start_or_report(bob, bureau):
    task = TaskFactory(lead_unit=bureau)
    with pytest.raises(ActionForbidden):
        services.task_start(task=task, actor=bob)
    with pytest.raises(ActionForbidden):
        services.task_report_progress(task=task, actor=bob, note="越权填报")
    assert not TaskEvent.objects.filter(task=task).exists()


def test_supervisor_out_of_scope_cannot_close(sam, bureau):
    task = TaskFactory(lead_unit=bureau, status=S.SUBMITTED)
    with pytest.raises(ActionForbidden):
        services.task_close(task=task, actor=sam)


def test_supporting_unit_officer_reports_progress_but_cannot_submit(bob, bureau, town):
    task = TaskFactory(lead_unit=bureau, status=S.IN_PROGRESS, supporting_units=[town])
    report = services.task_report_progress(
        task=task, actor=bob, note="配合单位已完成排查", percent=40
    )
    assert report.task == task
    assert task.progress_percent == 40
    with pytest.raises(ActionForbidden):
        services.task_submit(task=task, actor=bob)


@pytest.mark.parametrize(
    "action",
    [TaskAction.SEND_BACK, TaskAction.MARK_LONG_TERM, TaskAction.REOPEN, TaskAction.PROGRESS],
)
def test_transitions_that_need_a_reason_refuse_an_empty_note(action, chief, bureau):
    status = next(s for (a, s) in ALLOWED if a == action)
    task = TaskFactory(lead_unit=bureau, status=status)
    with pytest.raises(InvalidInput) as refused:
        run(action, task, chief, note="  ")
    assert refused.value.fields == {"note": "请填写说明"}
    task.refresh_from_db()
    assert task.version == 1


def test_progress_percent_out_of_range_is_refused(alice, bureau):
    task = TaskFactory(lead_unit=bureau, status=S.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="0到100"):
        services.task_report_progress(task=task, actor=alice, note="进展", percent=120)


def test_stale_copy_is_refused_and_history_shows_one_change(alice, chief, bureau):
    task = TaskFactory(lead_unit=bureau, status=S.SUBMITTED)
    first_copy = type(task).objects.get(pk=task.pk)
    second_copy = type(task).objects.get(pk=task.pk)

    services.task_close(task=first_copy, actor=chief)
    with pytest.raises(StaleWrite, match="已被他人修改"):
        services.task_send_back(task=second_copy, actor=chief, note="材料不全")

    task.refresh_from_db()
    assert task.status == S.COMPLETED
    assert list(TaskEvent.objects.filter(task=task).values_list("action", flat=True)) == [
        TaskAction.CLOSE
    ]


def test_expected_version_mismatch_is_refused(alice, bureau):
    task = TaskFactory(lead_unit=bureau, status=S.IN_PROGRESS)
    with pytest.raises(StaleWrite, match="第1版"):
        services.task_submit(task=task, actor=alice, expected_version=1 + 1)
    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS


def test_history_rows_cannot_be_edited_or_deleted(alice, bureau):
    task = TaskFactory(lead_unit=bureau)
    services.task_start(task=task, actor=alice, now=timezone.now())
    event = TaskEvent.objects.get(task=task)
    event.note = "篡改"
    with pytest.raises(ValueError, match="不可修改"):
        event.save()
    with pytest.raises(ValueError, match="不可删除"):
        event.delete()
