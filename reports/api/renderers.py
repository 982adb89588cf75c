"""Rollups as spreadsheets: the same rows as the JSON, as .xlsx (openpyxl) and CSV."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from rest_framework import renderers

from tracker.text import xml_safe

COLUMNS = [
    ("label", "统计对象"),
    ("total", "任务总数"),
    ("completed", "已完成整改"),
    ("basically_completed", "基本完成整改"),
    ("long_term", "长期坚持"),
    ("not_completed", "未完成整改"),
    ("not_started", "其中：未启动"),
    ("in_progress", "其中：整改中"),
    ("submitted", "其中：已提交待审核"),
    ("overdue", "逾期"),
    ("completion_rate", "整改完成率（%）"),
    ("broad_rate", "基本完成率（%）"),
    ("on_time_rate", "按期完成率（%）"),
    ("recheck_due", "回头看待办"),
    ("recheck_done", "回头看已确认"),
    ("recheck_failed", "回头看未通过"),
    ("light_label", "灯色"),
    ("sentence", "表述"),
]
TREND_COLUMNS = [
    ("label", "周期"),
    ("created", "新增任务"),
    ("closed", "销号"),
    ("reopened", "重新打开"),
    ("total_to_date", "累计任务"),
    ("completed_to_date", "累计已完成整改"),
    ("completion_rate_to_date", "累计整改完成率（%）"),
]


def _safe(value):
    """Text a spreadsheet would run as a formula is written as plain text instead, and
    control characters the file cannot hold are dropped."""
    if isinstance(value, str):
        value = xml_safe(value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return "" if value is None else value


def table(data) -> tuple[list[str], list[list]]:
    """Header and rows of a rollup, snapshot or trend response, tree rows flattened."""
    if isinstance(data, dict) and "series" in data:
        return [h for _, h in TREND_COLUMNS], [
            [_safe(item[k]) for k, _ in TREND_COLUMNS] for item in data["series"]
        ]
    if not isinstance(data, dict) or "rows" not in data:  # an error response
        return ["错误"], [[_safe(str(data))]]
    lines = []

    def walk(rows, depth):
        for row in rows:
            values = [_safe(row.get(k)) for k, _ in COLUMNS]
            values[0] = "　" * depth + str(values[0])
            lines.append(values)
            walk(row.get("children", []), depth + 1)

    walk(data["rows"], 0)
    if data.get("total") and len(data["rows"]) != 1:
        lines.append(["合计", *[_safe(data["total"].get(k)) for k, _ in COLUMNS[1:]]])
    return [h for _, h in COLUMNS], lines


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        header, rows = table(data)
        out = io.StringIO()
        out.write("\ufeff")  # Excel opens UTF-8 CSV as Chinese text only with the BOM
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")


class XLSXRenderer(renderers.BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        header, rows = table(data)
        book = Workbook()
        sheet = book.active
        sheet.title = "整改完成率统计" if "series" not in (data or {}) else "整改进度趋势"
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for row in rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 28
        if len(header) == len(COLUMNS):
            sheet.column_dimensions[get_column_letter(len(COLUMNS))].width = 90
        sheet.freeze_panes = "B2"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
