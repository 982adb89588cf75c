"""An upload whose transaction rolls back leaves its file in private storage; the nightly sweep
deletes files no Evidence row names once they are older than the grace period, and never a file
a row names or an upload still in flight."""

import datetime as dt
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tests.tracker.factories import EvidenceFactory, TaskFactory
from tracker.models import Evidence, TaskStatus
from tracker.services.evidence import evidence_add, evidence_orphans_sweep
from tracker.tasks import evidence_orphans_sweep as sweep_task

pytestmark = pytest.mark.django_db
GRACE = dt.timedelta(hours=24)


def _age(path, hours: float) -> None:
    stamp = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (stamp, stamp))


def test_a_rolled_back_upload_leaves_a_file_that_the_sweep_removes(alice, bureau, private_media):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    kept = EvidenceFactory(task=task, content=b"%PDF-1.4 kept")
    _age(kept.file.path, 48)

    class Abandoned(Exception):
        pass

    def upload_then_fail():
        with transaction.atomic():
            evidence_add(task=task, actor=alice,
                         uploaded=SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 rolled back"))
            raise Abandoned  # e.g. the progress report saved with it failed

    with pytest.raises(Abandoned):
        upload_then_fail()
    assert Evidence.objects.filter(task=task).count() == 1
    left = [p for p in (private_media / "evidence" / str(task.pk)).iterdir()
            if p.name != os.path.basename(kept.file.name)]
    assert len(left) == 1  # the file outlived its row

    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []  # still in grace
    _age(left[0], 25)
    deleted = evidence_orphans_sweep(now=timezone.now(), grace=GRACE)
    assert deleted == [f"evidence/{task.pk}/{left[0].name}"]
    assert not left[0].exists()
    assert os.path.exists(kept.file.path)  # named by a row: kept, however old
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []  # idempotent


def test_the_nightly_task_runs_the_sweep(alice, bureau, private_media, settings):
    settings.EVIDENCE_ORPHAN_GRACE_HOURS = 1
    task = TaskFactory(lead_unit=bureau)
    folder = private_media / "evidence" / str(task.pk)
    folder.mkdir(parents=True)
    stray = folder / "0123456789abcdef.pdf"
    stray.write_bytes(b"%PDF-1.4 stray")
    _age(stray, 2)
    assert sweep_task() == 1
    assert not stray.exists()
