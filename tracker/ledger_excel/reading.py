"""Read a ledger workbook into problems and task rows, collecting every error.

The reader never stops at the first bad row: the person fixing the file wants the whole list.
Row numbers are the Excel row numbers the person sees.
"""

import datetime as dt
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet

from tracker.ledger_excel.columns import BY_KEY, COLUMNS, REQUIRED, column_key
from tracker.ledger_excel.values import (
    CellError,
    Deadline,
    clean_text,
    derive_title,
    one_line,
    parse_deadline,
    parse_key,
    parse_number,
    parse_status,
    parse_units,
)
from tracker.models.tasks import TaskStatus, TaskType

HEADER_SCAN_ROWS = 20
TITLE_MAX = 300
NAME_MAX = 100
ASPECT_MAX = 200

NOT_XLSX = "文件不是有效的Excel（.xlsx）文件，请在Excel或WPS中另存为.xlsx格式后重新导入"
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


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def merged_ranges(workbook, ws) -> list[CellRange]:
    """The sheet's merged ranges, read from its XML: a read-only workbook (fast, streaming)
    does not keep them, and the full loader formats every merged cell's borders (seconds for
    a ledger of thousands of merged problems)."""
    path = getattr(ws, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if path is None or archive is None:
        return list(ws.merged_cells.ranges)
    return [CellRange(ref.decode()) for ref in _MERGE_REF.findall(archive.read(path))]


class _Grid:
    """A sheet's values with merged ranges filled from their top-left cell."""

    def __init__(self, workbook, ws: Worksheet, max_rows: int):
        declared = ws.max_row if isinstance(ws.max_row, int) and ws.max_row > 0 else None
        rows = ws.iter_rows(values_only=True)
        self.values: list[list[object]] = [list(row) for row in itertools.islice(rows, max_rows)]
        # A sheet that declares no size is counted (up to the limit, plus one to tell "over").
        self.sheet_rows = declared or len(self.values) + sum(1 for _ in itertools.islice(rows, 1))
        self.width = max((len(r) for r in self.values), default=0)
        # (row, col) → (merge range, first row, spans columns)
        self.merge: dict[tuple[int, int], tuple[str, int, bool]] = {}
        for rng in merged_ranges(workbook, ws):
            top = self.get(rng.min_row, rng.min_col)
            wide = rng.max_col > rng.min_col
            for r in range(rng.min_row, min(rng.max_row, len(self.values)) + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    self.merge[(r, c)] = (rng.coord, rng.min_row, wide)
                    if c <= len(self.values[r - 1]):
                        self.values[r - 1][c - 1] = top

    @property
    def height(self) -> int:
        return len(self.values)

    def get(self, row: int, col: int | None) -> object:
        if col is None or row > len(self.values):
            return None
        cells = self.values[row - 1]
        return cells[col - 1] if col <= len(cells) else None

    def row_texts(self, row: int) -> list[str]:
        return [t for t in (one_line(v) for v in self.values[row - 1]) if t]


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
                parent = grid.merge.get((best_row, c))
                if key not in columns or (parent and parent[2]) or best.get(c) is None:
                    columns[key] = c
            data_row += 1
    return best_row, columns, data_row


_ASPECT_ENUM = re.compile(r"^([一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）])\s*")


def _section_heading(grid: _Grid, row: int, columns: dict[str, int]) -> str | None:
    """A row such as "一、落实全面从严治党主体责任方面" that names the aspect of the problems
    below it, or None: one text in the row, either merged across columns or alone with no
    measure, unit or deadline and reading like a heading (an enumerator, or ending in 方面)."""
    texts = set(grid.row_texts(row))
    if len(texts) != 1:
        return None
    text = texts.pop()
    problem_col = columns.get("problem")
    merged = grid.merge.get((row, problem_col)) if problem_col else None
    if merged and merged[1] < row and not merged[2]:
        return None  # the tail of a problem merged from above
    wide = any(m[2] for c in range(1, grid.width + 1) if (m := grid.merge.get((row, c))))
    if wide:
        return _ASPECT_ENUM.sub("", text)
    if any(one_line(grid.get(row, columns.get(k))) for k in ("measures", "lead_unit", "deadline")):
        return None
    if text.endswith("方面") or _ASPECT_ENUM.match(text):
        return _ASPECT_ENUM.sub("", text)
    return None


def open_workbook(data: bytes, filename: str = ""):
    if filename.lower().endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise LedgerFileError(OLD_XLS)
    try:
        return load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise LedgerFileError(NOT_XLSX) from None


META_SHEET = "_tracker_export"
META_HEADER = "task_id,version,digest;…"
META_PER_CELL = 400  # entries of ~40 characters: well under Excel's 32,767 a cell


def _read_meta(workbook) -> LedgerMeta | None:
    """The hidden sheet the export writes: A1 "exported_at", B1 the time; A2 the format of the
    entries; from row 3, column A, entries "task id,version,digest" joined by ";" (packed a few
    hundred to a cell: one cell to parse instead of three per task). Entries that are not what
    the export wrote are skipped, never trusted."""
    if META_SHEET not in workbook.sheetnames:
        return None
    ws = workbook[META_SHEET]
    meta = LedgerMeta()
    for r, row in enumerate(ws.iter_rows(values_only=True, max_col=2), start=1):
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


def sheet_row_count(data: bytes) -> int | None:
    """The row count the first sheet declares (its <dimension>), read from the first bytes of
    the sheet without parsing the workbook: cheap enough for the web process to decide between
    doing an import at once and queueing it. None when the file does not say."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            if not names:
                return None
            with archive.open(names[0]) as sheet:
                head = sheet.read(4096).decode("utf-8", "ignore")
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    match = re.search(r'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
    return int(match.group(1) or 1) if match else None


def read_ledger(
    data: bytes, *, filename: str = "", first_number: int = 1, max_rows: int = 5000,
    progress=None,
) -> ParsedLedger:
    """Parse every row. File-level problems raise LedgerFileError; row problems are collected
    in `errors`. `first_number` numbers problems whose 序号 is blank when nothing precedes them.
    `progress(done, total)` is called now and then while rows are read.
    """
    workbook = open_workbook(data, filename)
    found = None
    for ws in workbook.worksheets:
        if ws.title == META_SHEET:
            continue
        grid = _Grid(workbook, ws, max_rows=max_rows + HEADER_SCAN_ROWS + 1)
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
        raise LedgerFileError(f"表格超过{max_rows}行，请分批导入")

    ledger = ParsedLedger(sheet=ws.title, header_row=header_row, columns=columns)
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
        if not any(one_line(cell(r, c.key)) for c in COLUMNS):
            continue  # blank row
        heading = _section_heading(grid, r, columns)
        if heading is not None:
            section_aspect = heading
            current, current_merge = None, None
            continue

        # --- which problem the row belongs to
        text = clean_text(cell(r, "problem"))
        number_raw = cell(r, "number")
        merge = grid.merge.get((r, columns["problem"]))
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
    ledger.rows.append(
        LedgerRow(
            row=r, problem=problem, title=title, measures=measures, lead_unit=lead,
            supporting_units=supporting, leader=leader, person=person,
            task_type=deadline.task_type if deadline else TaskType.BY_DEADLINE,
            deadline=deadline.date if deadline else None,
            progress=clean_text(cell(r, "progress")), status=status, key=key,
        )
    )
