"""Officers: 我的任务 and the task page. Each form posts to a thin view that calls the
service; refusals come back with the service's Chinese message."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    InspectionFactory,
    ProblemFactory,
    TaskFactory,
)
from tests.tracker.web.conftest import pdf_upload
from tracker.models import (
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    ProgressReport,
    TaskStatus,
)
from tracker.services import extensions as extension_services
from tracker.services import tasks as task_services
from tracker.web import views

pytestmark = pytest.mark.django_db


def task_titles(html: str) -> list[str]:
    return re.findall(r'class="task-title" href="[^"]+">([^<]+)</a>', html)


# --- 我的任务 -------------------------------------------------------------------------------


def test_my_tasks_puts_overdue_then_due_soon_first_with_lights_and_working_days(
    alice_client, bureau, today
):
    TaskFactory(lead_unit=bureau, title="后期任务", deadline=today + dt.timedelta(days=90))
    TaskFactory(lead_unit=bureau, title="已销号任务", status=TaskStatus.COMPLETED,
                deadline=today - dt.timedelta(days=90))
    TaskFactory(lead_unit=bureau, title="逾期任务", status=TaskStatus.IN_PROGRESS,
                deadline=today - dt.timedelta(days=20))
    TaskFactory(lead_unit=bureau, title="临期任务", deadline=today + dt.timedelta(days=2))

    html = alice_client.get("/tasks/").content.decode()

    assert task_titles(html) == ["逾期任务", "临期任务", "后期任务", "已销号任务"]
    lights = re.findall(r'class="task-row" data-light="(\w+)"', html)
    assert lights == ["red", "yellow", "green", "none"]
    assert re.search(r"已逾期\d+个工作日", html)
    assert "已销号" in html


def test_my_tasks_shows_only_the_officers_own_units_tasks(alice_client, alice_task, bob_task):
    html = alice_client.get("/tasks/").content.decode()
    assert alice_task.title in html
    assert bob_task.title not in html


def test_my_tasks_filters_by_inspection_and_status(alice_client, bureau, alice_task, today):
    other = TaskFactory(lead_unit=bureau, title="另一轮巡察的任务",
                        problem=ProblemFactory(inspection=InspectionFactory(title="另一轮")))
    late = TaskFactory(lead_unit=bureau, title="逾期未改", status=TaskStatus.IN_PROGRESS,
                       problem=alice_task.problem, deadline=today - dt.timedelta(days=10))

    by_inspection = alice_client.get(f"/tasks/?inspection={alice_task.inspection_id}")
    assert set(task_titles(by_inspection.content.decode())) == {alice_task.title, late.title}
    by_status = alice_client.get("/tasks/?status=not_started")
    assert task_titles(by_status.content.decode()) == [other.title]
    overdue = alice_client.get("/tasks/?status=overdue")
    assert task_titles(overdue.content.decode()) == [late.title]


@pytest.mark.parametrize("count", [3, 30])
def test_my_tasks_runs_a_constant_number_of_queries(
    count, alice_client, bureau, django_assert_num_queries
):
    for _ in range(count):
        TaskFactory(lead_unit=bureau, supporting_units=[TaskFactory().lead_unit])
    # session, user with their unit (config/auth.py), count for the pages, the tasks (units,
    # problem, inspection joined; on the first pages their supporting units a column of the
    # same query), inspections for the filter (cached after this first view), the reader's
    # saved filters, unread messages for the navigation bar.
    with django_assert_num_queries(7):
        response = alice_client.get("/tasks/")
    assert response.status_code == 200
    assert len(task_titles(response.content.decode())) == count


# --- The task page ------------------------------------------------------------------------


def test_task_page_shows_problem_measures_units_leaders_and_history(alice_client, alice_task):
    html = alice_client.get(f"/tasks/{alice_task.pk}/").content.decode()
    for text in (alice_task.problem.text, alice_task.measures, alice_task.lead_unit.name,
                 alice_task.responsible_leader, "完成时限变更", "操作记录", "原定完成时限"):
        assert text in html


def test_deadline_history_lists_original_extensions_and_edits(alice, chief, alice_task):
    original = alice_task.deadline
    extension = extension_services.extension_request(
        task=alice_task, actor=alice, requested_deadline=original + dt.timedelta(days=20),
        reason="需跨部门协调",
    )
    extension_services.extension_approve(extension=extension, actor=chief, note="同意")
    alice_task.refresh_from_db()
    task_services.task_update(task=alice_task, actor=chief,
                              deadline=original + dt.timedelta(days=40))

    from tests.tracker.web.conftest import logged_in

    html = logged_in(alice).get(f"/tasks/{alice_task.pk}/").content.decode()
    history = html.split('id="deadline-history"')[1].split('id="progress-reports"')[0]
    dates = [original + dt.timedelta(days=d) for d in (0, 20, 40)]
    positions = [history.index(d.isoformat()) for d in dates]
    assert positions == sorted(positions)
    assert "批准延期" in history
    assert "修改完成时限" in history


def test_officer_of_another_unit_gets_404_everywhere(bob_client, alice_task):
    evidence = EvidenceFactory(task=alice_task)
    assert bob_client.get(f"/tasks/{alice_task.pk}/").status_code == 404
    assert bob_client.post(f"/tasks/{alice_task.pk}/progress/",
                           {"note": "x", "version": 1}).status_code == 404
    assert bob_client.post(f"/tasks/{alice_task.pk}/submit/",
                           {"submit-version": 1}).status_code == 404
    assert bob_client.get(f"/evidence/{evidence.pk}/").status_code == 404
    assert not ProgressReport.objects.filter(task=alice_task).exists()


def test_progress_with_evidence_is_one_form(alice, alice_client, alice_task):
    response = alice_client.post(f"/tasks/{alice_task.pk}/progress/", {
        "note": "已完成收费清理，退还多收费用。", "percent": 80,
        "version": alice_task.version, "files": [pdf_upload(), pdf_upload("退费清单.pdf",
                                                                        b"%PDF-1.4 list")],
    })
    assert response.status_code == 302
    report = ProgressReport.objects.get(task=alice_task)
    assert report.author == alice
    assert report.percent == 80
    assert sorted(report.evidence.values_list("original_name", flat=True)) == [
        "整改报告.pdf", "退费清单.pdf",
    ]
    alice_task.refresh_from_db()
    assert alice_task.progress_percent == 80
    page = alice_client.get(response["Location"]).content.decode()
    assert "整改进展已填报" in page
    assert "退费清单.pdf" in page


def test_a_bad_evidence_file_refuses_the_whole_form_in_chinese(alice_client, alice_task):
    fake = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = alice_client.post(f"/tasks/{alice_task.pk}/progress/", {
        "note": "进展", "version": alice_task.version, "files": [fake],
    })
    assert response.status_code == 400
    assert "文件内容与扩展名“pdf”不符" in response.content.decode()
    assert not ProgressReport.objects.filter(task=alice_task).exists()
    assert not Evidence.objects.exists()


def test_a_stale_form_is_refused_with_a_chinese_message(alice, alice_client, alice_task):
    seen = alice_task.version
    task_services.task_report_progress(task=alice_task, actor=alice, note="别人先填了一条")
    response = alice_client.post(f"/tasks/{alice_task.pk}/progress/", {
        "note": "我的进展", "version": seen,
    })
    assert response.status_code == 409
    assert "任务已被他人修改" in response.content.decode()
    assert ProgressReport.objects.filter(task=alice_task).count() == 1


def test_officer_submits_for_closure(alice_client, alice_task):
    response = alice_client.post(f"/tasks/{alice_task.pk}/submit/", {
        "submit-version": alice_task.version, "submit-note": "已全部整改到位",
    })
    assert response.status_code == 302
    alice_task.refresh_from_db()
    assert alice_task.status == TaskStatus.SUBMITTED


def test_officer_cannot_close_a_task(alice_client, alice_task):
    alice_task.status = TaskStatus.SUBMITTED
    alice_task.completed_at = alice_task.updated_at
    alice_task.save()
    response = alice_client.post(f"/tasks/{alice_task.pk}/close/", {
        "close-version": alice_task.version,
    })
    assert response.status_code == 403
    assert "您没有权限" in response.content.decode()
    alice_task.refresh_from_db()
    assert alice_task.status == TaskStatus.SUBMITTED


def test_officer_requests_an_extension(alice_client, alice_task):
    later = alice_task.deadline + dt.timedelta(days=15)
    response = alice_client.post(f"/tasks/{alice_task.pk}/extension/", {
        "requested_deadline": later.isoformat(), "reason": "需等待省级文件出台",
    })
    assert response.status_code == 302
    extension = DeadlineExtension.objects.get(task=alice_task)
    assert extension.requested_deadline == later
    page = alice_client.get(f"/tasks/{alice_task.pk}/").content.decode()
    assert "等待督导人员审批" in page


def test_an_extension_to_an_earlier_date_is_refused_in_chinese(alice_client, alice_task):
    response = alice_client.post(f"/tasks/{alice_task.pk}/extension/", {
        "requested_deadline": alice_task.deadline.isoformat(), "reason": "理由",
    })
    assert response.status_code == 400
    assert "申请延至的日期须晚于当前完成时限" in response.content.decode()


# --- Evidence downloads -------------------------------------------------------------------


def test_evidence_streams_to_those_who_see_the_task(alice_client, chief_client, alice_task):
    evidence = EvidenceFactory(task=alice_task)
    download = alice_client.get(f"/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Disposition"].startswith("attachment")
    inline = chief_client.get(f"/evidence/{evidence.pk}/?inline=1")
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["Content-Type"] == "application/pdf"


def test_evidence_that_is_not_safe_to_show_is_always_downloaded(alice_client, alice_task):
    evidence = EvidenceFactory(task=alice_task, original_name="台账.xlsx",
                               content_type="application/vnd.ms-excel")
    response = alice_client.get(f"/evidence/{evidence.pk}/?inline=1")
    assert response["Content-Disposition"].startswith("attachment")


# --- Supervisors on the task page ---------------------------------------------------------


def test_supervisor_approves_an_extension_from_the_task_page(chief_client, alice_task, alice):
    extension = DeadlineExtensionFactory(task=alice_task, requested_by=alice)
    page = chief_client.get(f"/tasks/{alice_task.pk}/").content.decode()
    assert "延期审批" in page
    response = chief_client.post(f"/extensions/{extension.pk}/approve/", {"note": "同意"})
    assert response.status_code == 302
    alice_task.refresh_from_db()
    assert alice_task.deadline == extension.requested_deadline


def test_rejecting_an_extension_needs_a_reason(chief_client, alice_task, alice):
    extension = DeadlineExtensionFactory(task=alice_task, requested_by=alice)
    response = chief_client.post(f"/extensions/{extension.pk}/reject/", {"note": ""})
    assert response.status_code == 400
    assert "驳回延期申请须填写理由" in response.content.decode()
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_the_first_pages_read_supporting_units_in_the_list_query_with_the_same_rows(
    alice_client, bureau, town, county, monkeypatch
):
    """On the first pages the supporting units are a column of the list's query; further on
    (an OFFSET past SUPPORTING_FOLD_MAX_OFFSET) one more query reads them: the same rows."""
    for i in range(3):
        TaskFactory(lead_unit=bureau, title=f"配合任务{i}", supporting_units=[town, county][:i])

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            html = alice_client.get("/tasks/").content.decode()
        return html, len(queries)

    alice_client.get("/tasks/")  # the filter's options cached
    folded, folded_queries = page()
    monkeypatch.setattr(views, "SUPPORTING_FOLD_MAX_OFFSET", -1)
    separate, separate_queries = page()
    assert folded == separate.replace(*_csrf_pair(separate, folded))
    assert separate_queries == folded_queries + 1
    assert "湖滨街道" in folded
    assert "东湖区" in folded


def _csrf_pair(one: str, other: str) -> tuple[str, str]:
    """The CSRF tokens of two renderings of a page (masked anew on every response)."""
    find = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    return find.search(one).group(1), find.search(other).group(1)
