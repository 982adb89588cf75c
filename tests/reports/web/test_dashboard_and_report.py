"""Supervisors: 挂图作战 and the monthly .docx."""

import datetime as dt
import io
import re

import pytest
from django.test import Client
from docx import Document

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.figures.rollups import Grouping, RollupFilters, rollup
from tracker.models import TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(bureau, town, today):
    inspection = InspectionFactory(title="省委第三巡视组反馈意见整改", team="省委第三巡视组")
    problem = ProblemFactory(inspection=inspection)
    for status in (TaskStatus.COMPLETED, TaskStatus.COMPLETED, TaskStatus.BASICALLY_COMPLETED,
                   TaskStatus.LONG_TERM, TaskStatus.IN_PROGRESS):
        TaskFactory(problem=problem, lead_unit=bureau, status=status)
    TaskFactory(problem=problem, lead_unit=town, status=TaskStatus.IN_PROGRESS,
                title="逾期的村级任务", deadline=today - dt.timedelta(days=30))
    return inspection


def completed_cell(html: str, inspection_id: int) -> int:
    row = html.split(f'data-inspection="{inspection_id}"')[1].split("</tr>")[0]
    return int(re.search(r'class="text-end fig-completed">(\d+)<', row).group(1))


def test_officers_have_no_dashboard(alice_client):
    assert alice_client.get("/dashboard/").status_code == 403
    assert alice_client.get("/reports/monthly/").status_code == 403


def test_dashboard_shows_buckets_lights_overdue_and_charts(chief_client, ledger):
    html = chief_client.get("/dashboard/").content.decode()
    assert completed_cell(html, ledger.pk) == 2
    assert "逾期的村级任务" in html
    assert "33.3%" in html  # 2 of 6 completed
    assert html.count("<svg") >= 3
    # pygal's default outside tooltip script, and its inline config, are left out.
    assert "kozea.github.io" not in html
    assert "<script" not in html.split("<main")[1].split('<script src="/static/bootstrap')[0]


def test_dashboard_drills_down_from_inspection_to_units_to_tasks(chief_client, ledger, county,
                                                                 town):
    by_inspection = chief_client.get(f"/dashboard/?inspection={ledger.pk}").content.decode()
    assert f"unit={county.pk}" in by_inspection  # the county has a township with tasks
    by_county = chief_client.get(
        f"/dashboard/?inspection={ledger.pk}&unit={county.pk}").content.decode()
    assert f'data-unit="{town.pk}"' in by_county
    tasks = chief_client.get(f"/tasks/?unit={town.pk}&inspection={ledger.pk}").content.decode()
    assert "逾期的村级任务" in tasks


def test_county_supervisor_dashboard_counts_only_the_county(sam_client, ledger):
    html = sam_client.get("/dashboard/").content.decode()
    assert re.search(r'id="total-tasks">1<', html)


def test_monthly_report_is_a_docx_with_the_rollup_sentence(chief, chief_client, ledger, today):
    response = chief_client.get(
        f"/reports/monthly/?inspection={ledger.pk}&as_of={today.isoformat()}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml")
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    figures = rollup(user=chief, group_by=Grouping.TOTAL,
                     filters=RollupFilters(inspection_id=ledger.pk)).total
    sentence = figures.sentence(subject="省委第三巡视组反馈意见")
    assert sentence in text
    assert sentence.startswith("省委第三巡视组反馈意见细化分解为6个具体问题，已完成整改2个，"
                               "基本完成整改1个，长期坚持1个，未完成整改2个")
    assert "逾期的村级任务" in text
    table = document.tables[0]
    assert table.rows[0].cells[0].text == "责任单位"


def test_monthly_report_form_is_shown_without_a_choice(chief_client, ledger):
    html = chief_client.get("/reports/monthly/").content.decode()
    assert "月度整改进展报告" in html
    assert ledger.title in html


def test_every_page_references_only_our_own_files(chief_client, alice_client, ledger, alice,
                                                  bureau):
    """Acceptance point 2 (server side): no src/href to another host in any page's HTML."""
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    pages = [(alice_client, p) for p in ("/tasks/", f"/tasks/{task.pk}/", "/password/")]
    pages += [(chief_client, p) for p in ("/dashboard/", f"/dashboard/?inspection={ledger.pk}",
                                          "/review/", "/reports/monthly/", "/tasks/")]
    pages += [(Client(), "/login/")]
    for client, path in pages:
        html = client.get(path).content.decode()
        outside = re.findall(r'(?:src|href|action)\s*=\s*"((?:https?:)?//[^"]*)"', html)
        assert outside == [], (path, outside)
        assert "@import" not in html
        assert "url(http" not in html
