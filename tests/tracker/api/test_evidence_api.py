"""Acceptance: evidence limits, and downloads only for those who see the
task; files never have a public URL."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracker.factories import TaskFactory
from tracker.models import Evidence, TaskStatus

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 rectification evidence"


@pytest.fixture
def task(town):
    return TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)


def _upload(client, task, name, content):
    return client.post(f"/api/v1/tasks/{task.pk}/evidence/",
                       {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_file_over_the_size_limit_is_refused_in_chinese(client_for, bob, task, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = _upload(client_for(bob), task, "报告.pdf", PDF + b"0" * 2048)
    assert response.status_code == 400
    body = response.json()
    assert "文件过大" in body["detail"]
    assert body["fields"] == {"file": ["报告.pdf：文件过大"]}
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name", ["病毒.exe", "脚本.html", "无扩展名"])
def test_file_of_a_forbidden_type_is_refused_in_chinese(client_for, bob, task, name):
    response = _upload(client_for(bob), task, name, b"MZ\x90\x00 not allowed")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}：文件类型不允许")
    assert not Evidence.objects.exists()


def test_renamed_executable_is_refused(client_for, bob, task):
    response = _upload(client_for(bob), task, "伪装.pdf", b"MZ\x90\x00 pretending")
    assert response.status_code == 400
    assert "不符" in response.json()["detail"]


def test_officer_of_the_unit_uploads_and_downloads_but_another_unit_cannot(
    client_for, bob, alice, task, django_capture_on_commit_callbacks
):
    # The file takes its stored name when the upload's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = _upload(client_for(bob), task, "整改报告.pdf", PDF)
    assert uploaded.status_code == 201
    evidence_id = uploaded.json()["id"]

    own = client_for(bob).get(f"/api/v1/evidence/{evidence_id}/download/")
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    assert own["Content-Disposition"].startswith("attachment")
    assert own["X-Content-Type-Options"] == "nosniff"

    other = client_for(alice).get(f"/api/v1/evidence/{evidence_id}/download/")
    assert other.status_code == 404
    assert client_for(alice).get("/api/v1/evidence/").json()["results"] == []


def test_evidence_has_no_public_url(client_for, bob, task):
    uploaded = _upload(client_for(bob), task, "整改报告.pdf", PDF).json()
    assert uploaded["download_url"] == f"/api/v1/evidence/{uploaded['id']}/download/"
    stored = Evidence.objects.get(pk=uploaded["id"])
    assert not str(stored.file.path).startswith(str(settings.STATIC_ROOT))
    # The private storage names no URL at all, and no media route serves the file.
    with pytest.raises(ValueError, match="没有公开URL"):
        stored.file.url  # noqa: B018
    for user in (bob, None):
        assert client_for(user).get(f"/media/{stored.file.name}").status_code in (302, 401, 404)
