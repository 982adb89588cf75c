"""Importing report documents: stored once with their proposals, refused whole when unreadable,
confirmed into the ledger by supervisors only; the import command and its JSON format."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports.models import ExtractedFigure, ExtractedItem, ReviewState, SourceReport
from reports.services import (
    DocumentRefused,
    figure_confirm,
    item_confirm_as_problem,
    item_confirm_as_task,
    item_reject,
    report_import,
)
from tests.reports.factories import ExtractedFigureFactory, ExtractedItemFactory
from tests.reports.parsing.parsing_test_builders import make_docx, make_textless_pdf
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.errors import ActionForbidden, TransitionNotAllowed

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
REPORT = FIXTURES / "qinghe_redacted_report.txt"


def stored_files(private_media: Path) -> list[Path]:
    return [p for p in private_media.rglob("*") if p.is_file()] if private_media.exists() else []


def test_import_stores_text_figures_and_items_once(chief, private_media):
    outcome = report_import(data=REPORT.read_bytes(), filename=REPORT.name, actor=chief)
    report = outcome.report
    assert outcome.created
    assert (report.format, report.encoding) == ("txt", "utf-8")
    figure = report.figures.get(total=21)
    assert (figure.body, figure.completed, figure.not_completed) == ("县委第一巡察组", 18, 3)
    assert (figure.counted_noun, figure.category, figure.source, figure.adds_up,
            figure.confidence) == ("问题", "rectification", "inspection", True, "high")
    assert report.text[figure.start:figure.end] == figure.quote
    assert report.items.filter(kind="problem").count() == 3
    assert report.items.filter(kind="measure").count() == 3
    assert len(stored_files(private_media)) == 1

    again = report_import(data=REPORT.read_bytes(), filename="改名.txt", actor=chief)
    assert (again.created, again.report.pk) == (False, report.pk)
    assert (SourceReport.objects.count(), ExtractedFigure.objects.count()) == (
        1, report.figures.count()
    )


def test_redacted_numbers_are_stored_as_unknown(chief):
    report = report_import(data=REPORT.read_bytes(), filename=REPORT.name, actor=chief).report
    redacted = report.figures.filter(total__isnull=True)
    assert redacted.exists()
    assert not report.figures.filter(total=0).exists()


BAD_FILES = [
    ("empty.txt", b"", "empty_file", "文件为空"),
    ("binary.txt", bytes(range(256)) * 40, "undecodable", None),
    ("truncated.docx", make_docx(["江屿市整改情况汇报", "正文内容。"])[:600], "corrupt_docx", None),
    ("scan.pdf", make_textless_pdf(), "pdf_no_text", "文字层"),
    ("huge.txt", "整改".encode() * (26 * 1024 * 1024), "too_large", "文件过大"),
    ("report.xls", "整改情况汇报。".encode(), "unsupported_type", None),
]


@pytest.mark.parametrize(("name", "data", "reason", "phrase"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_in_chinese_and_nothing_is_stored(
    chief, private_media, name, data, reason, phrase
):
    with pytest.raises(DocumentRefused) as refused:
        report_import(data=data, filename=name, actor=chief)
    assert refused.value.reason == reason
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    if phrase:
        assert phrase in refused.value.message
    assert not SourceReport.objects.exists()
    assert stored_files(private_media) == []


def test_officers_cannot_import(alice):
    with pytest.raises(ActionForbidden):
        report_import(data=REPORT.read_bytes(), filename=REPORT.name, actor=alice)


def test_confirming_links_figures_and_turns_items_into_ledger_rows(chief, bureau):
    inspection = InspectionFactory()
    figure = figure_confirm(figure=ExtractedFigureFactory(), actor=chief, inspection=inspection)
    assert (figure.review_state, figure.inspection) == (ReviewState.CONFIRMED, inspection)

    ProblemFactory(inspection=inspection, number=4)
    problem = item_confirm_as_problem(item=ExtractedItemFactory(), actor=chief,
                                      inspection=inspection, aspect="监督执纪方面")
    assert (problem.number, problem.aspect) == (5, "监督执纪方面")

    measure = ExtractedItemFactory(kind="measure", text="健全基层监督网络，配齐村务监督委员会。")
    task = item_confirm_as_task(item=measure, actor=chief, problem=problem, lead_unit=bureau,
                                deadline=inspection.rectification_deadline)
    assert task.measures == measure.text
    measure.refresh_from_db()
    assert (measure.review_state, measure.task) == (ReviewState.CONFIRMED, task)

    with pytest.raises(TransitionNotAllowed, match="不能重复处理"):
        item_reject(item=measure, actor=chief)


def test_officer_cannot_confirm(alice):
    item = ExtractedItemFactory()
    with pytest.raises(ActionForbidden):
        item_confirm_as_problem(item=item, actor=alice, inspection=InspectionFactory())
    item.refresh_from_db()
    assert item.review_state == ReviewState.PROPOSED


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("import_reports", *args, stdout=out)
    return out.getvalue()


def test_command_prints_a_table_and_rerunning_changes_nothing():
    first = run_command(str(FIXTURES))
    assert first.count("新导入") == 3
    counts = (SourceReport.objects.count(), ExtractedFigure.objects.count(),
              ExtractedItem.objects.count())
    second = run_command(str(FIXTURES))
    assert second.count("已导入过，未改动") == 3
    assert counts == (SourceReport.objects.count(), ExtractedFigure.objects.count(),
                      ExtractedItem.objects.count())


def test_dry_run_json_prints_one_object_per_file_and_stores_nothing():
    lines = run_command("--dry-run", "--json", str(FIXTURES)).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [Path(o["file"]).name for o in objects] == sorted(p.name for p in FIXTURES.iterdir())
    figure = next(f for o in objects for f in o["figures"] if f["total"] == 21)
    assert set(figure) == {"kind", "body", "counting_word", "total", "completed",
                           "basically_completed", "long_term", "not_completed", "in_progress",
                           "quote", "start", "end", "counted_noun", "category", "source", "rate",
                           "levels", "other_counts", "adds_up", "confidence"}
    assert all(set(o) >= {"figures", "problems", "measures", "metadata"} for o in objects)
    assert not SourceReport.objects.exists()


def test_command_reports_refused_files_and_fails(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CommandError, match="1个文件未能读取"):
        run_command(str(tmp_path))
