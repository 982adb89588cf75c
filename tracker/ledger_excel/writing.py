"""Write a ledger workbook in the layout the reader accepts: a title row, one header row,
one row per task, problem cells merged over the problem's tasks, real dates.

After the ledger's own columns come the task's light and days left on the day of export (as
tracker.deadlines decides them, passed in on each row); the reader ignores those columns."""

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

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
# Read-only like the light columns: who acknowledged the task's assignment and when, or 待签收
# (docs/acknowledgement.md). An import recognises no such header and ignores it.
ACK_COLUMN = ("签收情况", 22)
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
    key_task: str = ""  # “是” for a 重点任务, else blank
    priority: str = ""  # the Chinese label
    inspection: str = ""
    light: str = ""  # red / yellow / green / none, on the day of export
    light_label: str = ""
    days_left: str = ""  # 剩余N个工作日, 已逾期N个工作日 …
    acknowledgement: str = ""  # 待签收, or who acknowledged and when (ACK_COLUMN)
    key: int | None = None  # the task's id (hidden 系统编号 column)
    version: int = 0  # the task's version when exported (hidden sheet)
    digest: str = ""  # digest of the row as exported (hidden sheet)


# A text starting with one of these is taken by Excel (and WPS, LibreOffice) for a formula when
# the cell is edited, or when the sheet is saved as CSV: such cells carry the quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


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
        "key_task": row.key_task,
        "priority": row.priority,
    }


_LIGHT_FONTS = {light: Font(bold=True, color=colour) for light, colour in _LIGHT_COLOURS.items()}


class _Styles:
    """Style arrays built once per combination and copied onto each cell: assigning border,
    alignment and font objects cell by cell hashes them every time (seconds per 10,000 rows)."""

    def __init__(self, ws):
        self.ws = ws
        self.cache: dict[tuple, object] = {}

    def id(self, alignment: Alignment, *, font: Font | None = None, date: bool = False,
           quote: bool = False) -> int:
        """The style's index in the workbook's cell styles (the s="…" of a cell)."""
        key = ("id", id(alignment), id(font), date, quote)
        if key not in self.cache:
            style = self.get(alignment, font=font, date=date, quote=quote)
            self.cache[key] = self.ws.parent._cell_styles.add(style)
        return self.cache[key]

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
        + [ACK_COLUMN[0]]
        + ([KEY_COLUMN.label] if keyed else [])
    )
    widths = (
        ([24] if with_inspection else [])
        + [c.width for c in COLUMNS]
        + [width for _, width in LIGHT_COLUMNS]
        + [ACK_COLUMN[1]]
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
    last_col = len(headers)

    # Merged problem cells: the value in the top cell only, the others empty but bordered.
    merged: set[tuple[int, int]] = set()

    def merge(column: int, key: Callable[[ExportRow], object]) -> None:
        letter = get_column_letter(column)
        for first, last in _runs(rows, key):
            if last > first:
                # Only the reference: the writer writes "ref" of each (no per-cell objects).
                ws.merged_cells.ranges.add(_MergeRef(f"{letter}{3 + first}:{letter}{3 + last}"))
                merged.update((3 + r, column) for r in range(first + 1, last + 1))

    if with_inspection:
        merge(1, lambda row: row.inspection)
    for key in ("number", "problem"):
        merge(col_of[key], lambda row: row.problem_key)
    merge(col_of["aspect"], lambda row: (row.inspection, row.aspect) if row.aspect else id(row))

    letters = [get_column_letter(c) for c in range(1, last_col + 1)]
    column_keys = [(col_of[c.key], c.key) for c in COLUMNS]
    if with_inspection:
        column_keys.insert(0, (1, "inspection"))
    centred_keys = {"number", "deadline", "status", "key_task", "priority"}
    blank_style = styles.id(wrap)
    lines: list[str] = []
    for i, row in enumerate(rows):
        r = 3 + i
        if progress is not None and i % 500 == 0:
            progress(i, len(rows))
        values = _values(row)
        values["inspection"] = row.inspection
        cells = []
        for c, key in column_keys:
            if (r, c) in merged:
                cells.append(f'<c r="{letters[c - 1]}{r}" s="{blank_style}"/>')
                continue
            alignment = centred if key in centred_keys else wrap
            cells.append(_cell_xml(f"{letters[c - 1]}{r}", values[key], styles, alignment))
        cells.append(_cell_xml(f"{letters[light_col - 1]}{r}", row.light_label, styles, centred,
                               _LIGHT_FONTS.get(row.light)))
        cells.append(_cell_xml(f"{letters[light_col]}{r}", row.days_left, styles, centred))
        cells.append(_cell_xml(f"{letters[light_col + 1]}{r}", row.acknowledgement, styles,
                               centred))
        if keyed and row.key is not None:
            cells.append(f'<c r="{letters[light_col + 2]}{r}" t="n"><v>{row.key}</v></c>')
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')

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
    dimension = f"A1:{letters[-1]}{2 + len(rows)}"
    return _splice_rows(out.getvalue(), ws.path.lstrip("/"), "".join(lines), dimension)


class _MergeRef(str):
    """A merged range as the worksheet writer needs it (its text): registering a
    MergedCellRange builds and formats cell objects, seconds for thousands of problems."""

    coord = property(str.__str__)


def _escape(text: str) -> str:
    # Carriage returns as a reference, or a reader turns them into line feeds.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _cell_xml(ref: str, value: object, styles: "_Styles", alignment: Alignment,
              font: Font | None = None) -> str:
    """One cell as the sheet XML says it, with the same styles, types and quote prefix as
    openpyxl's writer: text inline, dates as Excel day numbers with the date format, blank
    cells bordered."""
    if isinstance(value, str):
        # Control characters pasted from Word are not allowed in a sheet.
        value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
    if value is None or value == "":
        return f'<c r="{ref}" s="{styles.id(alignment, font=font)}"/>'
    if isinstance(value, str):
        style = styles.id(alignment, font=font, quote=looks_like_formula(value))
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return (
            f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'
        )
    if isinstance(value, dt.date):
        serial = f"{to_excel(value):.16g}"  # as openpyxl writes numbers
        style = styles.id(alignment, font=font, date=True)
        return f'<c r="{ref}" s="{style}" t="n"><v>{serial}</v></c>'
    return f'<c r="{ref}" s="{styles.id(alignment, font=font)}" t="n"><v>{value}</v></c>'


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def _splice_rows(workbook: bytes, sheet_path: str, rows_xml: str, dimension: str) -> bytes:
    """The saved workbook with the data rows written into its sheet, after the title and
    header rows openpyxl wrote, and the sheet's dimension covering them."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == sheet_path:
                data = _DIMENSION.sub(f'<dimension ref="{dimension}"/>'.encode(), data, count=1)
                end = data.rindex(b"</sheetData>")
                data = data[:end] + rows_xml.encode() + data[end:]
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
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
