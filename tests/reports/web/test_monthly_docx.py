"""The monthly .docx: GB/T 9704 page setup, page numbers, an editable Word template (issue #11).

Every check reads the produced document back with python-docx.
"""

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.figures.rollups import Grouping, RollupFilters, rollup
from tracker.models import TaskStatus
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db

SHIPPED = "reports/templates/reports/monthly_report.docx"


@pytest.fixture
def ledger(bureau, town, today):
    inspection = InspectionFactory(title="省委第三巡视组反馈意见整改", team="省委第三巡视组")
    problem = ProblemFactory(inspection=inspection)
    for status in (TaskStatus.COMPLETED, TaskStatus.COMPLETED, TaskStatus.IN_PROGRESS):
        TaskFactory(problem=problem, lead_unit=bureau, status=status)
    TaskFactory(problem=problem, lead_unit=town, status=TaskStatus.IN_PROGRESS,
                title="逾期的村级任务 R&D <试点>", deadline=today - dt.timedelta(days=30))
    return inspection


def monthly(client, inspection, day) -> bytes:
    response = client.get(f"/reports/monthly/?inspection={inspection.pk}&as_of={day.isoformat()}")
    assert response.status_code == 200
    return response.content


def text_of(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def footer_fields(footer) -> list[str]:
    return [node.text.strip() for node in footer._element.iter(qn("w:instrText"))]


def test_page_is_a4_with_official_margins(chief_client, ledger, today):
    document = Document(io.BytesIO(monthly(chief_client, ledger, today)))
    section = document.sections[0]
    expected = {"page_width": 210, "page_height": 297, "top_margin": 37, "bottom_margin": 35,
                "left_margin": 28, "right_margin": 26}
    for name, millimetres in expected.items():
        assert abs(getattr(section, name).mm - millimetres) <= 0.5, name


def test_footer_numbers_pages_with_dashes_on_odd_and_even_pages(chief_client, ledger, today):
    document = Document(io.BytesIO(monthly(chief_client, ledger, today)))
    section = document.sections[0]
    assert document.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        assert footer_fields(footer) == ["PAGE"]
        line = footer.paragraphs[0].text
        assert line.startswith("— ")
        assert line.endswith(" —")
    # 单页码居右、双页码居左
    assert section.footer.paragraphs[0].alignment == 2  # RIGHT
    assert section.even_page_footer.paragraphs[0].alignment == 0  # LEFT


def test_document_carries_sentence_table_and_overdue_tasks(chief, chief_client, ledger, today,
                                                           bureau):
    document = Document(io.BytesIO(monthly(chief_client, ledger, today)))
    text = text_of(document)
    figures = rollup(user=chief, group_by=Grouping.TOTAL,
                     filters=RollupFilters(inspection_id=ledger.pk)).total
    assert figures.sentence(subject="省委第三巡视组反馈意见") in text
    assert "目前逾期未完成整改任务1项，需重点督办。" in text
    # Escaped on the way in, so "&" and "<" come back as written and the XML stays whole.
    assert "1. 逾期的村级任务 R&D <试点>（牵头单位：湖滨街道" in text
    assert "无逾期未完成的整改任务" not in text
    assert "一是持续压实整改责任" in text
    assert "{{" not in text
    assert "{%" not in text

    table = document.tables[0]
    assert [cell.text for cell in table.rows[0].cells][:3] == ["责任单位", "任务数", "已完成整改"]
    rows = {row.cells[0].text: [cell.text for cell in row.cells] for row in table.rows[1:]}
    assert rows["市教育局"][1:3] == ["3", "2"]
    assert "湖滨街道" in rows or "东湖区" in rows
    assert all("{" not in cell for row in rows.values() for cell in row)


def test_no_overdue_says_so_and_drops_the_overdue_sentence(chief_client, bureau, today):
    inspection = InspectionFactory(title="市委第一巡察组反馈意见整改", team="市委第一巡察组")
    TaskFactory(problem=ProblemFactory(inspection=inspection), lead_unit=bureau,
                status=TaskStatus.COMPLETED)
    text = text_of(Document(io.BytesIO(monthly(chief_client, inspection, today))))
    assert "截至本报告日期，无逾期未完成的整改任务。" in text
    assert "需重点督办" not in text


def test_an_office_template_is_used_when_configured(chief_client, ledger, today, settings,
                                                    tmp_path):
    """An office copies the shipped template, edits it in Word, and points the setting at it."""
    office = Document(SHIPPED)
    office.paragraphs[0].insert_paragraph_before("东湖区整改工作领导小组办公室文件")
    office.add_paragraph("（共{{ unit_rows|length }}个责任单位，联系人：王明）")
    path = tmp_path / "office.docx"
    office.save(path)
    settings.REPORTS_MONTHLY_TEMPLATE = str(path)

    text = text_of(Document(io.BytesIO(monthly(chief_client, ledger, today))))
    assert text.startswith("东湖区整改工作领导小组办公室文件\n省委第三巡视组反馈意见整改进展情况")
    assert "联系人：王明" in text


def test_a_missing_office_template_is_named(chief_client, ledger, today, settings, tmp_path):
    settings.REPORTS_MONTHLY_TEMPLATE = str(tmp_path / "gone.docx")
    with pytest.raises(ImproperlyConfigured, match="月度报告模板不存在"):
        chief_client.get(f"/reports/monthly/?inspection={ledger.pk}&as_of={today.isoformat()}")


def test_shipped_template_is_what_the_build_command_makes(tmp_path):
    """The template is reproducible: rebuilding it gives the same document and styles."""
    rebuilt = tmp_path / "monthly_report.docx"
    call_command("build_report_template", output=rebuilt, stdout=io.StringIO())
    with zipfile.ZipFile(SHIPPED) as shipped, zipfile.ZipFile(rebuilt) as fresh:
        for part in ("word/document.xml", "word/styles.xml", "word/settings.xml",
                     "word/footer1.xml", "word/footer2.xml"):
            assert shipped.read(part) == fresh.read(part), part


def test_template_body_uses_official_fonts():
    styles = Document(SHIPPED).styles
    body = styles["公文正文"]
    assert body.font.size.pt == 16  # 三号
    assert body.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert styles["公文标题"].element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert body.paragraph_format.first_line_indent == Pt(32)  # 首行缩进两个字


def test_control_characters_pasted_into_a_title_do_not_break_the_document(
    chief_client, bureau, today
):
    inspection = InspectionFactory(title="市委第二巡察组\x01反馈意见整改", team="市委第二巡察组")
    TaskFactory(problem=ProblemFactory(inspection=inspection), lead_unit=bureau,
                status=TaskStatus.IN_PROGRESS, deadline=today - dt.timedelta(days=3),
                title="从Word粘贴\x0b的任务\x07名称")
    text = text_of(Document(io.BytesIO(monthly(chief_client, inspection, today))))
    assert "市委第二巡察组反馈意见整改进展情况" in text
    assert "从Word粘贴\n的任务名称" in text  # Word's line break kept as a line, the bell dropped


def test_a_past_date_lists_the_tasks_overdue_on_that_date_as_they_stood_then(
    chief, chief_client, alice, bureau
):
    """A report as of 3月16日 lists a task that was overdue that day though it was closed on
    3月20日, and not a task whose deadline then was later (moved earlier since)."""
    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 3, day, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    inspection = InspectionFactory(title="市委第四巡察组反馈意见整改", team="市委第四巡察组")
    problem = ProblemFactory(inspection=inspection)
    late = task_services.task_create(problem=problem, actor=chief, title="逾期后才销号的任务",
                                     lead_unit=bureau, deadline=dt.date(2026, 3, 10), now=at(2))
    task_services.task_start(task=late, actor=alice, now=at(3))
    task_services.task_submit(task=late, actor=alice, now=at(18))
    task_services.task_close(task=late, actor=chief, now=at(20))
    moved = task_services.task_create(problem=problem, actor=chief, title="后来提前了时限的任务",
                                      lead_unit=bureau, deadline=dt.date(2026, 4, 30), now=at(2))
    task_services.task_update(task=moved, actor=chief, deadline=dt.date(2026, 3, 12), now=at(25))

    then = text_of(Document(io.BytesIO(monthly(chief_client, inspection, dt.date(2026, 3, 16)))))
    assert "1. 逾期后才销号的任务（牵头单位：市教育局，完成时限：2026年3月10日" in then
    assert "后来提前了时限的任务" not in then
    assert "目前逾期未完成整改任务1项" in then  # the list and the figure agree

    now = text_of(Document(io.BytesIO(monthly(chief_client, inspection, dt.date(2026, 11, 30)))))
    assert "逾期后才销号的任务（" not in now
    assert "1. 后来提前了时限的任务（牵头单位：市教育局" in now
