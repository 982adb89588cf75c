"""Official-document layout (党政机关公文格式, GB/T 9704-2012) for the .docx files the tracker
writes: page setup, the paragraph styles, the page number. The monthly report's Word template
(reports.web.monthly_template) and the supervision notice (tracker.notice_docx) both build
on these.

Page setup follows GB/T 9704-2012: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right
26 mm; body 3号仿宋 on a fixed line pitch; the page number "— 1 —" in 4号宋体, odd pages on the
right and even pages on the left, one character in from the edge of the text block.
"""


from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

# GB/T 9704-2012, 5.2.1 and 5.2.2
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
# 22 lines on the 225 mm text block: a fixed pitch of 28.95 pt (the usual "固定值 28.95 磅").
LINE_PITCH = Pt(28.95)
# The page number's dashes sit 7 mm under the text block; the number itself is about 5 mm tall.
FOOTER_DISTANCE_MM = MARGINS_MM["bottom"] - 7 - 5

SIZE_2, SIZE_3, SIZE_4 = Pt(22), Pt(16), Pt(14)  # 二号、三号、四号
BODY_FONT, TITLE_FONT, HEADING_FONT, SUBTITLE_FONT = (
    "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312",
)
STYLE_IDS = {"公文标题": "DocTitle", "公文副标题": "DocSubtitle", "一级标题": "Heading1Cn",
             "公文正文": "DocBody", "表格文字": "TableText", "页码": "PageNumber"}


def _set_fonts(font_owner, family: str) -> None:
    """Latin and East Asian faces both; Word picks the East Asian one for Chinese text."""
    font_owner.font.name = family
    font_owner.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), family)


def _style(doc, name: str, *, family: str, size, bold: bool = False, center: bool = False,
           indent: bool = False, pitch=LINE_PITCH, base: str = "Normal"):
    styles = doc.styles
    if name in [existing.name for existing in styles]:
        style = styles[name]
    else:
        style = styles.add_style(name, 1)
        # ASCII ids, as Word itself writes; the Chinese name is what people see in Word.
        style.style_id = STYLE_IDS[name]
    style.base_style = styles[base] if name != base else None
    _set_fonts(style, family)
    style.font.size = size
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if pitch is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = pitch
    if center:
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)  # 首行缩进两个字
    return style


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (PAGE): begin, instruction, separate, the cached text, end."""
    def run_with(child):
        run = paragraph.add_run()
        run._r.append(child)
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run_with(text)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _page_number(doc, footer, *, right: bool) -> None:
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.style = doc.styles["页码"]
    fmt = paragraph.paragraph_format
    # 单页码居右空一字，双页码居左空一字 (one 4号 character in from the text block's edge).
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        fmt.right_indent = SIZE_4
    else:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        fmt.left_indent = SIZE_4
    paragraph.add_run("— ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" —")


def _para(doc, text: str, style: str, *, align=None):
    paragraph = doc.add_paragraph(text, style=style)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def official_document():
    """A python-docx Document with the official styles and page setup (no paragraphs yet)."""
    doc = Document()
    _style(doc, "Normal", family=BODY_FONT, size=SIZE_3, base="Normal")
    _style(doc, "公文标题", family=TITLE_FONT, size=SIZE_2, center=True, pitch=Pt(36))
    _style(doc, "公文副标题", family=SUBTITLE_FONT, size=SIZE_3, center=True)
    _style(doc, "一级标题", family=HEADING_FONT, size=SIZE_3, indent=True)
    _style(doc, "公文正文", family=BODY_FONT, size=SIZE_3, indent=True)
    _style(doc, "表格文字", family=BODY_FONT, size=Pt(12), center=True, pitch=None)
    _style(doc, "页码", family="宋体", size=SIZE_4, pitch=None)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(doc, section.footer, right=True)
    _page_number(doc, section.even_page_footer, right=False)
    return doc


# Public names for the builders of documents.
add_paragraph = _para
