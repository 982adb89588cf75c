"""The default Word template of the monthly report, built with python-docx.

The shipped file (reports/templates/reports/monthly_report.docx) is made by
`manage.py build_report_template`; an office may copy it, edit it in Word (wording, fonts, its
own header) and point REPORTS_MONTHLY_TEMPLATE at its copy. The placeholders are docxtpl's
(Jinja2 inside the document); docs/reports.md lists every variable.

Page setup follows GB/T 9704-2012 (党政机关公文格式): A4, margins top 37 mm, bottom 35 mm,
left 28 mm, right 26 mm; body 3号仿宋 on a fixed line pitch; the page number "— 1 —" in
4号宋体, odd pages on the right and even pages on the left, one character in from the edge
of the text block.
"""

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

# The layout (page, styles, page number) is the tracker's official-document module, shared
# with the supervision notice.
from tracker.officialdoc import SIZE_3, official_document
from tracker.officialdoc import add_paragraph as _para

if TYPE_CHECKING:
    from docx.document import Document

TABLE_HEADERS = ("责任单位", "任务数", "已完成整改", "基本完成整改", "长期坚持", "未完成整改",
                 "整改完成率", "灯色")
TABLE_CELLS = ("label", "total", "completed", "basically_completed", "long_term",
               "not_completed", "completion_rate", "light")


def build_template() -> "Document":
    """The template as a python-docx Document (the command saves it)."""
    doc = official_document()

    # The Document() starts with no paragraphs; each line below is one template line.
    _para(doc, "{{ title }}", "公文标题")
    _para(doc, "（截至{{ as_of }}）", "公文副标题")
    _para(doc, "", "公文正文")

    _para(doc, "一、总体进展", "一级标题")
    _para(doc, "{{ sentence }}", "公文正文")
    _para(doc, "{%p if overdue_count %}", "公文正文")
    _para(doc, "目前逾期未完成整改任务{{ overdue_count }}项，需重点督办。", "公文正文")
    _para(doc, "{%p endif %}", "公文正文")

    _para(doc, "二、各责任单位整改情况", "一级标题")
    table = doc.add_table(rows=4, cols=len(TABLE_HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    loop_rows = {1: "{%tr for row in unit_rows %}", 3: "{%tr endfor %}"}
    for number, row in enumerate(table.rows):
        for column, cell in enumerate(row.cells):
            if number == 0:
                text = TABLE_HEADERS[column]
            elif number == 2:
                text = f"{{{{ row.{TABLE_CELLS[column]} }}}}"
            else:
                text = loop_rows[number] if column == 0 else ""
            cell.paragraphs[0].text = text
            cell.paragraphs[0].style = doc.styles["表格文字"]
    for cell in table.rows[0].cells:
        cell.paragraphs[0].runs[0].font.bold = True

    _para(doc, "三、逾期未完成任务", "一级标题")
    _para(doc, "{%p for item in overdue %}", "公文正文")
    _para(doc, "{{ item.number }}. {{ item.title }}（牵头单位：{{ item.lead_unit }}，完成时限："
               "{{ item.deadline }}，{{ item.days_left }}）", "公文正文")
    _para(doc, "{%p endfor %}", "公文正文")
    _para(doc, "{%p if not overdue %}", "公文正文")
    _para(doc, "截至本报告日期，无逾期未完成的整改任务。", "公文正文")
    _para(doc, "{%p endif %}", "公文正文")

    _para(doc, "四、下步工作打算", "一级标题")
    _para(doc, "{%p for plan in plans %}", "公文正文")
    _para(doc, "{{ plan }}", "公文正文")
    _para(doc, "{%p endfor %}", "公文正文")

    _para(doc, "", "公文正文")
    signature = _para(doc, "{{ compiled_by }}", "Normal", align=WD_ALIGN_PARAGRAPH.RIGHT)
    signature.paragraph_format.right_indent = Pt(SIZE_3.pt * 4)  # 右空四字
    date = _para(doc, "{{ date }}", "Normal", align=WD_ALIGN_PARAGRAPH.RIGHT)
    date.paragraph_format.right_indent = Pt(SIZE_3.pt * 4)
    return doc


def save_template(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = build_template()
    # Fixed properties, so a rebuilt template differs from the shipped one only if the code did.
    doc.core_properties.author = "整改工作领导小组办公室"
    doc.core_properties.title = "整改进展情况（月度报告模板）"
    doc.core_properties.created = doc.core_properties.modified = dt.datetime(2026, 1, 1)
    doc.core_properties.last_modified_by = "build_report_template"
    doc.save(path)
