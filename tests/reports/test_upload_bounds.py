"""Issue #14: uploads are bounded before they cost memory or minutes. Declared sizes, part
counts, compression ratios and page counts are checked first; the text is streamed and capped.
Each hostile file is built here, small on the wire; each refusal is recognised by its code and
its Chinese message, and where it matters the costly step is made to fail if it is reached."""

import pytest

from reports.parsing import DocumentError, read_document
from reports.parsing import docx_text as docx_module
from reports.parsing.reading import ReadLimits
from tests.reports.hostile_files import (
    document_xml,
    docx_bomb,
    docx_with_parts,
    docx_with_wide_cell,
    hand_docx,
    many_page_pdf,
    paragraph,
)
from tests.reports.parsing.parsing_test_builders import make_docx, make_pdf

DEFAULTS = ReadLimits()
NO_RATIO = {"max_docx_ratio": 10**9}


def refused(data: bytes, filename: str, limits: ReadLimits = DEFAULTS) -> DocumentError:
    with pytest.raises(DocumentError) as error:
        read_document(data, filename, limits=limits)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.value.message)
    return error.value


@pytest.fixture
def no_streaming(monkeypatch):
    """The main part must not be parsed at all: the zip directory alone refuses the file."""

    def fail(self, stream):
        raise AssertionError("the main part was parsed before the directory was checked")

    monkeypatch.setattr(docx_module._Collector, "read", fail)


@pytest.fixture
def no_pages(monkeypatch):
    """No page of the PDF may be interpreted."""
    from pdfminer.pdfinterp import PDFPageInterpreter

    def fail(self, page):
        raise AssertionError("a page was read before the page count was checked")

    monkeypatch.setattr(PDFPageInterpreter, "process_page", fail)


# --- .docx -------------------------------------------------------------------------------


def test_a_docx_zip_bomb_is_refused_by_its_declared_ratio_before_inflating(no_streaming):
    bomb = docx_bomb(24 * 1024 * 1024)
    assert len(bomb) < 200 * 1024  # small on the wire

    error = refused(bomb, "报告.docx")

    assert error.code == "docx_compression_ratio"
    assert "压缩炸弹" in error.message


def test_a_docx_inflating_past_the_total_is_refused_before_inflating(no_streaming):
    limits = ReadLimits(max_docx_inflated=1024 * 1024, **NO_RATIO)
    data = docx_bomb(2 * 1024 * 1024)

    error = refused(data, "报告.docx", limits)

    assert error.code == "docx_inflated_too_large"
    assert "解压后约 2.0 MB" in error.message
    assert "1.0 MB 的上限" in error.message


def test_a_docx_main_part_over_its_cap_is_refused_before_parsing(no_streaming):
    limits = ReadLimits(max_docx_main_part=1024 * 1024, **NO_RATIO)

    error = refused(docx_bomb(2 * 1024 * 1024), "报告.docx", limits)

    assert error.code == "docx_text_too_large"
    assert "正文部分解压后超过 1.0 MB" in error.message


def test_a_docx_with_too_many_parts_is_refused_before_parsing(no_streaming):
    error = refused(docx_with_parts(DEFAULTS.max_docx_members), "报告.docx")

    assert error.code == "docx_too_many_parts"
    assert f"超过 {DEFAULTS.max_docx_members} 个的上限" in error.message


def test_a_cell_declaring_a_hundred_million_columns_is_one_cell():
    """python-docx expands a span into one cell per grid column (minutes and gigabytes for
    this file); the streaming reader reads the cell once."""
    text = read_document(docx_with_wide_cell(100_000_000), "台账.docx").text

    assert text.splitlines() == ["江屿市整改情况汇报。", "整改任务\t已完成"]


def test_the_text_read_out_of_a_docx_is_capped_while_streaming():
    limits = ReadLimits(max_text_chars=1000)
    data = make_docx([f"第{n}段，整改工作稳步推进，取得阶段性成效。" for n in range(100)])

    error = refused(data, "报告.docx", limits)

    assert error.code == "text_too_long"
    assert "超过 1000 个字符的上限" in error.message


def test_a_docx_within_the_limits_is_read_whole():
    body = "".join(paragraph(f"第{n}项整改任务已完成。") for n in range(1, 4))
    text = read_document(hand_docx(document_xml(body, padding=100)), "报告.docx").text

    assert text.splitlines() == ["第1项整改任务已完成。", "第2项整改任务已完成。",
                                 "第3项整改任务已完成。"]


def test_entities_in_a_docx_are_not_expanded():
    """A billion-laughs main part: its DTD is neither loaded nor expanded."""
    laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "' + b"x" * 100 + b'">'
              + b"".join(f'<!ENTITY a{n} "{"&a;" * 10 if n == 0 else f"&a{n - 1};" * 10}">'
                         .encode() for n in range(8))
              + b']><w:document xmlns:w="' + docx_module.W[1:-1].encode()
              + b'"><w:body><w:p><w:r><w:t>&a7;</w:t></w:r></w:p></w:body></w:document>')
    with pytest.raises(DocumentError) as error:
        read_document(hand_docx(laughs), "报告.docx")
    assert error.value.code in ("corrupt_docx", "empty_file")


# --- .pdf and .txt ------------------------------------------------------------------------


def test_a_hundred_thousand_page_pdf_is_refused_by_its_declared_count(no_pages):
    data = many_page_pdf(100_000)

    error = refused(data, "报告.pdf")

    assert error.code == "pdf_too_many_pages"
    assert error.message.startswith("PDF 共 100000 页，超过 500 页的上限")


def test_a_pdf_declaring_fewer_pages_than_it_holds_stops_at_the_limit():
    limits = ReadLimits(max_pdf_pages=5)

    error = refused(many_page_pdf(6, declared=1), "报告.pdf", limits)

    assert error.code == "pdf_too_many_pages"
    # Five pages are within the limit: read (they hold no text).
    assert refused(many_page_pdf(5, declared=1), "报告.pdf", limits).code == "pdf_no_text"


def test_the_text_read_out_of_a_pdf_is_capped():
    limits = ReadLimits(max_text_chars=300)
    data = make_pdf(["江屿市整改工作情况汇报，整改任务稳步推进，取得阶段性成效。" * 3] * 10)

    error = refused(data, "报告.pdf", limits)

    assert error.code == "text_too_long"


def test_a_text_file_over_its_own_cap_is_refused_before_decoding(monkeypatch):
    from reports.parsing import reading

    monkeypatch.setattr(reading, "decode_text", lambda data: pytest.fail("decoded"))
    limits = ReadLimits(max_text_bytes=1000)

    error = refused("整改工作。".encode() * 100, "报告.txt", limits)

    assert error.code == "too_large"
    assert "文本文件过大" in error.message


def test_the_main_part_is_capped_while_streaming_whatever_the_directory_said():
    """zipfile stops at the declared size; the reader's own cap holds even if it did not."""
    import io

    from reports.parsing.docx_text import DocxRefused, _CappedStream, _Collector

    xml = document_xml(paragraph("整改") * 10_000)
    stream = _CappedStream(io.BytesIO(xml), 1000, lambda: DocxRefused("docx_text_too_large", ""))

    with pytest.raises(DocxRefused) as error:
        _Collector(max_chars=10**6).read(stream)
    assert error.value.code == "docx_text_too_large"


def test_a_docx_with_a_damaged_compressed_part_is_refused_as_damaged():
    data = bytearray(hand_docx(document_xml(paragraph("整改情况汇报。") * 200)))
    start = data.index(b"word/document.xml") + len("word/document.xml")
    data[start + 10:start + 60] = b"\xff" * 50  # inside the deflated main part

    error = refused(bytes(data), "报告.docx")

    assert error.code == "corrupt_docx"
