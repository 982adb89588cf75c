"""A supervision notice (督办单) as .docx in official-document layout (tracker.officialdoc).

Pure assembly: the notice and the parts the reader sees in, bytes out. Layout: the issuing
office's red header line, the number (督办〔2026〕3号) and colour, the title, the addressed
units, 督办事由, a table of the tasks (task, lead unit, deadline, light, reply state), 督办要求
with the reply-by date, the issuer and date.
"""

import datetime as dt
import io

from django.http import HttpResponse
from django.utils import timezone
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from tracker.deadlines import LIGHT_LABELS, task_light
from tracker.models import NoticeState
from tracker.officialdoc import SIZE_3, add_paragraph, official_document
from tracker.text import xml_safe

HEADER = "整改工作领导小组办公室"
TABLE_HEADERS = ("序号", "整改任务", "牵头单位", "完成时限", "灯色", "回复情况")
RED_INK = RGBColor(0xC0, 0x00, 0x00)


def _date_cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def build_notice_docx(*, notice, items, today: dt.date) -> bytes:
    """`items`: the notice's parts the reader sees, each annotated with `state`."""
    doc = official_document()
    header = add_paragraph(doc, HEADER + "文件", "公文标题")
    for run in header.runs:
        run.font.color.rgb = RED_INK
    number = add_paragraph(doc, notice.number, "公文副标题")
    number.paragraph_format.space_after = Pt(6)
    add_paragraph(doc, f"整改工作督办单（{notice.get_colour_display()}）", "公文标题")
    add_paragraph(doc, "", "公文正文")

    units = list(dict.fromkeys(item.unit.name for item in items))
    addressed = add_paragraph(doc, "、".join(xml_safe(name) for name in units) + "：", "Normal")
    addressed.alignment = WD_ALIGN_PARAGRAPH.LEFT

    add_paragraph(doc, "一、督办事由", "一级标题")
    add_paragraph(doc, xml_safe(notice.reason), "公文正文")

    add_paragraph(doc, "二、督办事项", "一级标题")
    table = doc.add_table(rows=1, cols=len(TABLE_HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, TABLE_HEADERS, strict=True):
        cell.paragraphs[0].text = text
        cell.paragraphs[0].style = doc.styles["表格文字"]
        cell.paragraphs[0].runs[0].font.bold = True
    for position, item in enumerate(items, start=1):
        task = item.task
        light = task_light(task.status, task.deadline, today)
        values = (
            str(position), xml_safe(task.title), xml_safe(item.unit.name),
            _date_cn(task.deadline) if task.deadline else "长期坚持",
            LIGHT_LABELS[light], NoticeState(item.state).label,
        )
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.paragraphs[0].text = text
            cell.paragraphs[0].style = doc.styles["表格文字"]

    add_paragraph(doc, "三、督办要求", "一级标题")
    if notice.requirements:
        add_paragraph(doc, xml_safe(notice.requirements), "公文正文")
    add_paragraph(
        doc,
        f"请于{_date_cn(notice.reply_by)}前将整改落实情况在整改台账系统中回复。逾期未回复的，"
        "将按有关规定予以通报。",
        "公文正文",
    )
    add_paragraph(doc, "", "公文正文")
    issued_on = timezone.localtime(notice.issued_at).date()
    for text in (HEADER, _date_cn(issued_on)):
        line = add_paragraph(doc, text, "Normal", align=WD_ALIGN_PARAGRAPH.RIGHT)
        line.paragraph_format.right_indent = Pt(SIZE_3.pt * 4)  # 右空四字
    issuer = add_paragraph(doc, f"（签发：{xml_safe(notice.issued_by.display_name)}）", "Normal",
                           align=WD_ALIGN_PARAGRAPH.RIGHT)
    issuer.paragraph_format.right_indent = Pt(SIZE_3.pt * 4)

    doc.core_properties.title = f"{notice.number} 整改工作督办单"
    doc.core_properties.author = HEADER
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def notice_docx_response(*, notice, items) -> HttpResponse:
    """The download the page and the API both answer: the notice as the reader sees it (only
    `items`, their own parts), named by its number, never cached."""
    content = build_notice_docx(notice=notice, items=items, today=timezone.localdate())
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"notice-{notice.pk}.docx\"; "
        f"filename*=UTF-8''notice-{notice.year}-{notice.sequence}.docx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
