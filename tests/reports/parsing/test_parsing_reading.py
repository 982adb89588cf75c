"""read_document: every supported format and encoding, and every refusal."""

import random
import re

import pytest

from reports.parsing import DocumentError, extract, read_document
from reports.parsing import reading as reading_module
from tests.reports.parsing.parsing_test_builders import make_docx, make_pdf, make_textless_pdf

FIXTURES = [
    "jiangyu_2024_h1_report.txt",
    "qinghe_redacted_report.txt",
    "lanxi_rectification_bulletin.txt",
]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize(
    ("codec", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),  # GBK bytes are read as GB18030, their superset
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),  # Python writes the BOM
    ],
)
def test_text_encodings_read_to_the_same_extraction(fixture_text, name, codec, reported):
    source = fixture_text(name)
    document = read_document(source.encode(codec), name)
    assert (document.format, document.encoding) == ("txt", reported)
    assert document.text == source
    assert extract(document.text) == extract(source)


def test_gb18030_only_characters_are_read():
    text = "江屿市纪委监委通报：联系人吉𠮷，发现问题3个，已完成整改3个。"
    document = read_document(text.encode("gb18030"), "通报.txt")
    assert (document.text, document.encoding) == (text, "gb18030")


def test_big5_text_is_not_misread_as_gb18030():
    text = "江山市紀委監委工作情況匯報。全市共發現問題五十八個，全部完成整改。" * 3
    document = read_document(text.encode("big5"), "report.txt")
    assert (document.text, document.encoding) == (text, "big5")


def test_crlf_and_uppercase_extension_are_accepted(fixture_text):
    source = fixture_text("lanxi_rectification_bulletin.txt")
    document = read_document(source.replace("\n", "\r\n").encode("utf-8"), "通报.TXT")
    assert extract(document.text) == extract(source)


@pytest.mark.parametrize("name", FIXTURES)
def test_docx_reads_to_the_same_extraction(fixture_text, name):
    source = fixture_text(name)
    document = read_document(make_docx(source.splitlines()), "report.docx")
    assert (document.format, document.encoding) == ("docx", None)
    assert extract(document.text) == extract(source)


def test_docx_table_cells_come_in_document_order():
    data = make_docx(
        ["江屿市整改台账", "以上为台账摘录。"],
        table_rows=[["序号", "问题", "状态"], ["1", "台账更新不及时", "整改中"]],
    )
    text = read_document(data, "台账.docx").text
    assert text == "江屿市整改台账\n序号\t问题\t状态\n1\t台账更新不及时\t整改中\n以上为台账摘录。"


@pytest.mark.parametrize("name", FIXTURES)
def test_pdf_text_layer_reads_to_the_same_extraction(fixture_text, name):
    """Wrapped lines are joined back into paragraphs and "- n -" page numbers dropped."""
    source = fixture_text(name)
    document = read_document(make_pdf(source.splitlines()), "report.pdf")
    assert (document.format, document.encoding) == ("pdf", None)
    assert extract(document.text) == extract(source)


def assert_refused(data: bytes, filename: str, code: str, words: str, **options) -> None:
    with pytest.raises(DocumentError) as raised:
        read_document(data, filename, **options)
    assert raised.value.code == code
    assert words in raised.value.message
    assert CHINESE.search(raised.value.message)


def test_empty_file_is_refused():
    assert_refused(b"", "report.txt", "empty_file", "文件为空")


def test_whitespace_only_file_is_refused():
    assert_refused("\r\n　　\n".encode(), "report.txt", "empty_file", "文件为空")


@pytest.mark.parametrize("seed", range(5))
def test_binary_garbage_is_refused(seed):
    garbage = random.Random(seed).randbytes(4096)
    assert_refused(garbage, "report.txt", "undecodable", "无法读取")


@pytest.mark.parametrize("seed", range(5))
def test_high_byte_noise_without_nul_is_refused(seed):
    """No NUL bytes, so only the detector could be fooled into a guess."""
    rng = random.Random(seed)
    noise = bytes(rng.randrange(0x80, 0x100) for _ in range(4096))
    assert_refused(noise, "report.txt", "undecodable", "无法读取")


def test_truncated_docx_is_refused():
    whole = make_docx(["江屿市纪委监委工作情况汇报", "全市共发现问题58个，全部完成整改。"])
    assert_refused(whole[: len(whole) // 2], "report.docx", "corrupt_docx", "损坏")


def test_pdf_without_text_layer_is_refused():
    assert_refused(make_textless_pdf(), "scan.pdf", "pdf_no_text", "扫描件无文字层")


def test_damaged_pdf_is_refused():
    assert_refused(b"%PDF-1.4\nnot really a pdf\n", "report.pdf", "corrupt_pdf", "损坏")


def test_fifty_megabytes_are_refused_before_decoding(monkeypatch):
    def fail_if_called(data: bytes) -> tuple[str, str]:
        raise AssertionError("a file over the limit must not be decoded")

    monkeypatch.setattr(reading_module, "decode_text", fail_if_called)
    assert_refused(b"a" * (50 * 1024 * 1024), "report.txt", "too_large", "文件过大")


def test_size_limit_is_a_parameter():
    data = "江屿市纪委监委工作情况汇报。".encode()
    assert_refused(data, "report.txt", "too_large", "上限", max_bytes=len(data) - 1)
    assert read_document(data, "report.txt", max_bytes=len(data)).text


@pytest.mark.parametrize("filename", ["report.xlsx", "report", "report.txt.exe", "报告.wps"])
def test_unsupported_extension_is_refused(filename):
    assert_refused("江屿市".encode(), filename, "unsupported_type", "不支持")


def test_old_word_format_is_refused_with_advice():
    assert_refused(b"\xd0\xcf\x11\xe0", "report.doc", "unsupported_type", "另存为 .docx")


@pytest.mark.parametrize(
    ("data", "filename", "content"),
    [
        ("江屿市纪委监委工作情况汇报".encode(), "report.docx", "纯文本"),
        ("江屿市纪委监委工作情况汇报".encode(), "report.pdf", "纯文本"),
        (b"%PDF-1.4\n", "report.docx", "PDF"),
        (b"PK\x03\x04rest", "report.txt", "Word"),
    ],
)
def test_extension_contradicting_content_is_refused(data, filename, content):
    assert_refused(data, filename, "type_mismatch", content)
