"""The text of a .docx, read within limits: checked from the zip's directory before anything is
inflated, then streamed out of the main document part with a byte cap.

A .docx is a zip archive; its directory declares every member's compressed and inflated size.
Those declarations are checked first (member count, inflated total, the main part's inflated
size, compression ratio), so a zip bomb is refused without inflating a byte. The main part is
then parsed as a stream (lxml iterparse, elements dropped as soon as they are read) through a
reader that stops at the cap whatever the directory said, and the text gathered is capped too.
Memory and time grow with the document's text, never with its declared table dimensions:
unlike python-docx, a cell spanning a hundred million grid columns is one cell here.

The text is the same as python-docx's `Document.iter_inner_content()` read the way
reports.parsing.reading did before: body paragraphs and body tables in document order; a
paragraph is the text of its runs and hyperlinks (w:t, w:tab and w:ptab as a tab, w:br of a
line-wrapping kind and w:cr as a line break, w:noBreakHyphen as "-"); a table row is its cells
joined by tabs, a cell's paragraphs joined by single spaces, a vertically merged cell repeated
in each row it spans.
"""

import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
)
_RELS = "_rels/.rels"
_DEFAULT_MAIN_PART = "word/document.xml"
_MAX_RELS_BYTES = 64 * 1024
# Members smaller than this are not judged by their ratio: tiny repetitive XML compresses well.
_RATIO_MIN_SIZE = 1024 * 1024


@dataclass(frozen=True)
class DocxLimits:
    max_members: int
    max_inflated_total: int  # declared inflated size of all members together, bytes
    max_main_part: int  # inflated size of the main document part, bytes
    max_ratio: int  # inflated / compressed, for members of a megabyte or more
    max_text_chars: int


class DocxRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _mb(size: float) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_archive(archive: zipfile.ZipFile, limits: DocxLimits) -> None:
    """Refuse an archive whose directory declares too much, before inflating anything."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise DocxRefused(
            "docx_too_many_parts",
            f"Word 文件内部包含 {len(members)} 个部件，超过 {limits.max_members} 个的上限，"
            "可能已损坏或被恶意构造，请另存为新文件后再上传。",
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_inflated_total:
        raise DocxRefused(
            "docx_inflated_too_large",
            f"Word 文件解压后约 {_mb(total)}，超过 {_mb(limits.max_inflated_total)} 的上限，"
            "可能含有过大的图片或被恶意构造，请压缩图片或另存为新文件后再上传。",
        )
    for member in members:
        if member.file_size < _RATIO_MIN_SIZE:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_ratio:
            raise DocxRefused(
                "docx_compression_ratio",
                f"Word 文件中的部件压缩比异常（约 {ratio:.0f} 倍，上限 {limits.max_ratio} 倍），"
                "疑似压缩炸弹，已拒绝读取。",
            )


def main_part_name(archive: zipfile.ZipFile) -> str:
    """The main document part named by the package relationships (usually word/document.xml)."""
    try:
        info = archive.getinfo(_RELS)
    except KeyError:
        return _DEFAULT_MAIN_PART
    if info.file_size > _MAX_RELS_BYTES:
        return _DEFAULT_MAIN_PART
    with archive.open(info) as stream:
        root = etree.fromstring(_read_capped(stream, _MAX_RELS_BYTES), _safe_parser())
    for relationship in root:
        if relationship.get("Type") in _OFFICE_DOCUMENT and relationship.get("Target"):
            target = relationship.get("Target").lstrip("/")
            return posixpath.normpath(target)
    return _DEFAULT_MAIN_PART


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False)


def _read_capped(stream, cap: int) -> bytes:
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise DocxRefused("docx_part_too_large", "Word 文件的部件超过大小上限。")
    return data


class _CappedStream:
    """A file-like reader that refuses to go past `cap` bytes, whatever the zip declared."""

    def __init__(self, stream, cap: int, on_exceeded: Callable[[], DocxRefused]) -> None:
        self._stream = stream
        self._left = cap
        self._on_exceeded = on_exceeded

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._left + 1
        data = self._stream.read(min(size, self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise self._on_exceeded()
        return data


def read_docx_text(archive: zipfile.ZipFile, limits: DocxLimits) -> str:
    """The document's text; raise DocxRefused over a limit, KeyError / XMLSyntaxError /
    zipfile.BadZipFile on a damaged file."""
    check_archive(archive, limits)
    name = main_part_name(archive)
    info = archive.getinfo(name)
    if info.file_size > limits.max_main_part:
        raise _main_part_too_large(limits)
    with archive.open(info) as raw:
        stream = _CappedStream(raw, limits.max_main_part, lambda: _main_part_too_large(limits))
        return _Collector(limits.max_text_chars).read(stream)


def _main_part_too_large(limits: DocxLimits) -> DocxRefused:
    return DocxRefused(
        "docx_text_too_large",
        f"Word 文件正文部分解压后超过 {_mb(limits.max_main_part)} 的上限，"
        "请删除无关内容或拆分为多个文件后再上传。",
    )


def text_too_long(limit: int) -> DocxRefused:
    return DocxRefused(
        "text_too_long",
        f"文件中的文字超过 {limit} 个字符的上限，不像一份报告，请拆分为多个文件后再上传。",
    )


_BODY, _P, _R, _T, _HYPERLINK = W + "body", W + "p", W + "r", W + "t", W + "hyperlink"
_TBL, _TR, _TC, _TCPR = W + "tbl", W + "tr", W + "tc", W + "tcPr"
_GRID_SPAN, _V_MERGE = W + "gridSpan", W + "vMerge"
_BR, _TYPE, _VAL = W + "br", W + "type", W + "val"
_RUN_TEXT = {W + "tab": "\t", W + "ptab": "\t", W + "cr": "\n", W + "noBreakHyphen": "-"}


class _Collector:
    """Walks the main part's events once, matching paths by the element stack below w:body:
    body paragraphs and tables, a body table's rows, cells and the cells' own paragraphs."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self.blocks: list[str] = []
        self.stack: list[str] = []
        self.body_depth = -1
        self.paragraph_depth = -1
        self.paragraph: list[str] = []
        self.cell_paragraphs: list[str] = []
        self.row_columns: list[str] = []
        self.column = 0
        self.cell_span = 1
        self.cell_continues = False
        self.rows: list[str] = []
        self.above: dict[int, str] = {}

    def read(self, stream) -> str:
        events = etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True,
            load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
        )
        for event, element in events:
            if event == "start":
                self._start(element.tag)
                self.stack.append(element.tag)
                continue
            self.stack.pop()
            self._end(element)
            if self.body_depth >= 0:
                # Drop what has been read: memory follows the text, not the XML.
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        return "\n".join(self.blocks)

    def _below_body(self) -> list[str]:
        return self.stack[self.body_depth + 1:]

    def _start(self, tag: str) -> None:
        if self.body_depth < 0:
            if tag == _BODY:
                self.body_depth = len(self.stack)
            return
        if self.paragraph_depth >= 0:
            return
        below = self._below_body()
        if tag == _P and (below == [] or below == [_TBL, _TR, _TC]):
            self.paragraph_depth = len(self.stack)
            self.paragraph = []
        elif tag == _TBL and below == []:
            self.rows, self.above = [], {}
        elif tag == _TR and below == [_TBL]:
            self.row_columns, self.column = [], 0
        elif tag == _TC and below == [_TBL, _TR]:
            self.cell_paragraphs, self.cell_span, self.cell_continues = [], 1, False

    def _in_run_of_paragraph(self) -> bool:
        """The element just closed is a direct child of a run that belongs to the paragraph
        (directly or through a hyperlink)."""
        below = self.stack[self.paragraph_depth + 1:]
        return below == [_R] or below == [_HYPERLINK, _R]

    def _add(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.max_chars:
            raise text_too_long(self.max_chars)
        self.paragraph.append(text)

    def _end(self, element) -> None:
        tag = element.tag
        if self.body_depth < 0:
            return
        if self.paragraph_depth >= 0:
            if len(self.stack) == self.paragraph_depth:
                self._paragraph_done()
            elif self._in_run_of_paragraph():
                if tag == _T:
                    self._add(element.text or "")
                elif tag in _RUN_TEXT:
                    self._add(_RUN_TEXT[tag])
                elif tag == _BR and element.get(_TYPE, "textWrapping") == "textWrapping":
                    self._add("\n")
            return
        below = self._below_body()
        if below == [_TBL, _TR, _TC, _TCPR]:
            self._cell_property(element)
        elif tag == _TC and below == [_TBL, _TR]:
            self._cell_done()
        elif tag == _TR and below == [_TBL]:
            self.rows.append("\t".join(self.row_columns))
        elif tag == _TBL and below == []:
            self.blocks.append("\n".join(self.rows))

    def _paragraph_done(self) -> None:
        text = "".join(self.paragraph)
        self.paragraph_depth = -1
        if self._below_body() == []:
            self.blocks.append(text)
        else:
            self.cell_paragraphs.append(text)

    def _cell_property(self, element) -> None:
        if element.tag == _GRID_SPAN:
            try:
                self.cell_span = max(1, int(element.get(_VAL, "1")))
            except ValueError:
                self.cell_span = 1
        elif element.tag == _V_MERGE:
            self.cell_continues = element.get(_VAL, "continue") == "continue"

    def _cell_done(self) -> None:
        if self.cell_continues:
            text = self.above.get(self.column, "")
        else:
            text = " ".join("\n".join(self.cell_paragraphs).split())
        self.above[self.column] = text
        self.row_columns.append(text)
        self.column += self.cell_span
