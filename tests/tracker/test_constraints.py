"""Acceptance: each database constraint rejects a violation by itself,
without any Python validation in the way (rows are written with raw ORM updates/creates)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    InspectionFactory,
    ProblemFactory,
    ProgressReportFactory,
    TaskEventFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)
from tracker.models import (
    DeadlineExtension,
    ExtensionStatus,
    Inspection,
    Problem,
    ProgressReport,
    Role,
    Task,
    TaskStatus,
    TaskType,
    Unit,
    User,
)

pytestmark = pytest.mark.django_db


def rejected(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


@pytest.fixture
def task(bureau):
    return TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)


def update(task, **fields):
    return lambda: Task.objects.filter(pk=task.pk).update(**fields)


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("task_status_valid", {"status": "done"}),
        ("task_type_valid", {"task_type": "someday"}),
        ("task_closed_at_iff_completed: closed without 销号", {"closed_at": timezone.now()}),
        ("task_closed_at_iff_completed: 销号 without time",
         {"status": TaskStatus.COMPLETED, "completed_at": timezone.now()}),
        ("task_completed_at_iff_done: submitted without time", {"status": TaskStatus.SUBMITTED}),
        ("task_completed_at_iff_done: in progress with time", {"completed_at": timezone.now()}),
        ("task_deadline_required_unless_long_term", {"deadline": None, "original_deadline": None}),
        ("task_original_deadline_implies_deadline",
         {"deadline": None, "task_type": TaskType.LONG_TERM}),
        ("task_version_positive", {"version": 0}),
        ("task_progress_percent_max", {"progress_percent": 101}),
    ],
)
def test_task_constraint_rejects_violation(task, name, fields):
    assert rejected(update(task, **fields)), name
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS


def test_task_constraints_accept_a_consistent_closed_task(task):
    now = timezone.now()
    assert not rejected(
        update(task, status=TaskStatus.COMPLETED, completed_at=now, closed_at=now)
    )


def test_long_term_task_may_have_no_deadline(bureau):
    task = TaskFactory(
        lead_unit=bureau, task_type=TaskType.LONG_TERM, deadline=None, original_deadline=None
    )
    assert task.deadline is None


def test_progress_percent_and_note_are_checked():
    report = ProgressReportFactory()
    assert rejected(lambda: ProgressReport.objects.filter(pk=report.pk).update(percent=101))
    assert rejected(lambda: ProgressReport.objects.filter(pk=report.pk).update(note=""))


def test_evidence_must_not_be_empty_nor_repeated():
    evidence = EvidenceFactory()
    assert rejected(lambda: type(evidence).objects.filter(pk=evidence.pk).update(size=0))
    assert rejected(lambda: EvidenceFactory(task=evidence.task, sha256=evidence.sha256))


def test_extension_constraints():
    extension = DeadlineExtensionFactory()
    rows = DeadlineExtension.objects.filter(pk=extension.pk)
    assert rejected(lambda: rows.update(requested_deadline=extension.previous_deadline))
    assert rejected(lambda: rows.update(reason=""))
    assert rejected(lambda: rows.update(status=ExtensionStatus.APPROVED))  # no decider
    assert rejected(lambda: rows.update(decided_at=timezone.now()))  # pending yet decided
    assert rejected(lambda: DeadlineExtensionFactory(task=extension.task))  # second pending


def test_problem_numbers_are_unique_in_an_inspection():
    problem = ProblemFactory(number=1)
    assert rejected(lambda: ProblemFactory(inspection=problem.inspection, number=1))
    assert not rejected(lambda: ProblemFactory(number=1))
    assert Problem.objects.count() == 2


def test_inspection_deadline_cannot_precede_feedback():
    inspection = InspectionFactory()
    assert rejected(
        lambda: Inspection.objects.filter(pk=inspection.pk).update(
            rectification_deadline=inspection.feedback_date - dt.timedelta(days=1)
        )
    )


def test_unit_names_are_unique_under_a_parent_and_paths_are_delimited(city):
    UnitFactory(name="市财政局", parent=city)
    assert rejected(lambda: UnitFactory(name="市财政局", parent=city))
    assert rejected(lambda: UnitFactory(name="江屿市委"))  # a second root of the same name
    assert rejected(lambda: Unit.objects.filter(pk=city.pk).update(path="1/"))


def test_non_admin_user_needs_a_unit(alice):
    assert rejected(lambda: User.objects.filter(pk=alice.pk).update(unit=None))
    assert not rejected(lambda: UserFactory(role=Role.ADMIN, unit=None))


def test_task_event_factory_builds_a_history_row():
    event = TaskEventFactory()
    assert event.task.events.get() == event
