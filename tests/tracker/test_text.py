"""Text made safe for Office files (issue #14): control characters pasted from Word no longer
break the monthly .docx or the rollup .xlsx."""

import pytest

from tracker.text import xml_safe


@pytest.mark.parametrize(("text", "safe"), [
    ("整改\x0b措施", "整改\n措施"),             # Word's line break
    ("第一页\x0c第二页", "第一页\n第二页"),      # Word's page break
    ("响\x07铃\x00空\x1f", "响铃空"),
    ("\ud800孤立代理\uffff", "孤立代理"),
    ("制表\t换行\n回车\r", "制表\t换行\n回车\r"),  # what XML allows is kept
])
def test_xml_safe_keeps_what_office_files_can_hold(text, safe):
    assert xml_safe(text) == safe
