"""Read a ledger workbook into problems and task rows, collecting every error.

The reader never stops at the first bad row: the person fixing the file wants the whole list.
Row numbers are the Excel row numbers the person sees.
"""

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from tracker.ledger_excel.columns import BY_KEY, COLUMNS, REQUIRED, column_key
from tracker.ledger_excel.values import (
    CellError,
    Deadline,
    clean_text,
    derive_title,
    one_line,
    parse_deadline,
    parse_key,
    parse_key_task,
    parse_number,
    parse_priority,
    parse_status,
    parse_units,
)
from tracker.ledger_excel.xlsx import NOT_XLSX, Limits, SheetData, XlsxError
from tracker.ledger_excel.xlsx import Workbook as XlsxWorkbook
from tracker.models.tasks import TaskStatus, TaskType

HEADER_SCAN_ROWS = 20
TITLE_MAX = 300
NAME_MAX = 100
ASPECT_MAX = 200

OLD_XLS = "暂不支持旧版.xls格式，请在Excel或WPS中另存为.xlsx格式后重新导入"
NO_HEADER = "未找到表头：请确认表格中有“反馈问题”“整改措施”“责任单位”“完成时限”等列名"
NO_ROWS = "表格中没有整改任务"


@dataclass(frozen=True, order=True)
class LedgerError:
    """One reason to reject the file; row 0 is about the whole file."""

    row: int
    reason: str

    def __str__(self) -> str:
        return f"第{self.row}行：{self.reason}" if self.row else self.reason


@dataclass
class LedgerProblem:
    row: int  # the Excel row where the problem first appears
    number: int
    aspect: str
    text: str


@dataclass
class LedgerRow:
    """A task row as parsed. Rows with errors are kept (problem may be None, values partial) so
    that the service can still check their units and report everything at once."""

    row: int
    problem: LedgerProblem | None
    title: str
    measures: str
    lead_unit: str
    supporting_units: list[str]
    leader: str
    person: str
    task_type: TaskType
    deadline: dt.date | None
    progress: str
    status: TaskStatus
    key: int | None = None  # the task's id from the hidden 系统编号 column; None: a new row
    # 重点任务 and priority; None when the sheet has no such column (nothing to change).
    is_key: bool | None = None
    priority: int | None = None


@dataclass(frozen=True)
class ExportedTask:
    """What the export wrote about one task (hidden sheet): its version then, and the digest
    of the row as written, to tell an edited row from one the tracker changed since."""

    version: int
    digest: str


@dataclass
class LedgerMeta:
    exported_at: str = ""  # ISO time of the export
    tasks: dict[int, ExportedTask] = field(default_factory=dict)


@dataclass
class ParsedLedger:
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)  # key → 1-based column
    problems: list[LedgerProblem] = field(default_factory=list)
    rows: list[LedgerRow] = field(default_factory=list)
    errors: list[LedgerError] = field(default_factory=list)
    meta: LedgerMeta | None = None  # None: not a file the tracker exported

    def error(self, row: int, reason: str) -> None:
        self.errors.append(LedgerError(row, reason))


class LedgerFileError(Exception):
    """The file as a whole cannot be read as a ledger."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class _Grid:
    """A sheet's values with merged ranges filled from their top-left cell.

    Merged ranges are kept per row ((first column, last column, range, first row, spans
    columns) for each range crossing the row): memory in the rows a range spans, not in its
    area, and the area filled is bounded by the cells the sheet holds (overlapping or
    far-reaching ranges are refused before anything is filled)."""

    def __init__(self, sheet: SheetData):
        self.values: list[list[object]] = sheet.rows
        # A row with a value beyond the limit, or a declared size beyond it, makes "over".
        self.sheet_rows = max(sheet.declared_rows or 0, len(self.values))
        if sheet.beyond_limit:
            self.sheet_rows = max(self.sheet_rows, len(self.values) + 1)
        self.width = max((len(r) for r in self.values), default=0)
        self.merges: dict[int, list[tuple[int, int, str, int, bool]]] = {}
        height, width = len(self.values), self.width
        clipped = [
            ((r0, c0, min(r1, height), min(c1, width)), (r0, c0, r1, c1))
            for r0, c0, r1, c1 in sheet.merges
            if r0 <= height and c0 <= width
        ]
        area = sum((r1 - r0 + 1) * (c1 - c0 + 1) for (r0, c0, r1, c1), _ in clipped)
        if area > height * width:
            # Ranges that do not overlap cannot cover more cells than the sheet has.
            raise LedgerFileError(
                f"工作表“{sheet.name}”的合并单元格互相重叠，请在Excel或WPS中取消重叠的合并后重新导入"
            )
        for (r0, c0, r1, c1), full in clipped:
            coord = (
                f"{get_column_letter(full[1])}{full[0]}:{get_column_letter(full[3])}{full[2]}"
            )
            wide = full[3] > full[1]
            top = self.get(r0, c0)
            entry = (c0, c1, coord, r0, wide)
            for r in range(r0, r1 + 1):
                self.merges.setdefault(r, []).append(entry)
                cells = self.values[r - 1]
                for c in range(c0, min(c1, len(cells)) + 1):
                    cells[c - 1] = top

    @property
    def height(self) -> int:
        return len(self.values)

    def merge(self, row: int, col: int | None) -> tuple[str, int, bool] | None:
        """(range, first row, spans columns) of the merged range holding the cell, or None."""
        if col is None:
            return None
        for c0, c1, coord, r0, wide in self.merges.get(row, ()):
            if c0 <= col <= c1:
                return coord, r0, wide
        return None

    def get(self, row: int, col: int | None) -> object:
        if col is None or row > len(self.values):
            return None
        cells = self.values[row - 1]
        return cells[col - 1] if col <= len(cells) else None

    def single_text(self, row: int) -> str | None:
        """The row's text when all its filled cells say the same, else None: stops at the
        second different text (a data row's first two cells, usually)."""
        found = None
        for value in self.values[row - 1]:
            if not _filled(value):
                continue
            text = one_line(value)
            if found is None:
                found = text
            elif text != found:
                return None
        return found


def _filled(value: object) -> bool:
    """one_line(value) is not empty, without building it."""
    if value is None:
        return False
    return bool(value.strip()) if isinstance(value, str) else True


def _header_keys(grid: _Grid, row: int) -> dict[int, str]:
    return {
        c: key
        for c in range(1, grid.width + 1)
        if (key := column_key(grid.get(row, c))) is not None
    }


def _find_header(grid: _Grid) -> tuple[int, dict[str, int], int] | None:
    """(header row, key → column, first data row), or None when no row looks like a header."""
    best_row, best = 0, {}
    for r in range(1, min(HEADER_SCAN_ROWS, grid.height) + 1):
        found = _header_keys(grid, r)
        if len(set(found.values())) > len(set(best.values())):
            best_row, best = r, found
    if len(set(best.values())) < 2:
        return None
    columns: dict[str, int] = {}
    for c, key in sorted(best.items()):
        columns.setdefault(key, c)  # the first column with a name wins
    data_row = best_row + 1
    # A two-row header: "责任单位" over "牵头单位 | 配合单位". The row below is a sub-header when
    # every cell in it is a column name (vertically merged header cells repeat theirs).
    if best_row < grid.height:
        below = _header_keys(grid, best_row + 1)
        texts = [v for v in grid.values[best_row] if one_line(v)]
        if below and len(below) == len(texts):
            for c, key in sorted(below.items()):
                parent = grid.merge(best_row, c)
                if key not in columns or (parent and parent[2]) or best.get(c) is None:
                    columns[key] = c
            data_row += 1
    return best_row, columns, data_row


_ASPECT_ENUM = re.compile(r"^([一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）])\s*")


def _section_heading(grid: _Grid, row: int, columns: dict[str, int]) -> str | None:
    """A row such as "一、落实全面从严治党主体责任方面" that names the aspect of the problems
    below it, or None: one text in the row, either merged across columns or alone with no
    measure, unit or deadline and reading like a heading (an enumerator, or ending in 方面)."""
    text = grid.single_text(row)
    if text is None:
        return None
    problem_col = columns.get("problem")
    merged = grid.merge(row, problem_col)
    if merged and merged[1] < row and not merged[2]:
        return None  # the tail of a problem merged from above
    wide = any(entry[4] for entry in grid.merges.get(row, ()))
    if wide:
        return _ASPECT_ENUM.sub("", text)
    if any(one_line(grid.get(row, columns.get(k))) for k in ("measures", "lead_unit", "deadline")):
        return None
    if text.endswith("方面") or _ASPECT_ENUM.match(text):
        return _ASPECT_ENUM.sub("", text)
    return None


def _limits(max_rows: int, max_columns: int, max_unzipped: int) -> Limits:
    # Title rows and a two-row header above the data rows, and one row more to tell "over".
    return Limits(max_unzipped=max_unzipped, max_columns=max_columns,
                  max_row=max_rows + HEADER_SCAN_ROWS + 1)


def open_workbook(data: bytes, filename: str = "", *, limits: Limits) -> XlsxWorkbook:
    """The workbook, its zip's declared sizes checked. Raises LedgerFileError."""
    if filename.lower().endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise LedgerFileError(OLD_XLS)
    try:
        return XlsxWorkbook(data, limits)
    except XlsxError as exc:
        raise LedgerFileError(exc.reason) from None


META_SHEET = "_tracker_export"
META_HEADER = "task_id,version,digest;…"
META_PER_CELL = 400  # entries of ~40 characters: well under Excel's 32,767 a cell


def _read_meta(workbook: XlsxWorkbook) -> LedgerMeta | None:
    """The hidden sheet the export writes: A1 "exported_at", B1 the time; A2 the format of the
    entries; from row 3, column A, entries "task id,version,digest" joined by ";" (packed a few
    hundred to a cell: one cell to parse instead of three per task). Entries that are not what
    the export wrote are skipped, never trusted."""
    sheet = next((s for s in workbook.sheets if s.name == META_SHEET), None)
    if sheet is None:
        return None
    try:
        rows = workbook.read_sheet(sheet).rows
    except XlsxError as exc:
        raise LedgerFileError(exc.reason) from None
    meta = LedgerMeta()
    for r, row in enumerate(rows, start=1):
        if r == 1:
            meta.exported_at = str(row[1] or "") if len(row) > 1 else ""
            continue
        if r == 2 or not row or not isinstance(row[0], str):
            continue
        for entry in row[0].split(";"):
            task_id, _, rest = entry.partition(",")
            version, _, digest = rest.partition(",")
            if task_id.isdigit() and version.isdigit():
                meta.tasks[int(task_id)] = ExportedTask(version=int(version), digest=digest)
    return meta


@dataclass(frozen=True)
class UploadShape:
    """What the web process learns of an upload before deciding where to parse it: the most
    rows a sheet declares (None: a sheet does not declare its size) and the XML a parse would
    stream, sheets and shared strings (as the zip declares it)."""

    rows: int | None
    sheet_bytes: int


def check_upload(
    data: bytes, *, filename: str = "", max_rows: int, max_columns: int, max_unzipped: int,
) -> UploadShape:
    """The bounds an upload must meet before anything is parsed: an .xlsx (not .xls), the
    zip's declared uncompressed sizes, each sheet's declared <dimension> (columns and rows).
    Reads the zip's directory, the workbook's small parts and the first bytes of each sheet.
    Raises LedgerFileError with the reason."""
    limits = _limits(max_rows, max_columns, max_unzipped)
    workbook = open_workbook(data, filename, limits=limits)
    sheets = [s for s in workbook.sheets if s.name != META_SHEET]
    if not sheets:
        raise LedgerFileError(NO_HEADER)
    rows: list[int | None] = []
    for sheet in sheets:
        try:
            dim = workbook.dimension(sheet)
            workbook.check_dimension(sheet, dim)
        except XlsxError as exc:
            raise LedgerFileError(exc.reason) from None
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            raise LedgerFileError(NOT_XLSX) from None
        if dim is not None and dim[2] > limits.max_row and not rows:
            # The first sheet is the ledger in all but odd files; a later sheet is read only
            # when no earlier one has a header, and then only up to the limit.
            raise LedgerFileError(_too_many(max_rows))
        rows.append(dim[2] if dim else None)
    return UploadShape(
        rows=None if None in rows else max(rows),
        sheet_bytes=workbook.streamed_bytes,
    )


def _too_many(max_rows: int) -> str:
    return f"表格超过{max_rows}行，请分批导入"


DEFAULT_MAX_COLUMNS = 100
DEFAULT_MAX_UNZIPPED = 256 * 1024 * 1024


def read_ledger(
    data: bytes, *, filename: str = "", first_number: int = 1, max_rows: int = 5000,
    max_columns: int = DEFAULT_MAX_COLUMNS, max_unzipped: int = DEFAULT_MAX_UNZIPPED,
    progress=None,
) -> ParsedLedger:
    """Parse every row. File-level problems raise LedgerFileError; row problems are collected
    in `errors`. `first_number` numbers problems whose 序号 is blank when nothing precedes them.
    `progress(done, total)` is called now and then while rows are read.

    Bounded before parsing (xlsx.py): the zip's declared sizes, each sheet's declared
    dimension; while reading: rows stop after `max_rows` data rows (plus title and header
    rows), merged ranges beyond the limits or overlapping are refused before being filled.
    """
    limits = _limits(max_rows, max_columns, max_unzipped)
    workbook = open_workbook(data, filename, limits=limits)
    found = None
    for sheet in workbook.sheets:
        if sheet.name == META_SHEET:
            continue
        try:
            values = workbook.read_sheet(sheet)
        except XlsxError as exc:
            raise LedgerFileError(exc.reason) from None
        if values.declared_rows is not None and values.declared_rows > limits.max_row:
            raise LedgerFileError(_too_many(max_rows))
        grid = _Grid(values)
        found = _find_header(grid)
        if found:
            break
    if not found:
        raise LedgerFileError(NO_HEADER)
    header_row, columns, data_row = found
    missing = [c.label for c in REQUIRED if c.key not in columns]
    if missing:
        raise LedgerFileError(f"缺少必填列：{'、'.join(missing)}")
    if grid.sheet_rows - data_row + 1 > max_rows:
        raise LedgerFileError(_too_many(max_rows))

    ledger = ParsedLedger(sheet=sheet.name, header_row=header_row, columns=columns)
    ledger.meta = _read_meta(workbook)
    _read_rows(grid, ledger, data_row, first_number, progress)
    if not ledger.rows and not ledger.errors:
        raise LedgerFileError(NO_ROWS)
    return ledger


PROGRESS_EVERY = 250


def _read_rows(
    grid: _Grid, ledger: ParsedLedger, data_row: int, first_number: int, progress=None
) -> None:
    columns = ledger.columns

    def cell(row: int, key: str) -> object:
        return grid.get(row, columns.get(key))

    section_aspect = ""
    current: LedgerProblem | None = None
    current_merge: str | None = None
    by_number: dict[int, LedgerProblem] = {}
    next_number = first_number

    for r in range(data_row, grid.height + 1):
        if progress is not None and (r - data_row) % PROGRESS_EVERY == 0:
            progress(r - data_row, grid.height - data_row + 1)
        if not any(_filled(cell(r, c.key)) for c in COLUMNS):
            continue  # blank row
        heading = _section_heading(grid, r, columns)
        if heading is not None:
            section_aspect = heading
            current, current_merge = None, None
            continue

        # --- which problem the row belongs to
        text = clean_text(cell(r, "problem"))
        number_raw = cell(r, "number")
        merge = grid.merge(r, columns["problem"])
        merge_id = merge[0] if merge and not merge[2] else None
        same = False
        if current is not None:
            if merge_id is not None:
                same = merge_id == current_merge
            elif not text:
                same = not one_line(number_raw)
            else:
                same = current_merge is None and text == current.text and (
                    not one_line(number_raw) or _number_or_none(number_raw) == current.number
                )
        if not same:
            if not text:
                ledger.error(r, "反馈问题不能为空")
                current, current_merge = None, None
                _read_task(grid, ledger, r, cell, None)
                continue
            try:
                number = parse_number(number_raw)
            except CellError as exc:
                ledger.error(r, exc.reason)
                number = None
            if number is None:
                number = next_number
            aspect = one_line(cell(r, "aspect")) or section_aspect
            if len(aspect) > ASPECT_MAX:
                ledger.error(r, f"方面超过{ASPECT_MAX}字")
            earlier = by_number.get(number)
            if earlier is not None and earlier.text == text:
                current = earlier
            else:
                if earlier is not None:
                    ledger.error(r, f"问题序号“{number}”与第{earlier.row}行重复")
                current = LedgerProblem(row=r, number=number, aspect=aspect, text=text)
                by_number.setdefault(number, current)
                ledger.problems.append(current)
            current_merge = merge_id
            next_number = max(next_number, number + 1)
        _read_task(grid, ledger, r, cell, current)


def _number_or_none(value: object) -> int | None:
    try:
        return parse_number(value)
    except CellError:
        return None


def _read_task(grid, ledger: ParsedLedger, r: int, cell, problem: LedgerProblem | None) -> None:
    measures = clean_text(cell(r, "measures"))
    if not measures:
        ledger.error(r, "整改措施不能为空")
    title = one_line(cell(r, "title")) or derive_title(measures)
    if len(title) > TITLE_MAX:
        ledger.error(r, f"整改任务名称超过{TITLE_MAX}字")
    lead, supporting = parse_units(cell(r, "lead_unit"), cell(r, "supporting_units"))
    if not lead:
        ledger.error(r, "责任单位不能为空")
    leader = one_line(cell(r, "leader"))
    person = one_line(cell(r, "person"))
    for key, value in (("leader", leader), ("person", person)):
        if len(value) > NAME_MAX:
            ledger.error(r, f"{BY_KEY[key].label}超过{NAME_MAX}字")
    deadline: Deadline | None = None
    try:
        deadline = parse_deadline(cell(r, "deadline"))
    except CellError as exc:
        ledger.error(r, exc.reason)
    if deadline and deadline.task_type == TaskType.IMMEDIATE and deadline.date is None:
        ledger.error(r, "完成时限为“立行立改”时须注明日期，如“立行立改（2026年3月31日）”")
    status = TaskStatus.NOT_STARTED
    try:
        status = parse_status(cell(r, "status"))
    except CellError as exc:
        ledger.error(r, exc.reason)
    key = None
    try:
        key = parse_key(cell(r, "key"))
    except CellError as exc:
        ledger.error(r, exc.reason)
    is_key = priority = None
    if "key_task" in ledger.columns:
        try:
            is_key = parse_key_task(cell(r, "key_task"))
        except CellError as exc:
            ledger.error(r, exc.reason)
    if "priority" in ledger.columns:
        try:
            priority = parse_priority(cell(r, "priority"))
        except CellError as exc:
            ledger.error(r, exc.reason)
    ledger.rows.append(
        LedgerRow(
            row=r, problem=problem, title=title, measures=measures, lead_unit=lead,
            supporting_units=supporting, leader=leader, person=person,
            task_type=deadline.task_type if deadline else TaskType.BY_DEADLINE,
            deadline=deadline.date if deadline else None,
            progress=clean_text(cell(r, "progress")), status=status, key=key,
            is_key=is_key, priority=priority,
        )
    )
