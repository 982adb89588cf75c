"""Pure text rules shared by the apps: the short name of a task taken from its measures, and
text made safe for the XML inside .docx and .xlsx files.

One rule for every place that names a task from its 整改措施: the ledger reader (a ledger without a
整改任务 column) and a report's 下步措施 confirmed as a task.
"""

import re

TITLE_MAX = 60

# 序号 a measure may start with: "1.", "（2）", "3、", "一是".
_ENUMERATOR = re.compile(
    r"^([（(]?[0-9一二三四五六七八九十]+[)）.、．]|[一二三四五六七八九十]+是)\s*"
)
_SENTENCE_END = re.compile(r"[。；;！!？?]")
_CLAUSE_END = re.compile(r"[，,：:]")
# A first clause shorter than this says too little to name a task ("为此，…", "一方面，…").
_SHORTEST_CLAUSE = 6

# Characters XML 1.0 cannot hold at all: the C0 controls but tab and the two line ends, lone
# surrogates and the two non-characters. Word's line break (\v) and page break (\f), which
# text pasted from Word carries, become a line end instead of vanishing.
_LINE_BREAKS = str.maketrans({"\v": "\n", "\f": "\n"})
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` as an Office document's XML can hold it (python-docx and openpyxl refuse the
    rest with an error, a 500 for whoever asked for the document)."""
    return _XML_ILLEGAL.sub("", text.translate(_LINE_BREAKS))


def _first_line(text: str) -> str:
    for line in text.replace("\u3000", " ").replace("\xa0", " ").splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def derive_title(measures: str) -> str:
    """A task's short name from its measures: the first sentence, or when that is longer than
    TITLE_MAX its first clause, else the sentence cut at TITLE_MAX with "…". The full text stays
    in the task's measures."""
    first = _ENUMERATOR.sub("", _first_line(measures))
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0].strip() or first
    if len(sentence) <= TITLE_MAX:
        return sentence
    clause = _CLAUSE_END.split(sentence, maxsplit=1)[0].strip()
    if _SHORTEST_CLAUSE <= len(clause) <= TITLE_MAX:
        return clause
    return sentence[: TITLE_MAX - 1] + "…"
