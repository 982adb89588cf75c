"""Evidence bytes reach their stored name only when the upload's transaction commits: a
rollback leaves nothing among the stored files, only a staged copy that the nightly sweep
deletes once older than the grace period (as it does any stored file no row names); a committed
upload, a row's file and an upload still in flight are never touched."""

import datetime as dt
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tests.tracker.factories import EvidenceFactory, TaskFactory
from tracker.models import Evidence, TaskStatus
from tracker.services.evidence import evidence_add, evidence_orphans_sweep
from tracker.storage import STAGING_FOLDER
from tracker.tasks import evidence_orphans_sweep as sweep_task

pytestmark = pytest.mark.django_db
GRACE = dt.timedelta(hours=24)


def _age(path, hours: float) -> None:
    stamp = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (stamp, stamp))


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_upload_stores_nothing_and_its_staged_copy_is_swept(
    alice, bureau, private_media
):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    kept = EvidenceFactory(task=task, content=b"%PDF-1.4 kept")
    _age(kept.file.path, 48)
    stored = private_media / "evidence" / str(task.pk)
    staging = private_media / STAGING_FOLDER

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
    assert _files(stored) == [os.path.basename(kept.file.name)]  # nothing stored without a row
    left = list(staging.iterdir())
    assert len(left) == 1
    assert left[0].read_bytes() == b"%PDF-1.4 rolled back"

    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []  # still in grace
    _age(left[0], 25)
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == [
        f"{STAGING_FOLDER}/{left[0].name}"]
    assert not left[0].exists()
    assert os.path.exists(kept.file.path)  # named by a row: kept, however old
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []  # idempotent


@pytest.mark.django_db(transaction=True)
def test_a_committed_upload_is_moved_to_the_name_its_row_holds(alice, bureau, private_media):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    with transaction.atomic():
        evidence = evidence_add(task=task, actor=alice,
                                uploaded=SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 committed"))
        # Inside the transaction the row's name holds nothing yet: a reader outside it cannot
        # see the row, and a rollback must not leave the bytes there.
        assert not (private_media / evidence.file.name).exists()
    assert (private_media / evidence.file.name).read_bytes() == b"%PDF-1.4 committed"
    assert _files(private_media / STAGING_FOLDER) == []
    _age(private_media / evidence.file.name, 48)
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []


def _stray_file(private_media, task, hours_old: float):
    """A stored file no row names, as files written before uploads were staged left."""
    folder = private_media / "evidence" / str(task.pk)
    folder.mkdir(parents=True)
    stray = folder / "fedcba9876543210.pdf"
    stray.write_bytes(b"%PDF-1.4 stray")
    _age(stray, hours_old)
    return stray


def test_a_stored_file_no_row_names_is_swept_after_the_grace(bureau, private_media):
    task = TaskFactory(lead_unit=bureau)
    stray = _stray_file(private_media, task, hours_old=2)
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == []
    _age(stray, 25)
    assert evidence_orphans_sweep(now=timezone.now(), grace=GRACE) == [
        f"evidence/{task.pk}/{stray.name}"]


def test_the_nightly_task_runs_the_sweep(alice, bureau, private_media, settings):
    settings.EVIDENCE_ORPHAN_GRACE_HOURS = 1
    stray = _stray_file(private_media, TaskFactory(lead_unit=bureau), hours_old=2)
    assert sweep_task() == 1
    assert not stray.exists()
