from hypothesis import given
from hypothesis import strategies as st

from reports.parsing import clean_text


def test_full_width_letters_digits_and_spaces_become_half_width():
    assert clean_text("　　ＡＢｃ问题２１个") == "ABc问题21个"


def test_chinese_punctuation_is_kept_as_written():
    assert clean_text("一、总体情况（一）“两个维护”；问题：3个。") == (
        "一、总体情况（一）“两个维护”；问题：3个。"
    )


def test_debris_markers_are_removed_inline_and_as_lines():
    raw = "提出##paidbegin##意见建议5条\n##paidend##\n##paid##下一段"
    assert clean_text(raw) == "提出意见建议5条\n下一段"


def test_password_and_page_number_lines_are_removed():
    raw = (
        "正文一\n- 3 -\n第3页\n第 4 页 共 10 页\n5\n3/10\n"
        "本文档编辑密码：abc2023\n提取码: x1y2\n正文二"
    )
    assert clean_text(raw) == "正文一\n正文二"


def test_a_line_that_merely_mentions_a_password_is_kept():
    line = "严禁在文件中明文记录系统密码：各单位要落实保密责任，定期更换口令并登记备案。"
    assert clean_text(line) == line


def test_redactions_are_kept():
    raw = "立案X件，处分XX人，约谈××人次，移送*人，涉及x名干部"
    assert clean_text(raw) == raw


def test_line_breaks_and_blank_lines_are_normalised():
    assert (
        clean_text("标题\r\n\r\n\r\n  正文 \r第二段\u2029第三段\n") == "标题\n正文\n第二段\n第三段"
    )


@given(st.text())
def test_cleaning_is_idempotent(raw):
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned


@given(st.text(alphabet="##paidbegin江屿市问题3个，。\n-第页 　１Ｘ*"))
def test_cleaning_is_idempotent_on_debris_like_text(raw):
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
