"""Acceptance ("shown in the admin"): the report's change page lists the
reconciliation findings; admin actions confirm and reject through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from reports.models import ReviewState
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.models import Problem
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, root_admin):
    client.force_login(root_admin)
    return client


def test_report_change_page_lists_the_disagreements(admin_client, chief, bureau):
    problem = ProblemFactory()
    tasks = [task_services.task_create(problem=problem, actor=chief, title=f"任务{i}",
                                       lead_unit=bureau, deadline=dt.date(2026, 12, 31))
             for i in range(5)]
    for task in tasks[:3]:  # 3 of 5 closed, with their history
        task_services.task_start(task=task, actor=chief)
        task_services.task_submit(task=task, actor=chief)
        task_services.task_close(task=task, actor=chief)
    today = timezone.localdate()
    report = SourceReportFactory(report_date=today, inspection=problem.inspection)
    ExtractedFigureFactory(report=report, inspection=problem.inspection, counting_word="项",
                           review_state=ReviewState.CONFIRMED, total=5, completed=4)

    page = admin_client.get(f"/admin/reports/sourcereport/{report.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    day = f"{today.year}年{today.month}月{today.day}日"
    assert f"报告称已完成整改4项，台账截至{day}已销号3项" in text
    assert "共有整改任务" not in text  # the total agrees: not listed


def test_report_change_page_says_when_nothing_disagrees(admin_client):
    report = SourceReportFactory()
    page = admin_client.get(f"/admin/reports/sourcereport/{report.pk}/change/")
    assert "无不一致之处" in page.content.decode()


def test_admin_actions_confirm_and_reject_through_the_services(admin_client, root_admin):
    inspection = InspectionFactory()
    report = SourceReportFactory(inspection=inspection)
    figure = ExtractedFigureFactory(report=report)
    problem_item = ExtractedItemFactory(report=report, kind="problem")
    measure_item = ExtractedItemFactory(report=report, kind="measure")

    admin_client.post("/admin/reports/extractedfigure/",
                      {"action": "confirm_selected", "_selected_action": [figure.pk]})
    admin_client.post("/admin/reports/extracteditem/",
                      {"action": "confirm_problems_selected",
                       "_selected_action": [problem_item.pk]})
    admin_client.post("/admin/reports/extracteditem/",
                      {"action": "reject_selected", "_selected_action": [measure_item.pk]})

    figure.refresh_from_db()
    problem_item.refresh_from_db()
    measure_item.refresh_from_db()
    assert (figure.review_state, figure.inspection, figure.reviewed_by) == (
        ReviewState.CONFIRMED, inspection, root_admin
    )
    assert problem_item.review_state == ReviewState.CONFIRMED
    assert Problem.objects.get(pk=problem_item.problem_id).text == problem_item.text
    assert measure_item.review_state == ReviewState.REJECTED


def test_confirming_a_figure_of_a_report_without_inspection_is_refused(admin_client):
    figure = ExtractedFigureFactory()
    response = admin_client.post(
        "/admin/reports/extractedfigure/",
        {"action": "confirm_selected", "_selected_action": [figure.pk]}, follow=True,
    )
    assert "报告尚未关联巡视巡察" in response.content.decode()
    figure.refresh_from_db()
    assert figure.review_state == ReviewState.PROPOSED


def test_measure_item_page_points_to_the_api(admin_client):
    item = ExtractedItemFactory(kind="measure")
    page = admin_client.get(f"/admin/reports/extracteditem/{item.pk}/change/")
    assert f"/api/v1/reports/items/{item.pk}/confirm-as-task/" in page.content.decode()


def test_saving_the_report_date_in_the_admin_goes_through_the_service(admin_client):
    report = SourceReportFactory()
    response = admin_client.post(f"/admin/reports/sourcereport/{report.pk}/change/",
                                 {"report_date": "2026-05-31", "inspection": "",
                                  "figures-TOTAL_FORMS": 0, "figures-INITIAL_FORMS": 0,
                                  "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0})
    assert response.status_code == 302, response.content.decode()[:2000]
    report.refresh_from_db()
    assert report.report_date == dt.date(2026, 5, 31)
