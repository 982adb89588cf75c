"""The circular (情况通报) of a scoring period as .docx, in the official-document layout the
monthly report and the supervision notice share (tracker.officialdoc).

Pure assembly: a Scoreboard (tracker.figures.scoring) in, bytes out. Layout: the office's red
header line, the title (关于2026年5月整改工作考评情况的通报), 各责任单位：, the overall
figures, 一、表现较好的单位 and 二、进度滞后的单位 (each a table of the units and their figures),
三、计分办法 (the scheme in force), 四、工作要求, the office and the date.
"""

import datetime as dt
import io

from django.http import HttpResponse
from django.utils.encoding import escape_uri_path
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from tracker.figures.scoring import Scoreboard, UnitScore
from tracker.officialdoc import SIZE_3, add_paragraph, official_document
from tracker.text import xml_safe

HEADER = "整改工作领导小组办公室"
TABLE_HEADERS = ("名次", "单位", "得分", "到期任务", "按期销号率", "逾期工作日", "退回次数",
                 "督办次数", "逾期回复")
RED_INK = RGBColor(0xC0, 0x00, 0x00)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date_cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _table(doc, rows: list[UnitScore]) -> None:
    table = doc.add_table(rows=1, cols=len(TABLE_HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, TABLE_HEADERS, strict=True):
        cell.paragraphs[0].text = text
        cell.paragraphs[0].style = doc.styles["表格文字"]
        cell.paragraphs[0].runs[0].font.bold = True
    for row in rows:
        values = (str(row.rank), xml_safe(row.name), str(row.score), str(row.due),
                  row.on_time_rate_text, str(row.overdue_days), str(row.send_backs),
                  str(row.notices), str(row.notices_late))
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.paragraphs[0].text = text
            cell.paragraphs[0].style = doc.styles["表格文字"]


def _sentence(row: UnitScore) -> str:
    parts = [f"{xml_safe(row.name)}得分{row.score}分"]
    if row.due:
        parts.append(f"期内到期任务{row.due}项，按期销号{row.on_time}项，"
                     f"按期销号率{row.on_time_rate_text}")
    if row.overdue_tasks:
        parts.append(f"期末逾期任务{row.overdue_tasks}项、累计逾期{row.overdue_days}个工作日")
    if row.send_backs:
        parts.append(f"被退回整改{row.send_backs}次")
    if row.notices:
        parts.append(f"收到督办{row.notices}次")
    if row.notices_late:
        parts.append(f"逾期回复督办{row.notices_late}项")
    return "，".join(parts) + "。"


def build_scoring_docx(*, board: Scoreboard, office: str = HEADER, today: dt.date) -> bytes:
    doc = official_document()
    header = add_paragraph(doc, xml_safe(office) + "文件", "公文标题")
    for run in header.runs:
        run.font.color.rgb = RED_INK
    add_paragraph(doc, "", "公文正文")
    add_paragraph(doc, f"关于{board.period.label}整改工作考评情况的通报", "公文标题")
    if not board.final:
        add_paragraph(doc, f"（截至{_date_cn(board.as_of)}）", "公文副标题")
    add_paragraph(doc, "", "公文正文")
    addressed = add_paragraph(doc, "各责任单位：", "Normal")
    addressed.alignment = WD_ALIGN_PARAGRAPH.LEFT

    rows = board.rows
    due = sum(r.due for r in rows)
    on_time = sum(r.on_time for r in rows)
    overdue = sum(r.overdue_tasks for r in rows)
    send_backs = sum(r.send_backs for r in rows)
    notices, late = sum(r.notices for r in rows), sum(r.notices_late for r in rows)
    rate = f"{on_time * 100 / due:.1f}%" if due else "—"
    add_paragraph(
        doc,
        f"根据整改工作考评办法，依据整改台账记录，现将{board.period.label}各责任单位整改工作"
        f"考评情况通报如下。本期参加考评单位{len(rows)}个，期内到期任务{due}项，按期销号{on_time}项，"
        f"按期销号率{rate}；期末逾期任务{overdue}项，期内退回整改{send_backs}次，"
        f"下发督办{notices}次，逾期回复督办{late}项。",
        "公文正文",
    )

    add_paragraph(doc, "一、表现较好的单位", "一级标题")
    if board.best:
        for row in board.best:
            add_paragraph(doc, _sentence(row), "公文正文")
        _table(doc, board.best)
    else:
        add_paragraph(doc, "本期无参加考评的单位。", "公文正文")

    add_paragraph(doc, "二、进度滞后的单位", "一级标题")
    if board.lagging:
        for row in board.lagging:
            add_paragraph(doc, _sentence(row), "公文正文")
        _table(doc, board.lagging)
        add_paragraph(doc, "以上单位要认真查找原因，制定整改措施，按时限完成整改任务。", "公文正文")
    else:
        add_paragraph(doc, "本期参加考评单位较少，不列进度滞后单位。", "公文正文")

    w = board.weights
    add_paragraph(doc, "三、计分办法", "一级标题")
    add_paragraph(
        doc,
        f"按“{xml_safe(w.name)}”计分：基础分{w.base_score}分；按期销号率每低于100%一个百分点扣"
        f"{w.on_time_weight / 100:.2f}分；逾期任务每逾期1个工作日扣{w.overdue_day_weight}分；"
        f"每被退回整改1次扣{w.send_back_weight}分；每收到督办1次扣{w.notice_weight}分；"
        f"每逾期回复督办1项扣{w.notice_late_weight}分；最低0分。",
        "公文正文",
    )
    add_paragraph(doc, "四、工作要求", "一级标题")
    add_paragraph(
        doc,
        "各责任单位要对照通报情况，压实整改责任，对逾期任务逐项明确整改时限，"
        "按时回复督办事项，确保整改工作按期保质完成。",
        "公文正文",
    )
    add_paragraph(doc, "", "公文正文")
    for text in (xml_safe(office), _date_cn(today)):
        line = add_paragraph(doc, text, "Normal", align=WD_ALIGN_PARAGRAPH.RIGHT)
        line.paragraph_format.right_indent = Pt(SIZE_3.pt * 4)  # 右空四字

    doc.core_properties.title = f"关于{board.period.label}整改工作考评情况的通报"
    doc.core_properties.author = xml_safe(office)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def scoring_docx_response(*, board: Scoreboard, office: str, today: dt.date) -> HttpResponse:
    """The download the page and the API both answer, never cached."""
    content = build_scoring_docx(board=board, office=office, today=today)
    response = HttpResponse(content, content_type=DOCX)
    name = circular_filename(board)
    response["Content-Disposition"] = (
        f"attachment; filename=\"scores-{board.period.start:%Y%m%d}.docx\"; "
        f"filename*=UTF-8''{escape_uri_path(name)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def circular_filename(board: Scoreboard) -> str:
    return f"{board.period.label}整改工作考评情况通报.docx"
