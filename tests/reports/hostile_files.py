"""Hostile report files, built in the test: zip bombs dressed as .docx, tables that declare
absurd dimensions, PDFs with a hundred thousand pages. Each is small on the wire."""

import io
import zipfile
import zlib
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>"


def document_xml(body: str, padding: int = 0) -> bytes:
    """A main part; `padding` bytes of spaces inside the body inflate it cheaply."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'
    return (head + body + " " * padding + "</w:body></w:document>").encode()


def hand_docx(main_part: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A .docx written part by part, so that its parts can be anything."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", main_part)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bomb(inflated: int) -> bytes:
    """A .docx whose main part inflates to `inflated` bytes of spaces (a zip bomb)."""
    return hand_docx(document_xml(paragraph("江屿市整改情况汇报。"), padding=inflated))


def docx_with_parts(count: int) -> bytes:
    return hand_docx(
        document_xml(paragraph("江屿市整改情况汇报。")),
        {f"word/media/p{n}.xml": b"<x/>" for n in range(count)},
    )


def docx_with_wide_cell(span: int) -> bytes:
    """A one-row table whose first cell declares it spans `span` grid columns."""
    cell = (f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>'
            f'{paragraph("整改任务")}</w:tc><w:tc>{paragraph("已完成")}</w:tc>')
    body = paragraph("江屿市整改情况汇报。") + f"<w:tbl><w:tr>{cell}</w:tr></w:tbl>"
    return hand_docx(document_xml(body))


def many_page_pdf(pages: int, *, declared: int | None = None, fan_out: int = 1000) -> bytes:
    """A valid PDF with `pages` empty pages whose page tree declares `declared` (default: the
    truth), as a writer lays out a long document: a root over intermediate nodes of at most
    `fan_out` pages each. Written object by object with a correct cross-reference table."""
    declared = pages if declared is None else declared
    groups = [range(start, min(start + fan_out, pages)) for start in range(0, pages, fan_out)]
    first_node, first_page = 3, 3 + len(groups)
    nodes = " ".join(f"{first_node + n} 0 R" for n in range(len(groups)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Count {declared} /Kids [{nodes}] >>".encode(),
        *(f"<< /Type /Pages /Parent 2 0 R /Count {len(group)} /Kids ["
          + " ".join(f"{first_page + n} 0 R" for n in group) + "] >>"
          for group in groups),
        *(f"<< /Type /Page /Parent {first_node + n // fan_out} 0 R /MediaBox [0 0 200 200] >>"
          for n in range(pages)),
    ]
    return _pdf_of(objects)


def pdf_with_inflating_stream(inflated: int) -> bytes:
    """A one-page PDF whose content stream inflates to `inflated` bytes of spaces: nothing
    declares that size, only reading the stream finds it (the memory cap's business)."""
    compressor = zlib.compressobj(1)
    chunk = b" " * (1024 * 1024)
    stream = b"".join(compressor.compress(chunk) for _ in range(inflated // len(chunk)))
    stream += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream
        + b"\nendstream",
    ]
    return _pdf_of(objects)


def _pdf_of(objects: list) -> bytes:
    """The objects numbered from 1, with a correct cross-reference table and trailer."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        body = body if isinstance(body, bytes) else body.encode()
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
              f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
