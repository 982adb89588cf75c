"""Write a ledger workbook in the layout the reader accepts: a title row, one header row,
one row per task, problem cells merged over the problem's tasks, real dates.

After the ledger's own columns come the task's light and days left on the day of export (as
tracker.deadlines decides them, passed in on each row); the reader ignores those columns."""

import datetime as dt
import io
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange

from tracker.ledger_excel.columns import COLUMNS, KEY_COLUMN
from tracker.ledger_excel.reading import META_HEADER, META_PER_CELL, META_SHEET
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
    key: int | None = None  # the task's id (hidden 系统编号 column)
    version: int = 0  # the task's version when exported (hidden sheet)
    digest: str = ""  # digest of the row as exported (hidden sheet)


# A text starting with one of these is taken by Excel (and WPS, LibreOffice) for a formula when
# the cell is edited, or when the sheet is saved as CSV: such cells carry the quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _text_cell(ws, row: int, column: int, value: object):
    """Write a value; text that looks like a formula stays text and carries the quote prefix
    (Excel's own apostrophe: shown without it, kept as typed, never evaluated). The value
    itself is unchanged, so reading it back gives exactly the text."""
    cell = ws.cell(row, column, value)
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _print_setup(ws, *, title_rows: str = "1:2") -> None:
    """A4 landscape, every column on one page width, title and header on every page."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


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


_LIGHT_FONTS = {light: Font(bold=True, color=colour) for light, colour in _LIGHT_COLOURS.items()}


class _Styles:
    """Style arrays built once per combination and copied onto each cell: assigning border,
    alignment and font objects cell by cell hashes them every time (seconds per 10,000 rows)."""

    def __init__(self, ws):
        self.ws = ws
        self.cache: dict[tuple, object] = {}

    def get(self, alignment: Alignment, *, font: Font | None = None, date: bool = False,
            quote: bool = False):
        key = (id(alignment), id(font), date, quote)
        if key not in self.cache:
            cell = Cell(self.ws)  # detached: only builds the style in the workbook's tables
            cell.border = _BORDER
            cell.alignment = alignment
            if font is not None:
                cell.font = font
            if date:
                cell.number_format = DATE_FORMAT
            if quote:
                cell.quotePrefix = True
            self.cache[key] = cell._style
        return self.cache[key]


def _merge_fast(ws, column: int, first_row: int, last_row: int, style) -> None:
    """ws.merge_cells without its checks against every earlier range (quadratic in the number
    of merged problems): our ranges never overlap."""
    letter = get_column_letter(column)
    ws.merged_cells.ranges.add(MergedCellRange(ws, f"{letter}{first_row}:{letter}{last_row}"))
    for r in range(first_row + 1, last_row + 1):
        cell = MergedCell(ws, row=r, column=column)
        cell._style = copy(style)
        ws._cells[(r, column)] = cell


def _runs(rows: Sequence[ExportRow], key: Callable[[ExportRow], object]):
    """(first index, last index) of each run of consecutive rows with the same key."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or key(rows[i]) != key(rows[start]):
            yield start, i - 1
            start = i


def write_ledger(
    rows: Sequence[ExportRow], *, title: str, with_inspection: bool = False,
    exported_at: str = "", progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The workbook. With `exported_at`, each row carries its task id in a hidden column and a
    very hidden sheet records each task's version and row digest: what an import needs to
    update rows and detect conflicts. People cannot reach that sheet from Excel's menus, and
    editing visible cells never changes it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "整改台账"
    keyed = bool(exported_at)
    headers = (
        ([INSPECTION_LABEL] if with_inspection else [])
        + [c.label for c in COLUMNS]
        + [label for label, _ in LIGHT_COLUMNS]
        + ([KEY_COLUMN.label] if keyed else [])
    )
    widths = (
        ([24] if with_inspection else [])
        + [c.width for c in COLUMNS]
        + [width for _, width in LIGHT_COLUMNS]
        + ([KEY_COLUMN.width] if keyed else [])
    )
    offset = 1 if with_inspection else 0
    col_of = {c.key: i + 1 + offset for i, c in enumerate(COLUMNS)}

    ws.cell(1, 1, title).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    visible_columns = len(headers) - (1 if keyed else 0)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=visible_columns)
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
    styles = _Styles(ws)
    light_col = offset + len(COLUMNS) + 1

    # Merged problem cells: the value in the top cell only, the others merged cells (bordered).
    merged: set[tuple[int, int]] = set()

    def merge(column: int, key: Callable[[ExportRow], object]) -> None:
        for first, last in _runs(rows, key):
            if last > first:
                _merge_fast(ws, column, 3 + first, 3 + last, styles.get(wrap))
                merged.update((3 + r, column) for r in range(first + 1, last + 1))

    if with_inspection:
        merge(1, lambda row: row.inspection)
    for key in ("number", "problem"):
        merge(col_of[key], lambda row: row.problem_key)
    merge(col_of["aspect"], lambda row: (row.inspection, row.aspect) if row.aspect else id(row))

    def put(r: int, c: int, value: object, alignment: Alignment, font: Font | None = None):
        if (r, c) in merged:
            return
        if isinstance(value, str):
            # Control characters pasted from Word are not allowed in a sheet.
            value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
        quote = looks_like_formula(value)
        style = styles.get(alignment, font=font, date=isinstance(value, dt.date), quote=quote)
        # The style array is shared, not copied: nothing changes a cell's style afterwards.
        cell = Cell(ws, row=r, column=c, value=value, style_array=style)
        if quote:
            cell.data_type = "s"  # text, never a formula
        ws._cells[(r, c)] = cell

    for i, row in enumerate(rows):
        r = 3 + i
        if progress is not None and i % 500 == 0:
            progress(i, len(rows))
        if with_inspection:
            put(r, 1, row.inspection, wrap)
        for key, value in _values(row).items():
            put(r, col_of[key], value if value != "" else None,
                centred if key in ("number", "deadline", "status") else wrap)
        font = _LIGHT_FONTS.get(row.light)
        put(r, light_col, row.light_label or None, centred, font)
        put(r, light_col + 1, row.days_left or None, centred)
        if keyed:
            ws.cell(r, light_col + 2, row.key)

    if rows:
        ws.auto_filter.ref = f"A2:{get_column_letter(visible_columns)}{2 + len(rows)}"
    if keyed:
        ws.column_dimensions[get_column_letter(len(headers))].hidden = True
        meta = wb.create_sheet(META_SHEET)
        meta.sheet_state = "veryHidden"
        meta.append(["exported_at", exported_at])
        meta.append([META_HEADER])
        entries = [f"{row.key},{row.version},{row.digest}" for row in rows]
        for start in range(0, len(entries), META_PER_CELL):
            meta.append([";".join(entries[start:start + META_PER_CELL])])
    _print_setup(ws)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- The blank template ------------------------------------------------------------------------

GUIDE_SHEET = "填写说明"
GUIDE_HEADER = ("列名", "是否必填", "填写格式", "可填写的值或示例")


def write_template(*, guide: Sequence[tuple[str, str, str, str]]) -> bytes:
    """A blank ledger (title, header, print setup) and a second sheet 填写说明 with one row per
    column (`guide`: column, required, format, allowed values), which the reader never takes
    for a ledger."""
    wb = Workbook()
    ws = wb.active
    ws.title = "整改台账"
    headers = [c.label for c in COLUMNS]
    ws.cell(1, 1, "（巡视巡察名称）反馈问题整改台账").font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for c, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(2, c, column.label + ("*" if column.required else ""))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = column.width
    ws.freeze_panes = "A3"
    _print_setup(ws)
    sheet = wb.create_sheet(GUIDE_SHEET)
    sheet.append(list(GUIDE_HEADER))
    for c in range(1, len(GUIDE_HEADER) + 1):
        sheet.cell(1, c).font = Font(bold=True)
        sheet.cell(1, c).fill = _HEADER_FILL
    for line in guide:
        sheet.append(list(line))
    for letter, width in zip("ABCD", (14, 10, 40, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
