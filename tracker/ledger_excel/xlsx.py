"""A small streaming reader of .xlsx sheets: cell values, merged ranges, nothing else.

The ledger needs values (as openpyxl's read-only, data-only mode gives them: shared and inline
strings, numbers as int or float, dates by their cell's number format, booleans, cached formula
results) and merged ranges. openpyxl builds an object per cell and per string; parsing the
sheet XML here with the standard library's C parser is several times faster (10,000 ledger
rows: about a second instead of nine).

The reader is also where an upload is bounded before it can cost memory or minutes:
- the zip's declared uncompressed sizes (the total, and each part read whole) are checked
  before anything is inflated; zipfile never inflates a member beyond its declared size;
- a sheet's <dimension> (its first bytes) is checked against the column and row limits before
  its rows are read;
- rows are streamed and reading stops at the first row beyond the row limit;
- every <mergeCell> is checked against the same limits before any range is filled.
Each refusal is an XlsxError with the Chinese reason naming what was refused.
"""

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
    from_ISO8601,
)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OFFICE_DOCUMENT = "/officeDocument"
SHARED_STRINGS = "/sharedStrings"
STYLES = "/styles"

# Parts read whole (workbook, relationships, styles) must be small; sheets and the shared
# strings are streamed and only count towards the total.
PART_MAX_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 10_000
_CHUNK = 1 << 16

_C, _ROW, _V, _IS, _T, _R, _RPH, _SI = (
    MAIN + "c", MAIN + "row", MAIN + "v", MAIN + "is", MAIN + "t", MAIN + "r", MAIN + "rPh",
    MAIN + "si",
)
_DIMENSION, _MERGE_CELL = MAIN + "dimension", MAIN + "mergeCell"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


class XlsxError(Exception):
    """The file cannot be read, or is refused before reading (limits)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


NOT_XLSX = "文件不是有效的Excel（.xlsx）文件，请在Excel或WPS中另存为.xlsx格式后重新导入"


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_ref(ref: str) -> tuple[int, int] | None:
    """"B12" → (12, 2); None when it is not a cell reference."""
    match = _REF.match(ref.strip().upper())
    if not match:
        return None
    return int(match.group(2)), column_index(match.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """"A1:C3" → (min_row, min_col, max_row, max_col); a single cell is a range of one."""
    first, _, last = ref.partition(":")
    a = parse_ref(first)
    b = parse_ref(last) if last else a
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}MB"


@dataclass(frozen=True)
class Limits:
    max_unzipped: int  # the zip's declared uncompressed bytes, all members together
    max_columns: int  # no cell, dimension or merged range beyond this column
    max_row: int  # the last Excel row read; a valued row beyond it stops the reading


@dataclass
class Sheet:
    name: str
    state: str  # visible / hidden / veryHidden
    path: str


@dataclass
class SheetData:
    name: str
    rows: list[list[object]] = field(default_factory=list)  # index 0 = Excel row 1
    declared_rows: int | None = None  # the last row of <dimension>, when it says
    beyond_limit: bool = False  # a row with a value beyond Limits.max_row exists
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


class Workbook:
    """An .xlsx opened for reading values. Checks the zip's declared sizes at once."""

    def __init__(self, data: bytes, limits: Limits):
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError):
            raise XlsxError(NOT_XLSX) from None
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise XlsxError(
                f"文件结构异常（压缩包内有{len(infos)}个部件），请在Excel或WPS中另存后重新导入"
            )
        total = sum(i.file_size for i in infos)
        if total > limits.max_unzipped:
            raise XlsxError(
                f"文件解压后有{_mib(total)}，超过{_mib(limits.max_unzipped)}的上限，"
                "请删除多余的内容或分批导入"
            )
        self.members = {i.filename: i for i in infos}
        try:
            self._read_structure()
        except (ET.ParseError, zipfile.BadZipFile, KeyError, ValueError, OSError,
                EOFError, NotImplementedError):
            raise XlsxError(NOT_XLSX) from None

    # --- structure ------------------------------------------------------------------------

    def _part(self, path: str) -> bytes:
        info = self.members[path]  # KeyError: not an xlsx
        if info.file_size > PART_MAX_BYTES:
            raise XlsxError(
                f"文件中的部件“{path}”解压后有{_mib(info.file_size)}，超过{_mib(PART_MAX_BYTES)}的上限，"
                "请在Excel或WPS中另存后重新导入"
            )
        data = self.zip.read(info)
        _refuse_dtd(path, data[:PROLOG_BYTES])
        return data

    def _stream(self, path: str):
        """A streamed part, opened after its prolog is checked (no DTD)."""
        with self.zip.open(path) as f:
            _refuse_dtd(path, f.read(PROLOG_BYTES))
        return self.zip.open(path)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, member path) of a part."""
        folder, name = posixpath.split(part)
        rels_path = posixpath.join(folder, "_rels", name + ".rels")
        if rels_path not in self.members:
            return {}
        rels = {}
        for rel in ET.fromstring(self._part(rels_path)).iter(PKG_REL + "Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target)
            )
            rels[rel.get("Id", "")] = (rel.get("Type", ""), path)
        return rels

    def _read_structure(self) -> None:
        root_rels = self._rels("")
        book = next(
            (p for t, p in root_rels.values() if t.endswith(OFFICE_DOCUMENT)), "xl/workbook.xml"
        )
        tree = ET.fromstring(self._part(book))
        rels = self._rels(book)
        pr = tree.find(MAIN + "workbookPr")
        date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.sheets: list[Sheet] = []
        sheets = tree.find(MAIN + "sheets")
        for el in sheets if sheets is not None else ():
            rel = rels.get(el.get(DOC_REL + "id", ""))
            if rel is not None and rel[0].endswith("/worksheet") and rel[1] in self.members:
                self.sheets.append(Sheet(el.get("name", ""), el.get("state", "visible"), rel[1]))
        self._strings_path = next(
            (p for t, p in rels.values() if t.endswith(SHARED_STRINGS) and p in self.members),
            None,
        )
        styles = next(
            (p for t, p in rels.values() if t.endswith(STYLES) and p in self.members), None
        )
        self.date_styles, self.timedelta_styles = self._date_styles(styles)
        self._strings: list[str] | None = None

    def _date_styles(self, path: str | None) -> tuple[set[int], set[int]]:
        """The cell style indexes whose number format is a date (or a duration), as openpyxl
        decides it."""
        if path is None:
            return set(), set()
        tree = ET.fromstring(self._part(path))
        custom = {}
        formats = tree.find(MAIN + "numFmts")
        for fmt in formats if formats is not None else ():
            custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
        dates, durations = set(), set()
        xfs = tree.find(MAIN + "cellXfs")
        for i, xf in enumerate(xfs if xfs is not None else ()):
            fmt_id = int(xf.get("numFmtId", "0"))
            code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
            if is_date_format(code):
                dates.add(i)
                if is_timedelta_format(code):
                    durations.add(i)
        return dates, durations

    @property
    def streamed_bytes(self) -> int:
        """The declared size of the XML a full read streams: every sheet and the shared
        strings."""
        paths = [s.path for s in self.sheets]
        if self._strings_path is not None:
            paths.append(self._strings_path)
        return sum(self.members[p].file_size for p in set(paths))

    def shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if self._strings_path is not None:
                with self._stream(self._strings_path) as f:
                    for _, el in ET.iterparse(f):
                        if el.tag == _SI:
                            self._strings.append(_text(el).replace("x005F_", ""))
                            el.clear()
        return self._strings

    # --- a sheet ----------------------------------------------------------------------------

    def dimension(self, sheet: Sheet) -> tuple[int, int, int, int] | None:
        """The sheet's declared <dimension>, from its first bytes only; None when absent."""
        with self.zip.open(sheet.path) as f:
            head = f.read(4096).decode("utf-8", "ignore")
        match = re.search(r'<(?:\w+:)?dimension\s+ref="([^"]*)"', head)
        return parse_range(match.group(1)) if match else None

    def check_dimension(self, sheet: Sheet, dim: tuple[int, int, int, int] | None) -> None:
        if dim is None:
            return
        limits = self.limits
        ref = _range_text(dim)
        if dim[3] > limits.max_columns:
            raise XlsxError(
                f"工作表“{sheet.name}”的数据范围{ref}超过{limits.max_columns}列，"
                "请删除多余的列后重新导入"
            )

    def read_sheet(self, sheet: Sheet, *, progress=None) -> SheetData:
        """The sheet's values (rows up to Limits.max_row) and merged ranges. Raises XlsxError
        for a dimension or merged range beyond the limits, before reading rows or filling
        ranges."""
        limits = self.limits
        out = SheetData(sheet.name)
        try:
            self._parse_sheet(sheet, out, limits, progress)
        except XlsxError:
            raise
        except (ET.ParseError, zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError,
                IndexError, OverflowError):
            raise XlsxError(NOT_XLSX) from None
        return out

    def _parse_sheet(self, sheet: Sheet, out: SheetData, limits: Limits, progress) -> None:
        strings = None
        dates, durations, epoch = self.date_styles, self.timedelta_styles, self.epoch
        max_cols, max_row = limits.max_columns, limits.max_row
        rows = out.rows
        next_row = 1
        with self._stream(sheet.path) as f:
            for _, el in ET.iterparse(f):
                tag = el.tag
                if tag == _ROW:
                    r_attr = el.get("r")
                    r = int(r_attr) if r_attr else next_row
                    next_row = r + 1
                    values: list[object] = []
                    col = 0
                    for c in el:
                        if c.tag != _C:
                            continue
                        ref = c.get("r")
                        if ref:
                            letters = ref.rstrip("0123456789")
                            col = column_index(letters)
                        else:
                            col += 1
                        if col > max_cols:
                            continue  # beyond any ledger column: never stored
                        t = c.get("t", "n")
                        if t == "inlineStr":
                            inline = c.find(_IS)
                            value = _text(inline) if inline is not None else None
                        else:
                            v = c.find(_V)
                            raw = v.text if v is not None else None
                            if not raw:
                                value = None
                            elif t == "n":
                                value = (
                                    float(raw) if ("." in raw or "E" in raw or "e" in raw)
                                    else int(raw)
                                )
                                s = c.get("s")
                                if s and int(s) in dates:
                                    try:
                                        value = from_excel(value, epoch,
                                                           timedelta=int(s) in durations)
                                    except (OverflowError, ValueError):
                                        value = "#VALUE!"
                            elif t == "s":
                                if strings is None:
                                    strings = self.shared_strings()
                                value = strings[int(raw)]
                            elif t == "b":
                                value = bool(int(raw))
                            elif t == "d":
                                value = _iso(raw)
                            else:  # str (a formula's text), e (an error)
                                value = raw
                        if value is None:
                            continue
                        if col > len(values):
                            values.extend([None] * (col - len(values)))
                        values[col - 1] = value
                    el.clear()  # a row read is dropped (an empty element stays): memory flat
                    if r > max_row:
                        if any(v is not None and v != "" for v in values):
                            out.beyond_limit = True
                            return  # stop reading at the limit
                        continue
                    if r > len(rows):
                        rows.extend([] for _ in range(r - len(rows)))
                    rows[r - 1] = values
                    if progress is not None and r % 1000 == 0:
                        progress(r)
                elif tag == _DIMENSION:
                    dim = parse_range(el.get("ref", ""))
                    self.check_dimension(sheet, dim)
                    out.declared_rows = dim[2] if dim else None
                    if dim is not None and dim[2] > max_row:
                        return  # more rows declared than allowed: refused by the caller
                elif tag == _MERGE_CELL:
                    rng = parse_range(el.get("ref", ""))
                    if rng is None:
                        continue
                    if rng[3] > max_cols or rng[2] > max_row:
                        raise XlsxError(
                            f"工作表“{sheet.name}”的合并单元格{_range_text(rng)}超出范围"
                            f"（最多{max_cols}列、{max_row}行），请取消该合并后重新导入"
                        )
                    out.merges.append(rng)
                    el.clear()


# What may precede a part's root element: a BOM, the XML declaration, comments, white space.
# A document type declaration (entities: "billion laughs") is never part of an .xlsx.
_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?(?:\s|<!--.*?-->)*<[A-Za-z_]", re.S
)
PROLOG_BYTES = 64 * 1024


def _refuse_dtd(path: str, head: bytes) -> None:
    if _PROLOG.match(head):
        return
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise XlsxError(
            f"文件中的部件“{path}”含有文档类型声明（DTD），不是Excel或WPS保存的文件，"
            "请在Excel或WPS中另存后重新导入"
        )
    raise XlsxError(NOT_XLSX)


def _range_text(rng: tuple[int, int, int, int]) -> str:
    return (
        f"{get_column_letter(rng[1])}{rng[0]}:{get_column_letter(min(rng[3], 18278))}{rng[2]}"
    )


def _text(el) -> str:
    """A string item (<si> or <is>): its plain text and rich-text runs, without phonetic
    runs (<rPh>), as openpyxl's Text.content."""
    parts = []
    for child in el:
        tag = child.tag
        if tag == _T:
            if child.text:
                parts.append(child.text)
        elif tag == _R:
            t = child.find(_T)
            if t is not None and t.text:
                parts.append(t.text)
    return "".join(parts)


def _iso(text: str) -> object:
    try:
        return from_ISO8601(text)
    except ValueError:
        return text


def open_xlsx(data: bytes, limits: Limits) -> Workbook:
    return Workbook(data, limits)

