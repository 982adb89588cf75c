"""Bounds on an uploaded .xlsx, checked before the file can cost memory or minutes (issue #14),
and the streaming reader that enforces them (tracker/ledger_excel/xlsx.py).

The files are built here by hand, a few hundred bytes each: a merged range over A1:XFD100, a
sheet declaring 1,048,576 rows or 16,384 columns, a zip whose directory declares gigabytes.
Each must be refused with a Chinese message naming what was refused, which proves the refusal
came from the bound and not from parsing (openpyxl took 116 s and 1.6 GB on the first)."""

import datetime as dt
import io
import struct
import zipfile

import pytest
from openpyxl import load_workbook

from tests.tracker.ledger.helpers import make_ledger
from tracker.errors import ImportRejected
from tracker.ledger_excel.reading import LedgerFileError, check_upload, read_ledger
from tracker.ledger_excel.xlsx import Limits, Workbook, XlsxError
from tracker.models import LedgerJob, LedgerJobState
from tracker.services import ledger_jobs
from tracker.services.ledger import ledger_preview

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

HEADER = ("反馈问题", "整改措施", "责任单位", "完成时限")


def _cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows, *, dimension: str | None = None, merges=(), extra_rows: str = "") -> str:
    body = "".join(
        f'<row r="{r}">'
        + "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(values))
        + "</row>"
        for r, values in enumerate(rows, start=1)
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    merged = (
        f'<mergeCells count="{len(merges)}">'
        + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
        + "</mergeCells>"
        if merges else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}'
        f"<sheetData>{body}{extra_rows}</sheetData>{merged}</worksheet>"
    )


def xlsx(sheet: str, *, shared_strings: str | None = None, styles: str | None = None) -> bytes:
    """A minimal workbook: one sheet (its XML given), optionally shared strings and styles."""
    rels = [f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    parts = {"xl/worksheets/sheet1.xml": sheet}
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rId2" Type="{REL}/sharedStrings" '
                    'Target="sharedStrings.xml"/>')
        parts["xl/sharedStrings.xml"] = shared_strings
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = styles
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
               'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
               if shared_strings is not None else "")
            + ('<Override PartName="/xl/styles.xml" ContentType="application/vnd.'
               'openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
               if styles is not None else "")
            + "</Types>"
        ))
        z.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            '<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ))
        z.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            + "".join(rels) + "</Relationships>"
        ))
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """The same zip with `member`'s uncompressed size in the central directory set to `size`
    (what a zip bomb declares, or lies about)."""
    buf = bytearray(data)
    name = member.encode()
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46:pos + 46 + name_len]) == name:
            struct.pack_into("<I", buf, pos + 24, size)
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not in the zip")


def good_rows(n: int = 1):
    return [HEADER] + [(f"问题{i}", "措施", "市教育局", "2026年6月30日") for i in range(n)]


BOUNDS = {"max_rows": 20000, "max_columns": 100, "max_unzipped": 256 * 1024 * 1024}


# --- Refused before parsing ----------------------------------------------------------------


def test_a_merged_range_across_every_column_is_refused_naming_the_range():
    # Issue #14's probe: 1.7 KB, one merged range A1:XFD100 (116 s and 1.6 GB in openpyxl).
    data = xlsx(sheet_xml(good_rows(), merges=["A1:XFD100"]))

    with pytest.raises(LedgerFileError) as info:
        read_ledger(data, **BOUNDS)

    assert info.value.reason == (
        "工作表“台账”的合并单元格A1:XFD100超出范围（最多100列、20021行），请取消该合并后重新导入"
    )


def test_a_merged_range_beyond_the_row_limit_is_refused():
    data = xlsx(sheet_xml(good_rows(), merges=["C2:C900000"]))

    with pytest.raises(LedgerFileError, match="合并单元格C2:C900000超出范围"):
        read_ledger(data, **BOUNDS)


def test_overlapping_merged_ranges_are_refused_before_being_filled():
    # Each range is within the limits; together they cover the sheet's cells many times.
    data = xlsx(sheet_xml(good_rows(3), merges=[f"A1:D{r}" for r in range(2, 5)] * 3))

    with pytest.raises(LedgerFileError, match="合并单元格互相重叠"):
        read_ledger(data, **BOUNDS)


def test_a_declared_dimension_beyond_the_columns_is_refused_at_upload(inspection_with_chief):
    inspection, chief = inspection_with_chief
    data = xlsx(sheet_xml(good_rows(), dimension="A1:XFD100"))

    with pytest.raises(LedgerFileError) as info:
        check_upload(data, **BOUNDS)
    assert info.value.reason == "工作表“台账”的数据范围A1:XFD100超过100列，请删除多余的列后重新导入"

    # The upload (web request) refuses it before storing anything.
    with pytest.raises(ImportRejected) as rejected:
        ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                             filename="台账.xlsx", data=data)
    assert rejected.value.errors == [info.value.reason]
    assert not LedgerJob.objects.exists()


def test_a_million_declared_rows_are_refused_at_upload(inspection_with_chief, settings):
    # Issue #14's second probe: a 1M-row sheet (139 s, 1.15 GB before the row limit refused
    # it). Its <dimension> says so in its first bytes; the rows themselves are never read.
    inspection, chief = inspection_with_chief
    data = xlsx(sheet_xml(good_rows(), dimension="A1:D1048576"))

    with pytest.raises(ImportRejected) as rejected:
        ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                             filename="台账.xlsx", data=data)

    assert rejected.value.errors == [f"表格超过{settings.TRACKER_LEDGER_MAX_ROWS}行，请分批导入"]
    assert not LedgerJob.objects.exists()


def test_undeclared_rows_are_read_only_up_to_the_limit():
    # No <dimension>: the rows are streamed and the reading stops at the first row beyond
    # the limit, whatever follows.
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>问题{r}</t></is></c></row>'
        for r in range(3, 5003)
    )
    data = xlsx(sheet_xml(good_rows(1), extra_rows=rows))
    workbook = Workbook(data, Limits(max_unzipped=1 << 30, max_columns=100, max_row=60))

    sheet = workbook.read_sheet(workbook.sheets[0])

    assert len(sheet.rows) == 60
    assert sheet.beyond_limit
    with pytest.raises(LedgerFileError, match="表格超过39行，请分批导入"):
        read_ledger(data, max_rows=39, max_columns=100, max_unzipped=1 << 30)


def test_a_zip_declaring_gigabytes_is_refused_before_inflating(inspection_with_chief):
    inspection, chief = inspection_with_chief
    data = declare_size(xlsx(sheet_xml(good_rows())), "xl/worksheets/sheet1.xml", 4_000_000_000)

    with pytest.raises(ImportRejected) as rejected:
        ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                             filename="台账.xlsx", data=data)

    assert rejected.value.errors == [
        "文件解压后有3815MB，超过256MB的上限，请删除多余的内容或分批导入"
    ]
    assert not LedgerJob.objects.exists()


def test_a_part_read_whole_is_bounded_on_its_own():
    data = declare_size(xlsx(sheet_xml(good_rows())), "xl/workbook.xml", 100 * 1024 * 1024)

    with pytest.raises(LedgerFileError) as info:
        read_ledger(data, **BOUNDS)

    assert info.value.reason == (
        "文件中的部件“xl/workbook.xml”解压后有100MB，超过16MB的上限，请在Excel或WPS中另存后重新导入"
    )


def test_a_member_larger_than_it_declares_is_not_an_xlsx():
    # zipfile never inflates beyond the declared size; the check sum then fails.
    data = declare_size(xlsx(sheet_xml(good_rows(50))), "xl/worksheets/sheet1.xml", 300)

    with pytest.raises(LedgerFileError, match="文件不是有效的Excel"):
        read_ledger(data, **BOUNDS)


def test_the_service_and_the_job_refuse_with_the_same_message(inspection_with_chief):
    # A small file goes through the job at once in the web process: the bound applies there
    # too, before any range is filled, and the job fails with the reason.
    inspection, chief = inspection_with_chief
    data = xlsx(sheet_xml(good_rows(), dimension="A1:D2", merges=["A1:XFD100"]))

    with pytest.raises(ImportRejected) as rejected:
        ledger_preview(inspection=inspection, actor=chief, data=data)
    assert "合并单元格A1:XFD100超出范围" in rejected.value.errors[0]
    job = ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                               filename="台账.xlsx", data=data)
    ledger_jobs.ledger_job_dispatch(job)

    assert job.state == LedgerJobState.FAILED
    assert "合并单元格A1:XFD100超出范围" in job.errors[0]


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def test_an_entity_bomb_in_a_sheet_is_refused_before_it_is_parsed():
    # Entities ("billion laughs") are declared in a DTD, which no .xlsx part has: the prolog
    # of every part read is checked before the parser sees it.
    sheet = sheet_xml(good_rows()).replace('<?xml version="1.0" encoding="UTF-8"?>', BOMB)
    sheet = sheet.replace("<t>措施</t>", "<t>&lol3;</t>")
    data = xlsx(sheet)

    with pytest.raises(LedgerFileError) as info:
        read_ledger(data, **BOUNDS)

    assert info.value.reason == (
        "文件中的部件“xl/worksheets/sheet1.xml”含有文档类型声明（DTD），不是Excel或WPS保存的文件，"
        "请在Excel或WPS中另存后重新导入"
    )


def test_an_entity_bomb_in_the_shared_strings_is_refused_too():
    strings = SHARED.replace('<?xml version="1.0" encoding="UTF-8"?>', BOMB)
    data = xlsx(TYPED_SHEET, shared_strings=strings, styles=STYLES)
    workbook = Workbook(data, Limits(max_unzipped=1 << 30, max_columns=100, max_row=100))

    with pytest.raises(XlsxError, match=r"xl/sharedStrings\.xml”含有文档类型声明"):
        workbook.read_sheet(workbook.sheets[0])


# --- The reader gives what openpyxl gives ----------------------------------------------------


SHARED = (
    f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="4" uniqueCount="4">'
    "<si><t>反馈问题</t></si>"
    '<si><r><rPr><b/></rPr><t>整改</t></r><r><t xml:space="preserve">措施 </t></r>'
    "<rPh sb=\"0\" eb=\"2\"><t>ZHENG</t></rPh></si>"
    "<si><t>市教育局</t></si>"
    "<si><t>a_x005F_x000D_b</t></si>"
    "</sst>"
)
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
    '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
    '<xf numFmtId="2"/></cellXfs></styleSheet>'
)
TYPED_SHEET = (
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
    '<dimension ref="A1:H4"/><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="inlineStr"><is><t>责任单位</t></is></c><c r="D1" t="s"><v>3</v></c></row>'
    '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><v>2.5</v></c><c r="C2" s="1"><v>46203</v></c>'
    '<c r="D2" s="2"><v>46203</v></c><c r="E2" s="3"><v>1E3</v></c><c r="F2" t="b"><v>1</v></c>'
    '<c r="G2" t="e"><v>#N/A</v></c><c r="H2" t="str"><f>A1&amp;"x"</f><v>反馈问题x</v></c>'
    "</row>"
    '<row r="4"><c t="s"><v>2</v></c><c t="inlineStr"><is><r><t>甲</t></r><r><t>乙</t></r></is>'
    '</c><c r="E4"><v>-7</v></c><c r="F4" t="str"><f>1/0</f></c></row>'
    "</sheetData></worksheet>"
)


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_the_streaming_reader_gives_the_values_openpyxl_gives():
    # Shared strings (plain, rich text with a phonetic run, Excel's _x005F_ escape), inline
    # strings, integers, floats, dates by built-in and custom formats, booleans, errors,
    # cached formula results, a formula without one, cells and a gap without references.
    data = xlsx(TYPED_SHEET, shared_strings=SHARED, styles=STYLES)
    workbook = Workbook(data, Limits(max_unzipped=1 << 30, max_columns=100, max_row=100))

    mine = workbook.read_sheet(workbook.sheets[0]).rows
    theirs = [
        list(row) for row in load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        .active.iter_rows(values_only=True)
    ]

    for row in theirs:
        while row and row[-1] is None:
            row.pop()
    assert mine == theirs
    assert mine[1][2] == mine[1][3] == dt.datetime(2026, 6, 30)
    assert mine[0][1] == "整改措施 "


@pytest.fixture
def inspection_with_chief(bureau, county, chief):
    return make_ledger(1, [bureau, county]), chief


pytestmark = pytest.mark.django_db


# --- Where an upload is parsed -------------------------------------------------------------


def test_a_small_declared_sheet_is_parsed_in_the_request_and_an_undeclared_one_by_the_worker(
    inspection_with_chief, settings, django_capture_on_commit_callbacks
):
    inspection, chief = inspection_with_chief
    declared = xlsx(sheet_xml(good_rows(), dimension="A1:D2"))
    undeclared = xlsx(sheet_xml(good_rows()))

    small = ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                                 filename="台账.xlsx", data=declared)
    large = ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                                 filename="台账.xlsx", data=undeclared)

    assert not ledger_jobs.ledger_job_is_large(small)
    # No <dimension>: its size is unknown until parsed, so the worker parses it.
    assert ledger_jobs.ledger_job_is_large(large)
    with django_capture_on_commit_callbacks() as callbacks:
        ledger_jobs.ledger_job_dispatch(large)
    assert len(callbacks) == 1  # queued for the worker after the commit
    assert LedgerJob.objects.get(pk=large.pk).state == LedgerJobState.QUEUED


def test_large_xml_goes_to_the_worker_whatever_the_sheet_declares(
    inspection_with_chief, monkeypatch
):
    inspection, chief = inspection_with_chief
    monkeypatch.setattr(ledger_jobs, "SYNC_MAX_SHEET_BYTES", 200)
    data = xlsx(sheet_xml(good_rows(), dimension="A1:D2"))

    job = ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                               filename="台账.xlsx", data=data)

    assert ledger_jobs.ledger_job_is_large(job)


def test_large_shared_strings_count_towards_the_xml_a_request_would_parse(
    inspection_with_chief, monkeypatch
):
    # A small sheet pointing into a large shared-strings part would be parsed in full.
    inspection, chief = inspection_with_chief
    padding = "".join(f"<si><t>填充{i}</t></si>" for i in range(200))
    strings = SHARED.replace("</sst>", padding + "</sst>")
    data = xlsx(sheet_xml(good_rows(), dimension="A1:D2"), shared_strings=strings)
    sheet_size = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setattr(ledger_jobs, "SYNC_MAX_SHEET_BYTES", sheet_size + 100)

    job = ledger_jobs.ledger_job_import_create(actor=chief, inspection=inspection,
                                               filename="台账.xlsx", data=data)

    assert ledger_jobs.ledger_job_is_large(job)
