"""The monthly progress report (整改进展情况) as .docx, from the rollups, in official phrasing.

Pure assembly: figures and lists in, the Word template filled in (docxtpl), bytes out. The view
chooses the inspection and the date and reads the figures through the rollups. The template is
the shipped one (reports/templates/reports/monthly_report.docx, built by
`manage.py build_report_template`) or an office's own (REPORTS_MONTHLY_TEMPLATE); its variables
are listed in docs/reports.md and built by `report_context`.
"""

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from docxtpl import DocxTemplate

from tracker.text import xml_safe

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


PLANS = (
    "持续压实整改责任，对未完成整改任务实行挂图作战、对账销号。",
    "对逾期任务逐项督办，必要时约谈责任单位主要负责同志。",
    "对已完成整改任务开展“回头看”，巩固整改成果，防止问题反弹。",
)


def template_path() -> Path:
    return Path(settings.REPORTS_MONTHLY_TEMPLATE)


def report_context(
    *, inspection, as_of: dt.date, sentence: str, figures, unit_rows, overdue: list[OverdueItem],
    compiled_by: str,
) -> dict:
    """The template's variables (docs/reports.md lists them): plain strings and numbers only,
    so an office's template needs nothing but docxtpl's tags."""
    return {
        "title": f"{inspection.title}进展情况",
        "inspection_title": inspection.title,
        "team": inspection.team,
        "subject": subject_of(inspection),
        "as_of": date_cn(as_of),
        "sentence": sentence,
        "overdue_count": figures.overdue,
        "total": figures.total,
        "completed": figures.completed,
        "completion_rate": f"{figures.completion_rate}%",
        "unit_rows": [
            {"label": row.label, "total": row.figures.total, "completed": row.figures.completed,
             "basically_completed": row.figures.basically_completed,
             "long_term": row.figures.long_term, "not_completed": row.figures.not_completed,
             "completion_rate": f"{row.figures.completion_rate}%",
             "light": row.figures.light_label}
            for row in unit_rows
        ],
        "overdue": [
            {"number": number, "title": item.title, "lead_unit": item.lead_unit,
             "deadline": date_cn(item.deadline), "days_left": item.days_left}
            for number, item in enumerate(overdue, start=1)
        ],
        "plans": [f"{ordinal}是{plan}" for ordinal, plan in zip(CHINESE_ORDINALS, PLANS,
                                                                  strict=False)],
        "compiled_by": compiled_by,
        "date": date_cn(as_of),
    }


def build_monthly_report(*, template: Path | None = None, **facts) -> bytes:
    """The document: title, 一、总体进展 (the rollup sentence), 二、各责任单位整改情况 (a
    table), 三、逾期未完成任务, 四、下步工作打算, filled into the Word template."""
    path = template or template_path()
    if not path.is_file():
        raise ImproperlyConfigured(f"月度报告模板不存在：{path}（设置 REPORTS_MONTHLY_TEMPLATE）")
    document = DocxTemplate(path)
    # Autoescape: a task title with "&" or "<" must stay text, not break the document's XML;
    # and control characters pasted into a title are dropped for the same reason.
    document.render(_xml_safe(report_context(**facts)), autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xml_safe(value):
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, dict):
        return {key: _xml_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    return value
