"""Issue #14: imports are idempotent by content, and the answer to a duplicate never tells a
supervisor anything about a report outside their sight.

The same report saved as UTF-8, as UTF-8 with a BOM and CRLF line ends, and as GB18030 is one
report (the normalised text is hashed, not the bytes); so is its .docx. A duplicate of a report
the actor may not read is a 409 that names neither the report nor who imported it."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reports.models import ExtractedFigure, SourceReport
from reports.parsing.fingerprint import content_fingerprint
from reports.services import ReportAlreadyImported, report_import
from tests.reports.jobs import run_queued_imports
from tests.reports.parsing.parsing_test_builders import make_docx
from tests.tracker.web.conftest import chief_client, sam_client  # noqa: F401

pytestmark = pytest.mark.django_db

# Written for these tests (not from any real report).
REPORT = """西岭县巡察整改工作情况汇报
一、工作开展情况
县委第二巡察组反馈的12个问题已完成整改9个，基本完成整改1个，未完成整改2个。
二、存在的问题
一是整改责任落实不够到位；二是长效机制建设滞后。
三、下步打算
（一）压实整改责任，逐项对账销号。
"""
SAVINGS = {
    "utf-8": REPORT.encode("utf-8"),
    "utf-8-sig+crlf": REPORT.replace("\n", "\r\n").encode("utf-8-sig"),
    "gb18030": REPORT.encode("gb18030"),
}


def test_the_same_report_in_three_encodings_is_imported_once(chief):
    outcomes = [report_import(data=data, filename=f"{name}.txt", actor=chief)
                for name, data in SAVINGS.items()]

    assert [o.created for o in outcomes] == [True, False, False]
    assert {o.report.pk for o in outcomes} == {outcomes[0].report.pk}
    assert SourceReport.objects.count() == 1
    # No duplicate figures: the one report's figures only.
    assert ExtractedFigure.objects.filter(total=12).count() == 1


def test_the_same_report_as_docx_is_the_same_report(chief):
    first = report_import(data=SAVINGS["gb18030"], filename="汇报.txt", actor=chief)
    again = report_import(data=make_docx(REPORT.splitlines()), filename="汇报.docx",
                          actor=chief)

    assert (again.created, again.report.pk) == (False, first.report.pk)


def test_a_changed_figure_is_another_report(chief):
    report_import(data=SAVINGS["utf-8"], filename="a.txt", actor=chief)
    changed = REPORT.replace("已完成整改9个", "已完成整改10个")

    outcome = report_import(data=changed.encode(), filename="b.txt", actor=chief)

    assert outcome.created
    assert SourceReport.objects.count() == 2


def test_the_fingerprint_ignores_bom_line_ends_trailing_spaces_and_composition():
    base = content_fingerprint("整改情况\n已完成")
    assert content_fingerprint("\ufeff整改情况  \r\n\r\n已完成\r\n") == base
    # NFC: a decomposed character is the same character.
    assert content_fingerprint("Cafe\u0301") == content_fingerprint("Caf\u00e9")
    assert content_fingerprint("整改情况\n已完成。") != base


def test_the_stored_text_has_the_fingerprint_of_the_file(chief):
    """The migration backfills existing rows from their stored text: that must give the
    fingerprint a fresh import of the same file gives."""
    report = report_import(data=SAVINGS["utf-8-sig+crlf"], filename="a.txt", actor=chief).report
    assert content_fingerprint(report.text) == report.content_hash
    assert len(report.content_hash) == 64


# --- A duplicate out of sight -----------------------------------------------------------------


def test_a_duplicate_out_of_sight_says_nothing_about_the_report(chief, sam):
    """chief (city) imports; sam (county) does not see chief's reports."""
    first = report_import(data=SAVINGS["utf-8"], filename="a.txt", actor=chief).report

    with pytest.raises(ReportAlreadyImported) as error:
        report_import(data=SAVINGS["gb18030"], filename="b.txt", actor=sam)

    message = error.value.message
    assert error.value.status_code == 409
    for revealing in (chief.username, chief.full_name, first.title, str(first.imported_at.year),
                      "其他", "范围", "督导"):
        assert revealing not in message, revealing
    assert SourceReport.objects.count() == 1


def test_a_duplicate_in_sight_returns_the_earlier_import(chief, sam):
    first = report_import(data=SAVINGS["utf-8"], filename="a.txt", actor=sam).report
    again = report_import(data=SAVINGS["gb18030"], filename="b.txt", actor=chief)
    assert (again.created, again.report.pk) == (False, first.pk)


def test_the_upload_page_answers_a_duplicate_out_of_sight_without_naming_it(
    chief, chief_client, sam_client  # noqa: F811
):
    first = report_import(data=SAVINGS["utf-8"], filename="a.txt", actor=chief).report

    response = sam_client.post("/reports/documents/upload/", {
        "file": SimpleUploadedFile("西岭县汇报.txt", SAVINGS["gb18030"]),
    })
    assert run_queued_imports() == ["failed"]
    response = sam_client.get(response["Location"])

    page = response.content.decode()
    assert "此前已经导入，本次未重复导入" in page
    assert f"/reports/documents/{first.pk}/" not in page
    assert first.title not in page
    assert chief.full_name not in page


# --- The backfill ----------------------------------------------------------------------------

BEFORE = ("reports", "0002_figure_category_source_confidence")
AFTER = ("reports", "0003_content_hash")


@pytest.mark.django_db(transaction=True)
def test_the_migration_fingerprints_existing_reports_and_keeps_duplicates(chief):
    """Rows written with the schema before the column: each gets its stored text's fingerprint;
    a later row with the same content stays blank (kept, not deleted, no unique clash)."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("reports", "SourceReport")
    same, other = "西岭县整改汇报\n已完成9个。", "东湖区整改汇报\n已完成3个。"
    texts = [same, same, other]
    ids = [
        old.objects.create(
            original_name=f"{n}.txt", sha256=f"{n:064x}", size=1, format="txt", text=text,
            imported_at=dt.datetime(2026, 3, 2, 8 + n, tzinfo=dt.UTC), file=f"reports/{n}.txt",
        ).pk
        for n, text in enumerate(texts)
    ]
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("reports", "SourceReport")
        rows = new.objects.in_bulk(ids)
        assert [rows[i].content_hash for i in ids] == [
            content_fingerprint(texts[0]), "", content_fingerprint(texts[2])
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        SourceReport.objects.filter(pk__in=ids).delete()
