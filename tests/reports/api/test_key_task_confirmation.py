"""Issue 15, Priority: confirming a report's measure as a task may make it a 重点任务 with a
priority, on the API and on the report page, through tracker.services.tasks.task_create."""

import pytest

from tests.reports.factories import ExtractedItemFactory, SourceReportFactory
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.models import Task, TaskPriority

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(county):
    report = SourceReportFactory(inspection=InspectionFactory(target_unit=county))
    return ExtractedItemFactory(report=report, kind="measure", position=1,
                                text="健全基层监督网络，配齐村务监督委员会。")


def test_the_api_confirms_a_measure_as_a_key_task(client_for, sam, measure, town):
    problem = ProblemFactory(inspection=measure.report.inspection)
    response = client_for(sam).post(
        f"/api/v1/reports/items/{measure.pk}/confirm-as-task/",
        {"problem": problem.pk, "lead_unit": town.pk, "deadline": "2027-10-31",
         "is_key": True, "priority": 4}, format="json",
    )
    assert response.status_code == 200, response.json()
    task = Task.objects.get(pk=response.json()["task"])
    assert (task.is_key, task.priority) == (True, TaskPriority.URGENT)
    bad = client_for(sam).post(
        f"/api/v1/reports/items/{measure.pk}/confirm-as-task/",
        {"problem": problem.pk, "lead_unit": town.pk, "deadline": "2027-10-31", "priority": 8},
        format="json",
    )
    assert bad.status_code == 400
    assert "priority" in bad.json()["fields"]


def test_the_report_page_confirms_a_measure_as_a_key_task(client, sam, measure, town):
    problem = ProblemFactory(inspection=measure.report.inspection)
    client.force_login(sam)
    page = client.get(f"/reports/documents/{measure.report_id}/").content.decode()
    assert f'id="item{measure.pk}-is_key"' in page
    client.post(f"/reports/items/{measure.pk}/confirm/", {
        "problem": problem.pk, "lead_unit": town.pk, "deadline": "2027-10-31",
        "task_type": "by_deadline", "is_key": "on", "priority": "3",
    })
    task = Task.objects.get()
    assert (task.is_key, task.priority) == (True, TaskPriority.HIGH)
