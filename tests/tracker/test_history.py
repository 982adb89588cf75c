"""The typed task history: one writer (record_event), deadline moves in real columns, and one
deadline-history reader that the task page and the API both show."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.tracker.factories import ProblemFactory, TaskFactory, TaskRecheckFactory
from tests.tracker.web.conftest import logged_in
from tracker.errors import InvalidInput
from tracker.models import Task, TaskAction, TaskEvent, TaskRecheck, TaskStatus, TaskType
from tracker.services import extensions as ext
from tracker.services import rechecks
from tracker.services import tasks as svc
from tracker.services.notices import notice_issue, notice_reply
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = dt.date(2026, 12, 31)
S = TaskStatus


# --- One writer ---------------------------------------------------------------------------


def test_only_record_event_writes_task_history():
    """Proves every TaskEvent row the code writes goes through services.history.record_event:
    no other module under tracker/ or reports/ creates one by hand."""
    writer = ROOT / "tracker" / "services" / "history.py"
    pattern = re.compile(
        r"TaskEvent\.objects\.(create|bulk_create|get_or_create)\(|(?<!class )\bTaskEvent\(|"
        r"\.events\.create\("
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("tracker", "reports")
        for path in (ROOT / folder).rglob("*.py")
        if path != writer and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert writer.exists()
    assert offenders == []


def _event(task: Task) -> TaskEvent:
    return task.events.order_by("-at", "-id").first()


def test_every_service_writes_status_and_deadline_columns(alice, chief, bureau):
    """Proves each TaskAction written by the services carries the from/to status it moved and,
    for deadline moves only, deadline_from/deadline_to in columns (nothing read from JSON)."""
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="规范公务接待",
                           lead_unit=bureau, deadline=DEADLINE)
    rows = [(_event(task), TaskAction.CREATE, "", S.NOT_STARTED, None, None)]

    def step(service, action, before, after, **kwargs):
        nonlocal task
        service(task=task, **kwargs)
        task.refresh_from_db()
        rows.append((_event(task), action, before, after, None, None))

    step(svc.task_start, TaskAction.START, S.NOT_STARTED, S.IN_PROGRESS, actor=alice)
    step(svc.task_report_progress, TaskAction.PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS,
         actor=alice, note="已清理超标接待3次", percent=40)
    step(svc.task_submit, TaskAction.SUBMIT, S.IN_PROGRESS, S.SUBMITTED, actor=alice)
    step(svc.task_send_back, TaskAction.SEND_BACK, S.SUBMITTED, S.IN_PROGRESS, actor=chief,
         note="佐证材料不全")
    # 签收 of the sent-back task: a history row that keeps the status.
    step(svc.task_acknowledge, TaskAction.ACKNOWLEDGE, S.IN_PROGRESS, S.IN_PROGRESS,
         actor=alice)
    step(svc.task_mark_basically_completed, TaskAction.MARK_BASICALLY_COMPLETED,
         S.IN_PROGRESS, S.BASICALLY_COMPLETED, actor=chief)
    step(svc.task_submit, TaskAction.SUBMIT, S.BASICALLY_COMPLETED, S.SUBMITTED, actor=alice)
    step(svc.task_close, TaskAction.CLOSE, S.SUBMITTED, S.COMPLETED, actor=chief)
    # 回头看 (issue 15): the closure's re-check falls due, is reported and fails, which reopens
    # the task through task_reopen; another re-check is confirmed. Each keeps the status.
    recheck = TaskRecheck.objects.get(task=task)
    TaskRecheck.objects.filter(pk=recheck.pk).update(due_on=timezone.localdate())
    rechecks.recheck_mark_due(recheck=recheck)
    rows.append((_event(task), TaskAction.RECHECK_DUE, S.COMPLETED, S.COMPLETED, None, None))
    rechecks.recheck_report(actor=alice, recheck=recheck, recurred=True, note="问题反弹")
    rows.append((_event(task), TaskAction.RECHECK_REPORT, S.COMPLETED, S.COMPLETED,
                 None, None))
    rechecks.recheck_fail(actor=chief, recheck=recheck, note="群众再次反映")
    rows.append((task.events.get(action=TaskAction.RECHECK_FAIL), TaskAction.RECHECK_FAIL,
                 S.COMPLETED, S.COMPLETED, None, None))
    task.refresh_from_db()
    rows.append((_event(task), TaskAction.REOPEN, S.COMPLETED, S.IN_PROGRESS, None, None))
    other = TaskRecheckFactory(task=task, state="due")
    rechecks.recheck_report(actor=alice, recheck=other, recurred=False, note="未反弹")
    rechecks.recheck_confirm(actor=chief, recheck=other)
    rows.append((_event(task), TaskAction.RECHECK_CONFIRM, S.IN_PROGRESS, S.IN_PROGRESS,
                 None, None))
    task.refresh_from_db()

    request = ext.extension_request(task=task, actor=alice, requested_deadline=dt.date(2027, 3, 31),
                                    reason="需等待省级文件")
    ext.extension_approve(extension=request, actor=chief, note="同意")
    task.refresh_from_db()
    rows.append((_event(task), TaskAction.EXTEND_DEADLINE, S.IN_PROGRESS, S.IN_PROGRESS,
                 DEADLINE, dt.date(2027, 3, 31)))

    task = svc.task_update(task=task, actor=chief, deadline=dt.date(2027, 6, 30))
    rows.append((_event(task), TaskAction.EDIT, S.IN_PROGRESS, S.IN_PROGRESS,
                 dt.date(2027, 3, 31), dt.date(2027, 6, 30)))
    task = svc.task_update(task=task, actor=chief, measures="新措施")
    rows.append((_event(task), TaskAction.EDIT, S.IN_PROGRESS, S.IN_PROGRESS, None, None))
    # A supervision notice and its reply (issue 15): history rows that keep the status.
    notice = notice_issue(actor=chief, task_ids=[task.pk], colour="yellow", reason="进度滞后",
                          reply_by=add_workdays(timezone.localdate(), 3))
    rows.append((_event(task), TaskAction.NOTICE_ISSUE, S.IN_PROGRESS, S.IN_PROGRESS,
                 None, None))
    notice_reply(actor=alice, item=notice.items.get(), reply="已加快推进")
    rows.append((_event(task), TaskAction.NOTICE_REPLY, S.IN_PROGRESS, S.IN_PROGRESS,
                 None, None))
    # 重点任务 and priority (issue 15): a history row that keeps the status.
    from tracker.services.priority import task_set_priority

    task = task_set_priority(task=task, actor=chief, is_key=True, priority=4)
    rows.append((_event(task), TaskAction.SET_PRIORITY, S.IN_PROGRESS, S.IN_PROGRESS,
                 None, None))
    step(svc.task_mark_long_term, TaskAction.MARK_LONG_TERM, S.IN_PROGRESS, S.LONG_TERM,
         actor=chief, note="需长期坚持")

    assert {action for _, action, *_ in rows} == set(TaskAction)  # every action is covered
    for event, action, before, after, deadline_from, deadline_to in rows:
        assert (event.action, event.from_status, event.to_status,
                event.deadline_from, event.deadline_to) == (
            action, before, after, deadline_from, deadline_to)
        assert not {"deadline", "from", "to"} & set(event.data)
    extension_event, edit_event = rows[-7][0], rows[-5][0]
    assert extension_event.data == {"extension_id": request.pk}
    assert edit_event.data == {"measures": {"from": "", "to": "新措施"}}


@pytest.mark.parametrize("created_with", [None, DEADLINE])
def test_a_deadline_once_set_cannot_be_removed(chief, bureau, created_with):
    """Proves the history never records a move to no deadline: a long-term task, dated at
    creation or later, keeps a deadline (refused with a Chinese message where it used to end
    in a database error, nothing written)."""
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="持续深化作风建设",
                           lead_unit=bureau, deadline=created_with,
                           task_type=TaskType.LONG_TERM)
    if created_with is None:
        task = svc.task_update(task=task, actor=chief, deadline=DEADLINE)
    version, events = task.version, task.events.count()
    with pytest.raises(InvalidInput, match="完成时限一经确定不能取消"):
        svc.task_update(task=task, actor=chief, deadline=None)
    task.refresh_from_db()
    assert (task.deadline, task.version, task.events.count()) == (DEADLINE, version, events)


def test_database_refuses_a_deadline_column_on_a_status_event(bureau_task):
    """Proves the table itself keeps deadline columns for deadline moves only."""
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskEvent.objects.create(task=bureau_task, at=bureau_task.created_at,
                                 action=TaskAction.START, from_status=S.NOT_STARTED,
                                 to_status=S.IN_PROGRESS, deadline_to=DEADLINE)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskEvent.objects.create(task=bureau_task, at=bureau_task.created_at,
                                 action=TaskAction.EDIT, from_status=S.NOT_STARTED,
                                 to_status=S.NOT_STARTED, deadline_from=DEADLINE)


# --- One reader: the page and the API agree ------------------------------------------------


def _page_entries(user, task) -> list[tuple[str, str]]:
    html = logged_in(user).get(f"/tasks/{task.pk}/").content.decode()
    table = html.split('id="deadline-history"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", table)
    return [(date, label) for date, label in rows]


def _api_entries(client_for, user, task) -> list[tuple[str, str]]:
    data = client_for(user).get(f"/api/v1/tasks/{task.pk}/deadlines/").json()
    return [(d["deadline"] or "无", d["label"]) for d in data]


def test_page_and_api_list_the_same_deadlines_for_a_task_dated_later(
    client_for, chief, alice, bureau
):
    """Proves the one meaning of "created without a deadline and dated later": the original
    entry is 无, the dating edit is a change, and the task page and the API list exactly the
    same entries (before, the API dropped the dating edit and the page did not)."""
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="持续深化作风建设",
                           lead_unit=bureau, deadline=None, task_type=TaskType.LONG_TERM)
    task = svc.task_update(task=task, actor=chief, deadline=DEADLINE,
                           task_type=TaskType.BY_DEADLINE)
    task = svc.task_update(task=task, actor=chief, deadline=dt.date(2027, 1, 31))

    expected = [("无", "原定完成时限"), ("2026-12-31", "修改完成时限"),
                ("2027-01-31", "修改完成时限")]
    assert _api_entries(client_for, alice, task) == expected
    assert _page_entries(alice, task) == expected
    assert task.original_deadline is None  # the deadline it was created with


def test_page_and_api_agree_on_extensions_and_edits(client_for, chief, alice, bureau_task):
    """Proves page and API read one history for a dated task: original, extension, edit."""
    request = ext.extension_request(task=bureau_task, actor=alice,
                                    requested_deadline=dt.date(2027, 2, 28), reason="需协调")
    ext.extension_approve(extension=request, actor=chief)
    bureau_task.refresh_from_db()
    svc.task_update(task=bureau_task, actor=chief, deadline=dt.date(2027, 4, 30))

    expected = [("2026-12-31", "原定完成时限"), ("2027-02-28", "批准延期"),
                ("2027-04-30", "修改完成时限")]
    assert _api_entries(client_for, alice, bureau_task) == expected
    assert _page_entries(alice, bureau_task) == expected


# --- The data migration --------------------------------------------------------------------

BEFORE = ("tracker", "0004_loginfailure")
AFTER = ("tracker", "0005_taskevent_deadline_columns")


@pytest.mark.django_db(transaction=True)
def test_migration_moves_both_json_shapes_into_columns_and_back(bureau):
    """Proves the data migration reads both old JSON shapes (an extension's {"from","to"} and
    an edit's {"deadline": {"from","to"}}), fills the columns, keeps the other details in
    `data`, gives a task dated later its original 无 back, and that the reverse restores the
    old rows. The old rows are written with the schema as it was before the migration."""
    dated = TaskFactory(lead_unit=bureau, deadline=dt.date(2027, 3, 31),
                        original_deadline=dt.date(2026, 12, 31))
    # Created without a deadline, dated later: the old code set original_deadline on dating.
    later = TaskFactory(lead_unit=bureau, task_type=TaskType.LONG_TERM,
                        deadline=dt.date(2026, 9, 30))
    old_rows = [
        (dated, TaskAction.EXTEND_DEADLINE,
         {"extension_id": 7, "from": "2026-12-31", "to": "2027-01-31"}),
        (dated, TaskAction.EDIT, {"deadline": {"from": "2027-01-31", "to": "2027-03-31"},
                                  "title": {"from": "旧", "to": "新"}}),
        (dated, TaskAction.EDIT, {"measures": {"from": "", "to": "新措施"}}),
        (later, TaskAction.EDIT, {"deadline": {"from": None, "to": "2026-09-30"}}),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    ids = [
        old.get_model("tracker", "TaskEvent").objects.create(
            task_id=task.pk, at=dt.datetime(2026, 3, 2, hour, tzinfo=dt.UTC), action=action,
            from_status=task.status, to_status=task.status, data=data,
        ).pk
        for hour, (task, action, data) in enumerate(old_rows, start=8)
    ]
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps
        events = new.get_model("tracker", "TaskEvent").objects.in_bulk(ids)
        assert [(events[i].deadline_from, events[i].deadline_to, events[i].data)
                for i in ids] == [
            (dt.date(2026, 12, 31), dt.date(2027, 1, 31), {"extension_id": 7}),
            (dt.date(2027, 1, 31), dt.date(2027, 3, 31), {"title": {"from": "旧", "to": "新"}}),
            (None, None, {"measures": {"from": "", "to": "新措施"}}),
            (None, dt.date(2026, 9, 30), {}),
        ]
        tasks = new.get_model("tracker", "Task").objects.in_bulk([dated.pk, later.pk])
        assert (tasks[dated.pk].original_deadline, tasks[later.pk].original_deadline) == (
            dt.date(2026, 12, 31), None)

        executor = MigrationExecutor(connection)
        executor.migrate([BEFORE])
        events = old.get_model("tracker", "TaskEvent").objects.in_bulk(ids)
        assert [events[i].data for i in ids] == [data for _, _, data in old_rows]
        later_row = old.get_model("tracker", "Task").objects.get(pk=later.pk)
        assert later_row.original_deadline == dt.date(2026, 9, 30)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
