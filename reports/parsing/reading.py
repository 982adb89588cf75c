"""Turn an uploaded file (bytes + name) into text, or refuse it with a clear Chinese message.

Supported: .txt (UTF-8 with or without BOM, UTF-16 with BOM, GBK / GB18030), .docx and .pdf
with a text layer. The text returned here is the decoded text; callers clean it with
`clean_text` (extraction does so itself) and store the cleaned text.

Encodings are never guessed silently: strict UTF-8 and byte-order marks first, then strict
GB18030 (a superset of GBK), and only then charset-normalizer, whose answer must also look like
text. Anything else is refused.
"""

import codecs
import io
import itertools
import logging
import re
import zipfile
from dataclasses import dataclass

import charset_normalizer
import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Row
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from reports.parsing.cleaning import is_debris_line

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
SUPPORTED_SUFFIXES = ("txt", "docx", "pdf")

_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
_PDF_MAGIC_WINDOW = 1024  # the PDF header may follow a little junk
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# charset-normalizer's own measure of "mess"; above this its answer is a guess, not a reading.
_MAX_CHAOS = 0.1
_MIN_PRINTABLE_SHARE = 0.95
# Reports put a ， or 。 every 10-30 characters; decoded noise almost never does.
_MIN_PUNCTUATION_SHARE = 0.01


class DocumentError(Exception):
    """A file that cannot be read. `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodedDocument:
    text: str
    encoding: str | None  # None for .docx and .pdf, whose text is not a byte encoding choice
    format: str  # "txt", "docx" or "pdf"


def read_document(
    data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> DecodedDocument:
    """Decode an uploaded report; raise DocumentError when it cannot be read faithfully."""
    if len(data) > max_bytes:
        raise DocumentError(
            "too_large",
            f"文件过大（{_megabytes(len(data))}），超过 {_megabytes(max_bytes)} 的上限。",
        )
    if not data:
        raise DocumentError("empty_file", "文件为空，没有可读取的内容。")
    suffix = _suffix(filename)
    _check_content_matches_suffix(data, suffix)
    if suffix == "docx":
        document = DecodedDocument(_read_docx(data), None, "docx")
    elif suffix == "pdf":
        document = DecodedDocument(_read_pdf(data), None, "pdf")
    else:
        text, encoding = decode_text(data)
        document = DecodedDocument(text, encoding, "txt")
    if not document.text.strip():
        raise DocumentError("empty_file", "文件为空，没有可读取的文字内容。")
    return document


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _suffix(filename: str) -> str:
    name = filename.strip().lower()
    suffix = name.rsplit(".", 1)[1] if "." in name else ""
    if suffix == "doc":
        raise DocumentError(
            "unsupported_type", "不支持旧版 Word（.doc）文件，请另存为 .docx 后再上传。"
        )
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f".{suffix}" if suffix else "无扩展名"
        raise DocumentError(
            "unsupported_type", f"不支持的文件类型（{shown}），仅支持 .txt、.docx、.pdf 文件。"
        )
    return suffix


def _sniff(data: bytes) -> str:
    """What the bytes look like: "zip", "pdf" or "other"."""
    if data.startswith(_ZIP_MAGIC):
        return "zip"
    if _PDF_MAGIC in data[:_PDF_MAGIC_WINDOW]:
        return "pdf"
    return "other"


def _check_content_matches_suffix(data: bytes, suffix: str) -> None:
    sniffed = _sniff(data)
    expected = {"docx": "zip", "pdf": "pdf"}.get(suffix, "other")
    if sniffed == expected:
        return
    actual = {"zip": "Word（.docx）或压缩包", "pdf": "PDF", "other": "纯文本或其他格式"}[sniffed]
    raise DocumentError(
        "type_mismatch", f"文件扩展名为 .{suffix}，但内容是{actual}，请检查文件后重新上传。"
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode plain-text bytes; return (text, encoding name) or raise DocumentError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_strictly(data, encoding), encoding
    if b"\x00" in data:
        raise _undecodable("文件含有二进制内容")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return _decode_with_detector(data)
    # Big5 bytes also decode as GB18030, into nonsense without a single Chinese comma.
    if looks_like_chinese_prose(text):
        return text, "gb18030"
    return _decode_with_detector(data)


def _decode_strictly(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise _undecodable(f"文件声明为 {encoding} 编码，但内容已损坏") from error


def _decode_with_detector(data: bytes) -> tuple[str, str]:
    """Last resort for Chinese text in an encoding not tried above (e.g. Big5).

    charset-normalizer also "recognises" random bytes, so its answer is taken only when every
    plausible candidate reads the bytes the same way and the result reads as Chinese prose.
    """
    readings: dict[str, str] = {}
    for match in charset_normalizer.from_bytes(data):
        if match.chaos <= _MAX_CHAOS:
            try:
                readings.setdefault(data.decode(match.encoding), match.encoding)
            except (UnicodeDecodeError, LookupError):
                continue
    if len(readings) != 1:
        raise _undecodable("无法可靠识别文件编码")
    ((text, encoding),) = readings.items()
    if not looks_like_chinese_prose(text):
        raise _undecodable("文件内容不像中文文本")
    return text, encoding


def looks_like_chinese_prose(text: str) -> bool:
    """Almost every character printable, and Chinese commas / full stops at a prose rate."""
    if not text:
        return False
    printable = sum(1 for char in text if char.isprintable() or char in "\n\r\t")
    punctuation = sum(text.count(mark) for mark in "，。")
    return printable / len(text) >= _MIN_PRINTABLE_SHARE and punctuation >= max(
        1, len(text) * _MIN_PUNCTUATION_SHARE
    )


def _undecodable(reason: str) -> DocumentError:
    return DocumentError(
        "undecodable",
        f"{reason}，无法读取。请将文件另存为 UTF-8 或 GBK 编码的文本、.docx 或 .pdf 后再上传。",
    )


def _read_docx(data: bytes) -> str:
    """Paragraphs and table rows in document order; a row's cells are joined by tabs."""
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        return "\n".join(_docx_block_text(block) for block in blocks)
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, XMLSyntaxError) as error:
        raise DocumentError(
            "corrupt_docx", "Word 文件已损坏或不完整，无法打开，请重新导出后上传。"
        ) from error


def _docx_block_text(block: Paragraph | Table) -> str:
    if isinstance(block, Paragraph):
        return block.text
    return "\n".join(_docx_row_text(row) for row in block.rows)


def _docx_row_text(row: _Row) -> str:
    seen_cells = []
    for cell in row.cells:
        # A merged cell is returned once per grid column it spans; keep it once.
        if not any(cell._tc is seen._tc for seen in seen_cells):
            seen_cells.append(cell)
    return "\t".join(" ".join(cell.text.split()) for cell in seen_cells)


def _read_pdf(data: bytes) -> str:
    from pdfminer.high_level import extract_text  # imported late: slow import, PDFs are rare
    from pdfminer.pdfdocument import PDFEncryptionError

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        raw = extract_text(io.BytesIO(data))
    except PDFEncryptionError as error:
        raise DocumentError("pdf_encrypted", "PDF 文件已加密，请解除密码保护后再上传。") from error
    # pdfminer raises many unrelated exception types on damaged files; all mean the same here.
    except Exception as error:
        raise DocumentError(
            "corrupt_pdf", "PDF 文件已损坏，无法读取，请重新导出后上传。"
        ) from error
    text = reflow_pdf_lines(_UNMAPPED_GLYPH_RE.sub("", raw))
    if not text.strip():
        raise DocumentError(
            "pdf_no_text",
            "PDF 没有可提取的文字（可能是扫描件无文字层），请上传带文字层的 PDF 或 Word 文件。",
        )
    return text


_UNMAPPED_GLYPH_RE = re.compile(r"\(cid:\d+\)")
_PARAGRAPH_END_RE = re.compile(r"[。！？：；”」』）)]$")
_STRUCTURE_START_RE = re.compile(
    r"^(?:[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.、．]"
    r"|[一二三四五六七八九十]+是)"
)
# A wrapped PDF line fills the text width; a line clearly shorter than the longest ends a
# paragraph (titles, headings, the last line of a paragraph).
_FULL_LINE_SHARE = 0.85


def reflow_pdf_lines(raw: str) -> str:
    """Join the visual lines of a PDF back into one line per paragraph."""
    lines = [line.strip() for line in raw.splitlines()]
    lines = [line for line in lines if line and not is_debris_line(line)]
    if not lines:
        return ""
    full_length = max(len(line) for line in lines) * _FULL_LINE_SHARE
    paragraphs = [lines[0]]
    for previous, line in itertools.pairwise(lines):
        continues = (
            len(previous) >= full_length
            and not _PARAGRAPH_END_RE.search(previous)
            and not _STRUCTURE_START_RE.match(line)
        )
        if continues:
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
    return "\n".join(paragraphs)
