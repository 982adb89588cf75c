"""Write a ledger workbook in the layout the reader accepts: a title row, one header row,
one row per task, problem cells merged over the problem's tasks, real dates.

After the ledger's own columns come the task's light and days left on the day of export (as
tracker.deadlines decides them, passed in on each row); the reader ignores those columns."""

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from tracker.ledger_excel.columns import COLUMNS
from tracker.ledger_excel.values import format_deadline

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
INSPECTION_LABEL = "巡视巡察"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
# (header, width) of the columns after the ledger's own, and the font colour of each light.
LIGHT_COLUMNS = (("灯色", 8), ("时限提醒", 18))
_LIGHT_COLOURS = {"red": "C62828", "yellow": "F9A825", "green": "2E7D32"}


@dataclass
class ExportRow:
    problem_key: object  # consecutive rows with the same key are one problem (merged cells)
    number: int
    aspect: str
    problem: str
    title: str
    measures: str
    lead_unit: str
    supporting_units: list[str] = field(default_factory=list)
    leader: str = ""
    person: str = ""
    task_type: str = "by_deadline"
    deadline: dt.date | None = None
    progress: str = ""
    status: str = ""  # the Chinese label
    inspection: str = ""
    light: str = ""  # red / yellow / green / none, on the day of export
    light_label: str = ""
    days_left: str = ""  # 剩余N个工作日, 已逾期N个工作日 …


def _values(row: ExportRow) -> dict[str, object]:
    return {
        "number": row.number,
        "aspect": row.aspect,
        "problem": row.problem,
        "title": row.title,
        "measures": row.measures,
        "lead_unit": row.lead_unit,
        "supporting_units": "、".join(row.supporting_units),
        "leader": row.leader,
        "person": row.person,
        "deadline": format_deadline(row.task_type, row.deadline),
        "progress": row.progress,
        "status": row.status,
    }


def _runs(rows: Sequence[ExportRow], key: Callable[[ExportRow], object]):
    """(first index, last index) of each run of consecutive rows with the same key."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or key(rows[i]) != key(rows[start]):
            yield start, i - 1
            start = i


def write_ledger(
    rows: Sequence[ExportRow], *, title: str, with_inspection: bool = False
) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "整改台账"
    headers = (
        ([INSPECTION_LABEL] if with_inspection else [])
        + [c.label for c in COLUMNS]
        + [label for label, _ in LIGHT_COLUMNS]
    )
    widths = (
        ([24] if with_inspection else [])
        + [c.width for c in COLUMNS]
        + [width for _, width in LIGHT_COLUMNS]
    )
    offset = 1 if with_inspection else 0
    col_of = {c.key: i + 1 + offset for i, c in enumerate(COLUMNS)}

    ws.cell(1, 1, title).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.row_dimensions[1].height = 32
    for c, (label, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(2, c, label)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A3"

    wrap = Alignment(vertical="center", wrap_text=True)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, row in enumerate(rows):
        r = 3 + i
        if with_inspection:
            ws.cell(r, 1, ILLEGAL_CHARACTERS_RE.sub("", row.inspection))
        for key, value in _values(row).items():
            if isinstance(value, str):
                # Control characters pasted from Word are not allowed in a sheet.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = ws.cell(r, col_of[key], value if value != "" else None)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            cell.alignment = centred if key in ("number", "deadline", "status") else wrap
        light_col = offset + len(COLUMNS) + 1
        light = ws.cell(r, light_col, row.light_label or None)
        light.alignment = centred
        if row.light in _LIGHT_COLOURS:
            light.font = Font(bold=True, color=_LIGHT_COLOURS[row.light])
        ws.cell(r, light_col + 1, row.days_left or None).alignment = centred
        for c in range(1, len(headers) + 1):
            ws.cell(r, c).border = _BORDER

    def merge(column: int, key: Callable[[ExportRow], object]) -> None:
        for first, last in _runs(rows, key):
            if last > first:
                ws.merge_cells(
                    start_row=3 + first, start_column=column, end_row=3 + last, end_column=column
                )

    if with_inspection:
        merge(1, lambda row: row.inspection)
    for key in ("number", "problem"):
        merge(col_of[key], lambda row: row.problem_key)
    merge(col_of["aspect"], lambda row: (row.inspection, row.aspect) if row.aspect else id(row))
    if rows:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{2 + len(rows)}"

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
