"""Turn an uploaded file (bytes + name) into text, or refuse it with a clear Chinese message.

Supported: .txt (UTF-8 with or without BOM, UTF-16 with BOM, GBK / GB18030), .docx and .pdf
with a text layer. The text returned here is the decoded text; callers clean it with
`clean_text` (extraction does so itself) and store the cleaned text.

Everything is bounded before it costs memory or minutes (ReadLimits): the file's size first;
for a .txt its size again, tighter; for a .docx the zip directory's declarations (member count,
inflated sizes, compression ratio) before anything is inflated, then the main part streamed
with a byte cap (reports.parsing.docx_text); for a .pdf the page count its page tree declares
before any page is read, then at most that many pages read whatever it declared; and for all,
the number of characters read out. A file over a limit is refused, never truncated: a report
read in part would propose wrong figures.

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
import zlib
from dataclasses import dataclass, replace

import charset_normalizer
from lxml.etree import XMLSyntaxError

from reports.parsing.cleaning import is_debris_line
from reports.parsing.docx_text import DocxLimits, DocxRefused, read_docx_text, text_too_long

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
class ReadLimits:
    """How much one file may cost. The defaults are the settings' defaults (REPORT_MAX_*,
    config/settings/base.py); reports.services builds the live ones from the settings."""

    max_bytes: int = DEFAULT_MAX_BYTES  # any uploaded file
    max_text_bytes: int = 5 * 1024 * 1024  # a .txt file
    max_text_chars: int = 1_000_000  # characters read out of any file
    max_docx_members: int = 1000  # parts inside a .docx
    max_docx_inflated: int = 100 * 1024 * 1024  # all parts together, as declared
    max_docx_main_part: int = 16 * 1024 * 1024  # word/document.xml inflated
    max_docx_ratio: int = 100  # inflated / compressed, for parts of a megabyte or more
    max_pdf_pages: int = 500

    def docx(self) -> DocxLimits:
        return DocxLimits(
            max_members=self.max_docx_members, max_inflated_total=self.max_docx_inflated,
            max_main_part=self.max_docx_main_part, max_ratio=self.max_docx_ratio,
            max_text_chars=self.max_text_chars,
        )


@dataclass(frozen=True)
class DecodedDocument:
    text: str
    encoding: str | None  # None for .docx and .pdf, whose text is not a byte encoding choice
    format: str  # "txt", "docx" or "pdf"


def read_document(
    data: bytes, filename: str, *, max_bytes: int | None = None,
    limits: ReadLimits | None = None,
) -> DecodedDocument:
    """Decode an uploaded report; raise DocumentError when it cannot be read faithfully or
    is over a limit (checked before the costly work wherever the file declares its size)."""
    limits = limits or ReadLimits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    suffix = check_upload(data, filename, limits)
    if suffix == "docx":
        document = DecodedDocument(_read_docx(data, limits), None, "docx")
    elif suffix == "pdf":
        document = DecodedDocument(_read_pdf(data, limits), None, "pdf")
    else:
        text, encoding = decode_text(data)
        document = DecodedDocument(text, encoding, "txt")
    if len(document.text) > limits.max_text_chars:
        raise _refused(text_too_long(limits.max_text_chars))
    if not document.text.strip():
        raise DocumentError("empty_file", "文件为空，没有可读取的文字内容。")
    return document


def check_upload(data: bytes, filename: str, limits: ReadLimits) -> str:
    """The checks that need no parsing (size, emptiness, type, content matching the type),
    cheap enough for the web process; return the file's suffix ("txt", "docx" or "pdf")."""
    if len(data) > limits.max_bytes:
        raise too_large(len(data), limits.max_bytes)
    if not data:
        raise DocumentError("empty_file", "文件为空，没有可读取的内容。")
    suffix = _suffix(filename)
    _check_content_matches_suffix(data, suffix)
    if suffix == "txt" and len(data) > limits.max_text_bytes:
        raise DocumentError(
            "too_large",
            f"文本文件过大（{_megabytes(len(data))}），超过 "
            f"{_megabytes(limits.max_text_bytes)} 的上限，请拆分为多个文件后再上传。",
        )
    return suffix


def too_large(size: int, max_bytes: int) -> DocumentError:
    """The refusal of a file over the size limit (also given by the upload faces, which check
    the declared size before reading the upload into memory)."""
    return DocumentError(
        "too_large", f"文件过大（{_megabytes(size)}），超过 {_megabytes(max_bytes)} 的上限。"
    )


def _refused(error: DocxRefused) -> DocumentError:
    return DocumentError(error.code, error.message)


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


def _read_docx(data: bytes, limits: ReadLimits) -> str:
    """Paragraphs and table rows in document order; a row's cells are joined by tabs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return read_docx_text(archive, limits.docx())
    except DocxRefused as error:
        raise _refused(error) from error
    except (zipfile.BadZipFile, KeyError, XMLSyntaxError, EOFError, zipfile.LargeZipFile,
            zlib.error, NotImplementedError, RuntimeError, ValueError) as error:
        # zlib.error: a damaged compressed stream; NotImplementedError: a compression method
        # zipfile does not know; RuntimeError: an encrypted member; ValueError: e.g. a
        # negative size in a damaged directory.
        raise DocumentError(
            "corrupt_docx", "Word 文件已损坏或不完整，无法打开，请重新导出后上传。"
        ) from error


def _pdf_too_many_pages(pages: int | str, limit: int) -> DocumentError:
    return DocumentError(
        "pdf_too_many_pages",
        f"PDF 共 {pages} 页，超过 {limit} 页的上限，请拆分为多个文件后再上传。",
    )


def declared_pdf_pages(document) -> int | None:
    """The page count the page tree's root declares (/Count), read without reading a page."""
    from pdfminer.pdftypes import resolve1

    pages = resolve1(document.catalog.get("Pages"))
    count = resolve1(pages.get("Count")) if isinstance(pages, dict) else None
    return count if isinstance(count, int) else None


def _read_pdf(data: bytes, limits: ReadLimits) -> str:
    # Imported late: slow import, PDFs are rare.
    from pdfminer.converter import TextConverter
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    output = io.StringIO()
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        declared = declared_pdf_pages(document)
        if declared is not None and declared > limits.max_pdf_pages:
            raise _pdf_too_many_pages(declared, limits.max_pdf_pages)
        resources = PDFResourceManager()
        device = TextConverter(resources, output, laparams=LAParams())
        interpreter = PDFPageInterpreter(resources, device)
        for number, page in enumerate(PDFPage.create_pages(document), start=1):
            if number > limits.max_pdf_pages:  # the page tree declared fewer than it holds
                raise _pdf_too_many_pages(f"超过 {limits.max_pdf_pages}", limits.max_pdf_pages)
            interpreter.process_page(page)
            if output.tell() > limits.max_text_chars:  # a StringIO's position is in characters
                raise _refused(text_too_long(limits.max_text_chars))
    except (DocumentError, MemoryError):
        raise
    except (PDFEncryptionError, PDFPasswordIncorrect) as error:
        raise DocumentError("pdf_encrypted", "PDF 文件已加密，请解除密码保护后再上传。") from error
    # pdfminer raises many unrelated exception types on damaged files; all mean the same here.
    except Exception as error:
        raise DocumentError(
            "corrupt_pdf", "PDF 文件已损坏，无法读取，请重新导出后上传。"
        ) from error
    raw = output.getvalue()
    if len(raw) > limits.max_text_chars:
        raise _refused(text_too_long(limits.max_text_chars))
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
