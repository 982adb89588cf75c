"""Supervisors: the review queue — close (销号) or send back with a reason, approve or
reject extensions, evidence viewable in place — scoped to what the supervisor oversees."""

import pytest

from tests.tracker.factories import DeadlineExtensionFactory, EvidenceFactory, TaskFactory
from tracker.models import ExtensionStatus, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(bureau):
    return TaskFactory(lead_unit=bureau, title="修订议事规则", status=TaskStatus.SUBMITTED)


@pytest.fixture
def town_submitted(town):
    return TaskFactory(lead_unit=town, title="村级财务公开", status=TaskStatus.SUBMITTED)


def test_officers_have_no_review_queue(alice_client):
    assert alice_client.get("/review/").status_code == 403


def test_queue_lists_submitted_tasks_and_pending_extensions_in_scope(
    sam_client, submitted, town_submitted, town
):
    extension = DeadlineExtensionFactory(task=TaskFactory(lead_unit=town, title="延期的任务",
                                                          status=TaskStatus.IN_PROGRESS))
    html = sam_client.get("/review/").content.decode()
    assert town_submitted.title in html
    assert submitted.title not in html  # the bureau is outside the county supervisor's scope
    assert extension.task.title in html


def test_evidence_is_viewable_in_place_from_the_queue(chief_client, submitted):
    evidence = EvidenceFactory(task=submitted)
    html = chief_client.get("/review/").content.decode()
    assert f"/evidence/{evidence.pk}/?inline=1" in html


def test_supervisor_closes_from_the_queue_and_returns_to_it(chief_client, submitted):
    EvidenceFactory(task=submitted)
    response = chief_client.post(f"/tasks/{submitted.pk}/close/", {
        "close-version": submitted.version, "close-note": "经核查整改到位", "next": "/review/",
        "close-effectiveness": "effective",
    })
    assert response.status_code == 302
    assert response["Location"] == "/review/"
    submitted.refresh_from_db()
    assert submitted.status == TaskStatus.COMPLETED
    assert f"已销号：{submitted.title}" in chief_client.get("/review/").content.decode()


def test_sending_back_needs_a_reason(chief_client, submitted):
    response = chief_client.post(f"/tasks/{submitted.pk}/send-back/", {
        "send_back-version": submitted.version, "send_back-note": "", "next": "/review/",
    })
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.status == TaskStatus.SUBMITTED
    response = chief_client.post(f"/tasks/{submitted.pk}/send-back/", {
        "send_back-version": submitted.version, "send_back-note": "佐证材料不完整",
        "next": "/review/",
    })
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == TaskStatus.IN_PROGRESS
    assert submitted.events.last().note == "佐证材料不完整"


def test_closing_a_stale_task_is_refused_in_chinese(chief_client, submitted):
    response = chief_client.post(f"/tasks/{submitted.pk}/close/", {
        "close-version": submitted.version + 1, "close-confirm_no_evidence": "on",
        "close-effectiveness": "effective",
        "next": "/review/",
    })
    assert response.status_code == 409
    assert "任务已被他人修改" in response.content.decode()


def test_an_outside_next_address_is_ignored(chief_client, submitted):
    response = chief_client.post(f"/tasks/{submitted.pk}/close/", {
        "close-version": submitted.version, "close-confirm_no_evidence": "on",
        "close-effectiveness": "effective",
        "next": "https://evil.example/",
    })
    assert response["Location"] == f"/tasks/{submitted.pk}/"


def test_extensions_are_approved_or_rejected_from_the_queue(chief_client, bureau):
    first = DeadlineExtensionFactory(task=TaskFactory(lead_unit=bureau,
                                                      status=TaskStatus.IN_PROGRESS))
    second = DeadlineExtensionFactory(task=TaskFactory(lead_unit=bureau,
                                                       status=TaskStatus.IN_PROGRESS))
    chief_client.post(f"/extensions/{first.pk}/approve/", {"note": "", "next": "/review/"})
    chief_client.post(f"/extensions/{second.pk}/reject/", {"note": "理由不充分",
                                                           "next": "/review/"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ExtensionStatus.APPROVED, ExtensionStatus.REJECTED)
