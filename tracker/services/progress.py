"""A progress note with its evidence files, written together (the task page's one form)."""

import datetime as dt
from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from tracker.models import Evidence, ProgressReport, Task, User
from tracker.services.evidence import evidence_add, validate_evidence_files
from tracker.services.tasks import task_report_progress


@transaction.atomic
def task_report_progress_with_evidence(
    *,
    task: Task,
    actor: User,
    note: str,
    percent: int | None = None,
    files: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[ProgressReport, list[Evidence]]:
    """Record the note and attach each file to it, all or nothing.

    Every file is checked before anything is written, so a bad file refuses the whole form
    without leaving a note behind or a file on disk.
    """
    now = now or timezone.now()
    validate_evidence_files(files)
    report = task_report_progress(
        task=task, actor=actor, note=note, percent=percent,
        expected_version=expected_version, now=now,
    )
    task.refresh_from_db()
    evidence = [
        evidence_add(task=task, actor=actor, uploaded=uploaded, progress_report=report, now=now)
        for uploaded in files
    ]
    return report, evidence
