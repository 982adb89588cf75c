"""Regression tests: report documents are seen through one rule (access.visible_reports_q) on
the pages and in the API, and every write on a report checks access.may_manage_report."""

import datetime as dt

import pytest

from reports import services
from reports.models import ExtractedItem, ReviewState
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory, UserFactory
from tracker.errors import ActionForbidden

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_report(chief, county):
    """Imported at the city, about no inspection; one of its figures was confirmed to an
    inspection of the county (the link the pages used to count as visibility)."""
    report = SourceReportFactory(imported_by=chief, title="市直单位整改情况汇报")
    county_inspection = InspectionFactory(target_unit=county)
    ExtractedFigureFactory(report=report, inspection=county_inspection,
                           review_state=ReviewState.CONFIRMED)
    for position in range(1, 6):
        ExtractedItemFactory(report=report, position=position)
    return report


def test_district_supervisor_neither_reads_nor_rejects_a_city_report_the_api_hides(
    sam, sam_client, city_report, client_for
):
    """Finding: on the report pages a district supervisor read a city report the API
    answers 404 for, and rejected five of its items."""
    assert client_for(sam).get(f"/api/v1/reports/{city_report.pk}/").status_code == 404
    assert sam_client.get(f"/reports/documents/{city_report.pk}/").status_code == 404
    assert city_report.title not in sam_client.get("/reports/documents/").content.decode()

    for item in city_report.items.all():
        assert sam_client.post(f"/reports/items/{item.pk}/reject/").status_code == 404

    assert not ExtractedItem.objects.filter(review_state=ReviewState.REJECTED).exists()


def test_every_report_write_in_the_services_checks_may_manage_report(sam, city_report):
    """The services refuse whatever face calls them (admin, scripts), not only the pages."""
    item = city_report.items.first()
    figure = city_report.figures.first()
    with pytest.raises(ActionForbidden):
        services.item_reject(item=item, actor=sam)
    with pytest.raises(ActionForbidden):
        services.figure_reject(figure=figure, actor=sam)
    with pytest.raises(ActionForbidden):
        services.report_update(report=city_report, actor=sam, report_date=dt.date(2026, 5, 31))
    city_report.refresh_from_db()
    assert city_report.report_date is None


def test_an_inactive_supervisor_may_not_import_a_report(county):
    """Who is a supervisor is access.is_supervisor_or_admin (is_active included); the
    reports service checked the role alone."""
    gone = UserFactory(unit=county, supervisor=True, is_active=False)
    with pytest.raises(ActionForbidden):
        services.report_import(data="报告".encode(), filename="a.txt", actor=gone)


@pytest.fixture
def supported_report(chief, bureau, town):
    """A city bureau's inspection with a task the township (inside sam's county) supports, and
    a report filed under that inspection: sam sees it, but it is not his to act on."""
    inspection = InspectionFactory(target_unit=bureau)
    TaskFactory(inspection=inspection, problem=ProblemFactory(inspection=inspection),
                lead_unit=bureau, supporting_units=[town])
    report = SourceReportFactory(imported_by=chief, inspection=inspection,
                                 title="市局整改情况汇报")
    ExtractedFigureFactory(report=report)
    ExtractedItemFactory(report=report, position=1)
    return report


def test_a_supervisor_who_sees_a_report_through_a_supporting_unit_reads_but_does_not_act(
    sam, sam_client, supported_report
):
    """Reading a report is not managing it (access.may_manage_report): the page shows the
    district supervisor the city report without its confirm and reject forms, and the
    services refuse him."""
    page = sam_client.get(f"/reports/documents/{supported_report.pk}/")
    assert page.status_code == 200
    assert supported_report.title in page.content.decode()
    assert "figure-confirm" not in page.content.decode()
    assert "problem-confirm" not in page.content.decode()
    with pytest.raises(ActionForbidden):
        services.item_reject(item=supported_report.items.get(), actor=sam)
    with pytest.raises(ActionForbidden):
        services.figure_reject(figure=supported_report.figures.get(), actor=sam)


def test_the_importer_s_supervisor_acts_on_the_report(chief, client_for, supported_report):
    """The city's top supervisor, who manages the bureau, gets the forms and may reject."""
    from django.test import Client

    browser = Client()
    browser.force_login(chief)
    page = browser.get(f"/reports/documents/{supported_report.pk}/")
    assert "figure-confirm" in page.content.decode()
    services.item_reject(item=supported_report.items.get(), actor=chief)
    assert supported_report.items.get().review_state == ReviewState.REJECTED
