"""Creating and editing tasks, deadline extensions and evidence: the services' rules."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracker.factories import ProblemFactory, TaskFactory
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.models import (
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    TaskAction,
    TaskEvent,
    TaskStatus,
    TaskType,
)
from tracker.services.evidence import evidence_add
from tracker.services.extensions import extension_approve, extension_reject, extension_request
from tracker.services.tasks import task_create, task_update

pytestmark = pytest.mark.django_db
DEADLINE = dt.date(2026, 12, 31)


def test_supervisor_creates_a_task_with_its_history_row(sam, town, county):
    problem = ProblemFactory()
    task = task_create(
        problem=problem, actor=sam, title="整改街道财务公开", lead_unit=town,
        supporting_units=[county, town], deadline=DEADLINE,
    )
    assert task.inspection == problem.inspection
    assert task.original_deadline == DEADLINE
    assert list(task.supporting_units.all()) == [county]  # the lead unit is not its own helper
    event = TaskEvent.objects.get(task=task)
    assert (event.action, event.from_status, event.to_status) == (
        TaskAction.CREATE, "", TaskStatus.NOT_STARTED
    )


def test_supervisor_cannot_create_tasks_outside_scope(sam, bureau):
    with pytest.raises(ActionForbidden, match="市教育局"):
        task_create(problem=ProblemFactory(), actor=sam, title="越权", lead_unit=bureau,
                    deadline=DEADLINE)


def test_deadline_required_unless_long_term(chief, bureau):
    with pytest.raises(InvalidInput, match="完成时限"):
        task_create(problem=ProblemFactory(), actor=chief, title="无时限", lead_unit=bureau,
                    deadline=None)
    task = task_create(problem=ProblemFactory(), actor=chief, title="长期", lead_unit=bureau,
                       deadline=None, task_type=TaskType.LONG_TERM)
    assert task.deadline is None


def test_editing_a_deadline_keeps_the_original_and_records_both(chief, bureau_task):
    later = DEADLINE + dt.timedelta(days=10)
    task_update(task=bureau_task, actor=chief, deadline=later, measures="新措施")
    assert (bureau_task.deadline, bureau_task.original_deadline) == (later, DEADLINE)
    event = TaskEvent.objects.get(task=bureau_task, action=TaskAction.EDIT)
    assert (event.deadline_from, event.deadline_to) == (DEADLINE, later)
    assert set(event.data) == {"measures"}  # the deadline is in its columns only
    assert bureau_task.version == 2


def test_officer_cannot_edit_and_status_is_not_editable(alice, chief, bureau_task):
    with pytest.raises(ActionForbidden):
        task_update(task=bureau_task, actor=alice, measures="自改措施")
    with pytest.raises(InvalidInput, match="status"):
        task_update(task=bureau_task, actor=chief, status=TaskStatus.COMPLETED)
    bureau_task.refresh_from_db()
    assert bureau_task.version == 1


def test_stale_edit_is_refused(chief, bureau_task):
    with pytest.raises(StaleWrite):
        task_update(task=bureau_task, actor=chief, expected_version=7, title="新名称")


def test_extension_approved_moves_deadline_and_keeps_every_deadline(alice, chief, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS, deadline=DEADLINE)
    first = extension_request(task=task, actor=alice, requested_deadline=dt.date(2027, 1, 31),
                              reason="需等待省级文件")
    extension_approve(extension=first, actor=chief, note="同意")
    task.refresh_from_db()
    second = extension_request(task=task, actor=alice, requested_deadline=dt.date(2027, 3, 31),
                               reason="工程冬季停工")
    extension_approve(extension=second, actor=chief)
    task.refresh_from_db()
    assert task.deadline == dt.date(2027, 3, 31)
    assert task.original_deadline == DEADLINE
    history = [e.deadline_from for e in task.events.filter(action=TaskAction.EXTEND_DEADLINE)]
    assert history == [DEADLINE, dt.date(2027, 1, 31)]


def test_extension_rules(alice, bob, chief, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS, deadline=DEADLINE)
    with pytest.raises(ActionForbidden):
        extension_request(task=task, actor=bob, requested_deadline=dt.date(2027, 1, 1),
                          reason="理由")
    with pytest.raises(InvalidInput, match="须晚于当前完成时限"):
        extension_request(task=task, actor=alice, requested_deadline=DEADLINE, reason="理由")
    pending = extension_request(task=task, actor=alice, requested_deadline=dt.date(2027, 1, 1),
                                reason="理由")
    with pytest.raises(TransitionNotAllowed, match="已有待审批"):
        extension_request(task=task, actor=alice, requested_deadline=dt.date(2027, 2, 1),
                          reason="再次申请")
    with pytest.raises(ActionForbidden):
        extension_approve(extension=pending, actor=alice)
    with pytest.raises(InvalidInput, match="驳回"):
        extension_reject(extension=pending, actor=chief, note="")
    extension_reject(extension=pending, actor=chief, note="理由不充分")
    with pytest.raises(TransitionNotAllowed, match="已审批"):
        extension_approve(extension=pending, actor=chief)
    task.refresh_from_db()
    assert task.deadline == DEADLINE
    assert DeadlineExtension.objects.get().status == ExtensionStatus.REJECTED


def pdf(name="整改报告.pdf", size=None):
    body = b"%PDF-1.4\n" + b"0" * ((size or 100) - 9)
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def test_evidence_is_stored_privately_with_its_hash(
    alice, bureau_task, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        evidence = evidence_add(task=bureau_task, actor=alice, uploaded=pdf())
    assert evidence.original_name == "整改报告.pdf"
    assert (evidence.size, len(evidence.sha256)) == (100, 64)
    assert evidence.file.name.startswith(f"evidence/{bureau_task.pk}/")
    assert "整改报告" not in evidence.file.name
    assert (tmp_path / evidence.file.name).read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="URL"):
        evidence.file.url  # noqa: B018  no public URL exists for evidence


@pytest.mark.parametrize(
    ("uploaded", "message"),
    [
        (SimpleUploadedFile("病毒.exe", b"MZ\x90\x00"), "病毒.exe：文件类型不允许"),
        (SimpleUploadedFile("伪装.pdf", b"MZ\x90\x00 not a pdf"), "文件内容与扩展名“pdf”不符"),
        (SimpleUploadedFile("空.pdf", b""), "文件为空：空.pdf"),
    ],
)
def test_evidence_of_forbidden_type_is_refused(alice, bureau_task, uploaded, message):
    with pytest.raises(InvalidInput, match=message):
        evidence_add(task=bureau_task, actor=alice, uploaded=uploaded)
    assert not Evidence.objects.exists()


def test_evidence_over_the_size_limit_is_refused(alice, bureau_task, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(InvalidInput, match="单个文件不能超过1KB"):
        evidence_add(task=bureau_task, actor=alice, uploaded=pdf(size=2048))


def test_officer_of_another_unit_cannot_add_evidence(bob, bureau_task):
    with pytest.raises(ActionForbidden):
        evidence_add(task=bureau_task, actor=bob, uploaded=pdf())
