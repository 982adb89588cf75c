"""Acceptance (storing and confirming; reconciling): the reports API uploads report
documents once, refuses unreadable ones in Chinese without storing anything, lets supervisors
confirm what a report proposes into the ledger, and serves the reconciliation next to the
rollups. Officers are refused (403); a report or inspection out of a supervisor's sight is 404.
"""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import (
    ExtractedFigure,
    ExtractedItem,
    ReportImport,
    ReviewState,
    SourceReport,
)
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
    build_reconciliation_ledger,
)
from tests.reports.jobs import run_queued_imports
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.models import Problem, Task

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "fixtures"
REPORT = FIXTURES / "qinghe_redacted_report.txt"
LOCAL = ZoneInfo("Asia/Shanghai")


def upload(client, name: str, data: bytes):
    return client.post("/api/v1/reports/", {"file": SimpleUploadedFile(name, data)},
                       format="multipart")


def stored_files(private_media: Path) -> list[Path]:
    return [p for p in private_media.rglob("*") if p.is_file()] if private_media.exists() else []


def counts() -> tuple:
    return (SourceReport.objects.count(), ExtractedFigure.objects.count(),
            ExtractedItem.objects.count(), Problem.objects.count(), Task.objects.count())


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def county_inspection(county):
    """An inspection aimed at the county: in sam's sight, not in sue's."""
    return InspectionFactory(target_unit=county)


@pytest.fixture
def county_report(county_inspection):
    """A report about the county's inspection, with one figure, one problem and one measure."""
    report = SourceReportFactory(inspection=county_inspection)
    ExtractedFigureFactory(report=report)
    ExtractedItemFactory(report=report, kind="problem", position=1)
    ExtractedItemFactory(report=report, kind="measure", position=1,
                         text="健全基层监督网络，配齐村务监督委员会。")
    return report


# --- Upload -------------------------------------------------------------------------------
# An upload is stored and answered 202 with a status URL; the worker reads it (here:
# run_queued_imports, the function the Celery task calls) and the status names the report.


def upload_and_read(client, name: str, data: bytes) -> dict:
    """Upload, let the worker read it, and return the job's final status."""
    response = upload(client, name, data)
    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "queued"
    run_queued_imports()
    status = client.get(response.json()["status_url"])
    assert status.status_code == 200
    return status.json()


def test_upload_stores_the_report_once_and_the_same_file_again_returns_it(
    client_for, sam, private_media
):
    client = client_for(sam)
    job = upload_and_read(client, REPORT.name, REPORT.read_bytes())
    assert (job["state"], job["created_report"], job["error"]) == ("done", True, None)
    first = client.get(f"/api/v1/reports/{job['report']}/")
    body = first.json()
    assert body["imported_by"]["username"] == "sam"
    figure = next(f for f in body["figures"] if f["total"] == 21)
    assert (figure["body"], figure["completed"], figure["not_completed"]) == (
        "县委第一巡察组", 18, 3
    )
    assert body["text"][figure["start"]:figure["end"]] == figure["quote"]
    assert [i["kind"] for i in body["items"]].count("problem") == 3
    before = counts()

    again = upload_and_read(client, "改了名字.txt", REPORT.read_bytes())

    assert (again["state"], again["created_report"], again["report"]) == (
        "done", False, body["id"]
    )
    assert counts() == before
    assert len(stored_files(private_media)) == 1  # the report's file; no pending copies


REFUSED_AT_ONCE = [
    ("empty.txt", b"", "empty_file"),
    ("report.xls", "整改情况汇报。".encode(), "unsupported_type"),
    ("report.docx", "整改情况汇报。".encode(), "type_mismatch"),
]


@pytest.mark.parametrize(("name", "data", "reason"), REFUSED_AT_ONCE,
                         ids=[b[0] for b in REFUSED_AT_ONCE])
def test_a_file_refused_without_reading_is_a_400_in_chinese_and_nothing_is_stored(
    client_for, sam, private_media, name, data, reason
):
    response = upload(client_for(sam), name, data)

    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "document_refused"
    assert payload["fields"]["reason"] == [reason]
    assert payload["fields"]["file"] == [payload["detail"]]
    assert is_chinese(payload["detail"])
    assert counts() == (0, 0, 0, 0, 0)
    assert not ReportImport.objects.exists()
    assert stored_files(private_media) == []


def test_an_unreadable_file_fails_its_job_in_chinese_and_nothing_is_kept(
    client_for, sam, private_media
):
    job = upload_and_read(client_for(sam), "binary.txt", bytes(range(256)) * 40)

    assert (job["state"], job["report"]) == ("failed", None)
    assert job["error"]["reason"] == "undecodable"
    assert is_chinese(job["error"]["message"])
    assert counts() == (0, 0, 0, 0, 0)
    assert stored_files(private_media) == []


def test_the_web_process_never_parses_an_upload(client_for, sam, monkeypatch):
    """Issue #14: parsing happens in the worker's child process, never where the upload is
    received (nor in the worker process itself)."""

    def fail(*args, **kwargs):
        raise AssertionError("a report was parsed in this process")

    for target in ("reports.parsing.reading.read_document", "reports.parsing.sandbox.read_report",
                   "reports.parsing.sandbox.read_document", "reports.services.read_report"):
        monkeypatch.setattr(target, fail)

    job = upload_and_read(client_for(sam), REPORT.name, REPORT.read_bytes())

    assert job["state"] == "done"
    assert SourceReport.objects.get(pk=job["report"]).figures.filter(total=21).exists()


def test_oversized_upload_is_refused_before_reading(client_for, sam, settings, monkeypatch):
    settings.REPORT_MAX_BYTES = 100

    def fail_if_read(*args, **kwargs):
        raise AssertionError("an upload over the limit must not be read")

    monkeypatch.setattr("reports.services.check_upload", fail_if_read)
    response = upload(client_for(sam), "big.txt", "整改".encode() * 100)
    assert response.status_code == 400
    assert response.json()["fields"]["reason"] == ["too_large"]
    assert "文件过大" in response.json()["detail"]
    assert not SourceReport.objects.exists()
    assert not ReportImport.objects.exists()


def test_officer_cannot_upload_and_nothing_is_stored(client_for, bob, private_media):
    response = upload(client_for(bob), REPORT.name, REPORT.read_bytes())
    assert response.status_code == 403
    assert is_chinese(response.json()["detail"])
    assert counts() == (0, 0, 0, 0, 0)
    assert stored_files(private_media) == []


def test_same_file_imported_out_of_sight_is_a_conflict_not_a_leak(client_for, sam, sue):
    first = upload_and_read(client_for(sam), REPORT.name, REPORT.read_bytes())
    assert first["created_report"]

    job = upload_and_read(client_for(sue), REPORT.name, REPORT.read_bytes())

    assert (job["state"], job["report"]) == ("failed", None)
    assert job["error"]["reason"] == "already_imported"
    assert SourceReport.objects.count() == 1
    # Issue #14: nothing about the earlier import - who, its id or title, nor "out of scope".
    assert job["error"]["message"] == "该报告（内容相同的文件）此前已经导入，本次未重复导入。"
    report = SourceReport.objects.get()
    text = json.dumps(job, ensure_ascii=False)
    for revealing in (sam.username, sam.full_name, report.title, "其他", "范围"):
        assert revealing not in text, revealing


def test_an_upload_status_is_its_uploaders_alone(client_for, sam, sue, chief):
    response = upload(client_for(sam), REPORT.name, REPORT.read_bytes())
    url = response.json()["status_url"]

    assert client_for(sam).get(url).status_code == 200
    assert client_for(sue).get(url).status_code == 404
    assert client_for(chief).get(url).status_code == 404


# --- List, detail, edit -------------------------------------------------------------------


@pytest.mark.parametrize(("user", "expected"), [
    ("alice", 403), ("bob", 403), ("sam", 200), ("sue", 200), ("chief", 200),
    ("root_admin", 200),
])
def test_list_is_for_supervisors_and_administrators(request, client_for, county_report, user,
                                                    expected):
    response = client_for(request.getfixturevalue(user)).get("/api/v1/reports/")
    assert response.status_code == expected


def test_list_shows_only_reports_in_the_supervisors_sight(client_for, sam, sue, chief,
                                                          county_report, bureau):
    bureau_report = SourceReportFactory(inspection=InspectionFactory(target_unit=bureau))
    unlinked = SourceReportFactory(imported_by=sue)

    def ids(user):
        return {r["id"] for r in client_for(user).get("/api/v1/reports/").json()["results"]}

    assert ids(sam) == {county_report.pk}
    assert ids(sue) == {bureau_report.pk, unlinked.pk}
    assert ids(chief) == {county_report.pk, bureau_report.pk, unlinked.pk}
    assert client_for(sue).get(f"/api/v1/reports/{county_report.pk}/").status_code == 404


def test_detail_has_the_text_figures_and_items(client_for, sam, county_report):
    body = client_for(sam).get(f"/api/v1/reports/{county_report.pk}/").json()
    assert body["text"] == county_report.text
    assert body["inspection"]["id"] == county_report.inspection_id
    assert [f["total"] for f in body["figures"]] == [30]
    assert sorted(i["kind"] for i in body["items"]) == ["measure", "problem"]


def test_list_filters_reports_with_pending_proposals(client_for, chief, county_report):
    reviewed = SourceReportFactory()
    ExtractedFigureFactory(report=reviewed, review_state=ReviewState.REJECTED)

    def ids(query):
        response = client_for(chief).get(f"/api/v1/reports/?{query}")
        return {r["id"] for r in response.json()["results"]}

    assert ids("pending=true") == {county_report.pk}
    assert ids("pending=false") == {reviewed.pk}


def test_supervisor_sets_the_report_date_and_inspection(client_for, sam, county_report, county):
    other = InspectionFactory(target_unit=county)
    response = client_for(sam).patch(
        f"/api/v1/reports/{county_report.pk}/",
        {"report_date": "2026-05-31", "inspection": other.pk}, format="json",
    )
    assert response.status_code == 200, response.json()
    county_report.refresh_from_db()
    assert (county_report.report_date, county_report.inspection) == (dt.date(2026, 5, 31), other)


def test_an_inspection_out_of_sight_cannot_be_linked(client_for, sam, county_report, bureau):
    hidden = InspectionFactory(target_unit=bureau)
    response = client_for(sam).patch(f"/api/v1/reports/{county_report.pk}/",
                                     {"inspection": hidden.pk}, format="json")
    assert response.status_code == 400
    assert "inspection" in response.json()["fields"]
    county_report.refresh_from_db()
    assert county_report.inspection_id != hidden.pk


def test_officer_cannot_edit_a_report(client_for, bob, county_report):
    response = client_for(bob).patch(f"/api/v1/reports/{county_report.pk}/",
                                     {"report_date": "2026-05-31"}, format="json")
    assert response.status_code == 403
    county_report.refresh_from_db()
    assert county_report.report_date is None


# --- Confirming ---------------------------------------------------------------------------


def test_confirming_a_figure_links_it_to_the_inspection(client_for, sam, county_report,
                                                        county_inspection):
    figure = county_report.figures.get()
    response = client_for(sam).post(f"/api/v1/reports/figures/{figure.pk}/confirm/",
                                    {"inspection": county_inspection.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["review_state"] == "confirmed"
    assert response.json()["reviewed_by"]["username"] == "sam"
    figure.refresh_from_db()
    assert (figure.review_state, figure.inspection) == (ReviewState.CONFIRMED, county_inspection)


def test_confirming_a_figure_needs_an_inspection_the_user_sees(client_for, sam, county_report,
                                                               bureau):
    figure = county_report.figures.get()
    hidden = InspectionFactory(target_unit=bureau)
    response = client_for(sam).post(f"/api/v1/reports/figures/{figure.pk}/confirm/",
                                    {"inspection": hidden.pk}, format="json")
    assert response.status_code == 400
    assert "inspection" in response.json()["fields"]
    figure.refresh_from_db()
    assert figure.review_state == ReviewState.PROPOSED


def test_rejecting_a_figure_twice_is_a_conflict(client_for, sam, county_report):
    figure = county_report.figures.get()
    url = f"/api/v1/reports/figures/{figure.pk}/reject/"
    assert client_for(sam).post(url).json()["review_state"] == "rejected"
    second = client_for(sam).post(url)
    assert second.status_code == 409
    assert second.json()["code"] == "transition_not_allowed"


def test_confirming_a_problem_item_creates_a_problem(client_for, sam, county_report,
                                                     county_inspection):
    ProblemFactory(inspection=county_inspection, number=3)
    item = county_report.items.get(kind="problem")
    response = client_for(sam).post(
        f"/api/v1/reports/items/{item.pk}/confirm-as-problem/",
        {"inspection": county_inspection.pk, "aspect": "监督执纪方面"}, format="json",
    )
    assert response.status_code == 200, response.json()
    problem = Problem.objects.get(pk=response.json()["problem"])
    assert (problem.inspection, problem.number, problem.aspect, problem.text) == (
        county_inspection, 4, "监督执纪方面", item.text
    )


def test_confirming_a_measure_item_creates_a_task(client_for, sam, county_report,
                                                  county_inspection, town):
    problem = ProblemFactory(inspection=county_inspection)
    item = county_report.items.get(kind="measure")
    response = client_for(sam).post(
        f"/api/v1/reports/items/{item.pk}/confirm-as-task/",
        {"problem": problem.pk, "lead_unit": town.pk, "deadline": "2026-10-31",
         "task_type": "by_deadline", "title": "配齐村务监督委员会"}, format="json",
    )
    assert response.status_code == 200, response.json()
    task = Task.objects.get(pk=response.json()["task"])
    assert (task.problem, task.lead_unit, task.deadline, task.title, task.measures) == (
        problem, town, dt.date(2026, 10, 31), "配齐村务监督委员会", item.text
    )


def test_a_measure_cannot_become_a_problem(client_for, sam, county_report, county_inspection):
    item = county_report.items.get(kind="measure")
    before = counts()
    response = client_for(sam).post(f"/api/v1/reports/items/{item.pk}/confirm-as-problem/",
                                    {"inspection": county_inspection.pk}, format="json")
    assert response.status_code == 400
    assert is_chinese(response.json()["detail"])
    assert counts() == before


def test_a_task_for_a_unit_outside_the_supervisors_scope_is_refused(
    client_for, sam, county_report, county_inspection, bureau
):
    problem = ProblemFactory(inspection=county_inspection)
    item = county_report.items.get(kind="measure")
    before = counts()
    response = client_for(sam).post(
        f"/api/v1/reports/items/{item.pk}/confirm-as-task/",
        {"problem": problem.pk, "lead_unit": bureau.pk, "deadline": "2026-10-31"}, format="json",
    )
    assert response.status_code == 403
    assert counts() == before
    item.refresh_from_db()
    assert item.review_state == ReviewState.PROPOSED


def test_rejecting_an_item_leaves_the_ledger_alone(client_for, sam, county_report):
    item = county_report.items.get(kind="problem")
    before = counts()
    response = client_for(sam).post(f"/api/v1/reports/items/{item.pk}/reject/")
    assert response.status_code == 200
    assert response.json()["review_state"] == "rejected"
    assert counts() == before


@pytest.mark.parametrize("user", ["bob", "alice"])
def test_officers_cannot_confirm_or_reject(request, client_for, user, county_report,
                                           county_inspection):
    client = client_for(request.getfixturevalue(user))
    figure = county_report.figures.get()
    item = county_report.items.get(kind="problem")
    before = counts()
    assert client.post(f"/api/v1/reports/figures/{figure.pk}/confirm/",
                       {"inspection": county_inspection.pk}, format="json").status_code == 403
    assert client.post(f"/api/v1/reports/items/{item.pk}/reject/").status_code == 403
    assert counts() == before
    assert not ExtractedFigure.objects.exclude(review_state=ReviewState.PROPOSED).exists()


# --- Reconciliation -----------------------------------------------------------------------


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 5, day, 10, tzinfo=LOCAL)


@pytest.fixture
def ledger(chief, county, town):
    """An inspection of the county: 10 tasks created on 5-1; by 5-5, 6 closed and 1
    basically completed."""
    inspection = InspectionFactory(target_unit=county)
    return build_reconciliation_ledger(actor=chief, lead_unit=town,
                                       inspection=inspection).inspection


def reported(inspection, day, **numbers):
    report = SourceReportFactory(report_date=dt.date(2026, 5, day), title=f"5月{day}日汇报")
    return ExtractedFigureFactory(report=report, inspection=inspection,
                                  review_state=ReviewState.CONFIRMED, counting_word="个",
                                  **{"total": None, "completed": None, **numbers})


def test_reconciliation_endpoint_lists_exactly_the_planted_disagreements(client_for, sam,
                                                                         ledger):
    agreeing = reported(ledger, 2, total=10, completed=0)  # true on 5-2
    planted = reported(ledger, 5, total=10, completed=7, basically_completed=1, not_completed=2)
    ExtractedFigureFactory(inspection=None, total=99, completed=1)  # never confirmed

    response = client_for(sam).get(f"/api/v1/rollups/reconciliation/?inspection={ledger.pk}")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["inspection"]["id"] == ledger.pk
    assert [f["figure"] for f in body["figures"]] == [agreeing.pk, planted.pk]
    first, second = body["figures"]
    assert first["disagreements"] == []
    assert first["report"] == {"id": agreeing.report_id, "title": "5月2日汇报",
                               "report_date": "2026-05-02"}
    assert second["as_of"] == "2026-05-05"
    assert second["reported"] == {"total": 10, "completed": 7, "basically_completed": 1,
                                  "long_term": None, "not_completed": 2, "in_progress": None}
    assert second["ledger"] == {"total": 10, "completed": 6, "basically_completed": 1,
                                "long_term": 0, "not_completed": 3, "in_progress": 0}
    assert second["disagreements"] == [
        {"field": "completed", "reported": 7, "ledger": 6,
         "message": "报告称已完成整改7个，台账截至2026年5月5日已销号6个"},
        {"field": "not_completed", "reported": 2, "ledger": 3,
         "message": "报告称未完成整改2个，台账截至2026年5月5日未完成整改3个"},
    ]


@pytest.mark.parametrize(("user", "expected"), [
    ("bob", 403), ("alice", 403), ("sue", 404), ("sam", 200), ("root_admin", 200),
])
def test_reconciliation_is_for_supervisors_who_see_the_inspection(request, client_for, ledger,
                                                                  user, expected):
    reported(ledger, 5, total=10, completed=7)
    client = client_for(request.getfixturevalue(user))
    response = client.get(f"/api/v1/rollups/reconciliation/?inspection={ledger.pk}")
    assert response.status_code == expected


def test_reconciliation_needs_an_inspection(client_for, sam):
    response = client_for(sam).get("/api/v1/rollups/reconciliation/")
    assert response.status_code == 400
    assert "inspection" in response.json()["fields"]


# --- Query count --------------------------------------------------------------------------


def make_reports(n: int, inspection) -> None:
    for _ in range(n):
        report = SourceReportFactory(inspection=inspection)
        ExtractedFigureFactory(report=report)
        ExtractedFigureFactory(report=report, review_state=ReviewState.CONFIRMED,
                               inspection=inspection)
        ExtractedItemFactory(report=report, kind="problem")
        ExtractedItemFactory(report=report, kind="measure")


@pytest.mark.parametrize("n", [3, 30])
def test_report_list_takes_a_constant_number_of_queries(client_for, sam, county_inspection,
                                                        django_assert_num_queries, n):
    make_reports(n, county_inspection)
    client = client_for(sam)
    # count for the page; the reports with importer and inspection; their figures with
    # reviewers; their items with reviewers.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/reports/")
    assert response.status_code == 200
    assert response.json()["count"] == n
    assert len(response.json()["results"][0]["figures"]) == 2
