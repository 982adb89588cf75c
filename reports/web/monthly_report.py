"""The monthly progress report (整改进展情况) as .docx, from the rollups, in official phrasing.

Pure assembly: figures and lists in, a python-docx Document out. The view chooses the
inspection and the date and reads the figures through the rollups.
"""

import datetime as dt
import io
from dataclasses import dataclass

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class OverdueItem:
    title: str
    lead_unit: str
    deadline: dt.date
    days_left: str  # tracker.deadlines.days_left_text on the report's date: 已逾期N个工作日


def date_cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def subject_of(inspection) -> str:
    """How the reports name the feedback: "省委第三巡视组反馈意见", or the title itself."""
    return f"{inspection.team}反馈意见" if inspection.team else inspection.title


def _font(run, size: float, *, bold: bool = False, family: str = "仿宋_GB2312") -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = family
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), family)


def _paragraph(doc, text: str, *, size: float = 16, bold: bool = False, family="仿宋_GB2312",
               center: bool = False, indent: bool = True):
    paragraph = doc.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _font(paragraph.add_run(text), size, bold=bold, family=family)
    return paragraph


def build_monthly_report(
    *, inspection, as_of: dt.date, sentence: str, figures, unit_rows, overdue: list[OverdueItem],
    compiled_by: str,
) -> bytes:
    """The document: title, 一、总体进展 (the rollup sentence), 二、各责任单位整改情况 (a
    table), 三、逾期未完成任务, 四、下步工作打算."""
    doc = Document()
    _paragraph(doc, f"{inspection.title}进展情况", size=22, family="方正小标宋简体",
               center=True)
    _paragraph(doc, f"（截至{date_cn(as_of)}）", size=16, family="楷体_GB2312", center=True)

    _paragraph(doc, "一、总体进展", family="黑体")
    _paragraph(doc, sentence)
    if figures.overdue:
        _paragraph(doc, f"目前逾期未完成整改任务{figures.overdue}项，需重点督办。")

    _paragraph(doc, "二、各责任单位整改情况", family="黑体")
    table = doc.add_table(rows=1, cols=8)
    table.style = "Table Grid"
    headers = ("责任单位", "任务数", "已完成整改", "基本完成整改", "长期坚持", "未完成整改",
               "整改完成率", "灯色")
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in unit_rows:
        f = row.figures
        values = (row.label, f.total, f.completed, f.basically_completed, f.long_term,
                  f.not_completed, f"{f.completion_rate}%", f.light_label)
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = str(value)

    _paragraph(doc, "三、逾期未完成任务", family="黑体")
    if overdue:
        for number, item in enumerate(overdue, start=1):
            _paragraph(doc, f"{number}. {item.title}（牵头单位：{item.lead_unit}，完成时限："
                            f"{date_cn(item.deadline)}，{item.days_left}）")
    else:
        _paragraph(doc, "截至本报告日期，无逾期未完成的整改任务。")

    _paragraph(doc, "四、下步工作打算", family="黑体")
    plans = [
        "持续压实整改责任，对未完成整改任务实行挂图作战、对账销号。",
        "对逾期任务逐项督办，必要时约谈责任单位主要负责同志。",
        "对已完成整改任务开展“回头看”，巩固整改成果，防止问题反弹。",
    ]
    for ordinal, plan in zip(CHINESE_ORDINALS, plans, strict=False):
        _paragraph(doc, f"{ordinal}是{plan}")

    _paragraph(doc, f"{compiled_by}　{date_cn(as_of)}", indent=False).alignment = (
        WD_ALIGN_PARAGRAPH.RIGHT
    )
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
