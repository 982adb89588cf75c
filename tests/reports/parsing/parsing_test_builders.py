"""Build .docx and .pdf test documents at test time from the UTF-8 fixture sources."""

import io

import docx
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

PDF_FONT = "STSong-Light"  # a CID font built into reportlab: Chinese text without font files
PDF_FONT_SIZE = 11
PDF_LINE_HEIGHT = 16
PDF_TEXT_WIDTH = 480
PDF_LEFT, PDF_TOP, PDF_BOTTOM = 57, 790, 70


def make_docx(paragraphs: list[str], table_rows: list[list[str]] | None = None) -> bytes:
    """A .docx holding the paragraphs, then (if given) a table after the first paragraph."""
    document = docx.Document()
    for index, paragraph in enumerate(paragraphs):
        document.add_paragraph(paragraph)
        if index == 0 and table_rows:
            table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
            for row, values in zip(table.rows, table_rows, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(paragraphs: list[str], *, page_numbers: bool = True) -> bytes:
    """A PDF with a real text layer: paragraphs wrapped to the text width, pages numbered
    "- n -" at the foot like printed reports (debris the reader must drop)."""
    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    page = 1
    y = PDF_TOP
    for line in (wrapped for paragraph in paragraphs for wrapped in _wrap(paragraph)):
        if y < PDF_BOTTOM:
            _finish_page(pdf, page, page_numbers)
            page += 1
            y = PDF_TOP
        pdf.setFont(PDF_FONT, PDF_FONT_SIZE)
        pdf.drawString(PDF_LEFT, y, line)
        y -= PDF_LINE_HEIGHT
    _finish_page(pdf, page, page_numbers)
    pdf.save()
    return buffer.getvalue()


def make_textless_pdf() -> bytes:
    """A PDF with only drawings, like a scan: no text layer at all."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(100, 400, 300, 200, fill=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _wrap(paragraph: str) -> list[str]:
    lines, current = [], ""
    for char in paragraph:
        if pdfmetrics.stringWidth(current + char, PDF_FONT, PDF_FONT_SIZE) > PDF_TEXT_WIDTH:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current]


def _finish_page(pdf: canvas.Canvas, page: int, page_numbers: bool) -> None:
    if page_numbers:
        pdf.setFont(PDF_FONT, PDF_FONT_SIZE)
        pdf.drawCentredString(297, 40, f"- {page} -")
    pdf.showPage()
