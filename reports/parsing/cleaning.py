"""Normalise decoded text into the canonical form that is stored and that offsets refer to.

Every offset the package reports (figures, items, sections) is an index into the text
returned by `clean_text`. Callers store that cleaned text, never the raw decoded text, so a
stored (start, end) pair always slices back to the quoted words. `clean_text` is idempotent:
cleaning cleaned text changes nothing, so extracting from stored text reproduces the offsets.

What cleaning does:
- one paragraph per line: line breaks unified to "\\n", each line stripped, blank lines dropped;
- full-width ASCII letters, digits and the ideographic space become half-width; Chinese
  punctuation (，。；：（）) is kept exactly as written, the parsers accept both forms;
- editing debris is removed: "##paidbegin##"-style markers, stray password / 提取码 lines and
  lone page-number lines ("- 3 -", "第3页", "3");
- mirror debris is repaired: pinyin that some mirror sites insert after characters
  ("環(huán)保", "個(gè)") is deleted, and HTML entities that lost their "&" ("?rdquo;") or kept
  it ("&ldquo;") become the character they name;
- redactions ("*", "X", "XX", "××", "x") are left untouched: they carry meaning (unknown).
"""

import re
from html.entities import html5

_FULL_WIDTH_OFFSET = 0xFEE0
_FULL_WIDTH_ALNUM = {
    code: code - _FULL_WIDTH_OFFSET
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(start, end + 1)
}
_TRANSLATION = {
    **_FULL_WIDTH_ALNUM,
    0x3000: " ",  # ideographic space
    0x00A0: " ",  # no-break space
    0x200B: None,  # zero-width space
    0x200C: None,
    0x200D: None,
    0xFEFF: None,  # a byte-order mark left inside the text
}
_TRANSLATED_RE = re.compile("[" + "".join(re.escape(chr(code)) for code in _TRANSLATION) + "]")

# "##paidbegin##", "##paid##", "##end##": markers left by document-sharing sites.
_DEBRIS_MARKER_RE = re.compile(r"##[A-Za-z0-9_\-]{1,40}##")
# The secret itself is printable ASCII; a sentence that mentions 密码： goes on in Chinese.
_PASSWORD_LINE_RE = re.compile(r"^.{0,20}?(?:密码|提取码|口令|访问码)\s*[:：]\s*[!-~]{1,40}$")
_PAGE_NUMBER_LINE_RE = re.compile(
    r"^(?:"
    r"[-－—–\s]*\d{1,3}[-－—–\s]*"  # "3", "- 3 -", "—3—" (a lone year stays)
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"  # "第3页", "第3页 共10页"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*/\s*\d{1,4}"  # "3/10"
    r")$"
)
_PASSWORD_LINE_MAX_LENGTH = 60

# "(huán)" right after a Chinese character; at least one tone mark, so "(a)" or "(gdp)" stay.
_TONED_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_INSERTION_RE = re.compile(
    rf"[(（](?<=[\u4e00-\u9fff][(（])(?=[a-zü]*[{_TONED_VOWELS}])[a-zü{_TONED_VOWELS}]{{1,7}}[)）]"
)
# "&ldquo;", and "?rdquo;" where a mirror replaced the "&" it could not encode. Not "&amp;":
# resolving it could make a new entity, and cleaning must stay idempotent.
_ENTITY_RE = re.compile(r"[&?](?!amp;)([A-Za-z]{2,8});")


def is_debris_line(line: str) -> bool:
    """True for a stripped line that is editing debris: a page number or a password line."""
    if _PAGE_NUMBER_LINE_RE.match(line):
        return True
    return len(line) <= _PASSWORD_LINE_MAX_LENGTH and _PASSWORD_LINE_RE.match(line) is not None


def remove_debris_markers(text: str) -> str:
    """Delete "##...##" markers; repeated until stable so that cleaning stays idempotent."""
    while True:
        stripped = _DEBRIS_MARKER_RE.sub("", text)
        if stripped == text:
            return text
        text = stripped


def remove_mirror_debris(text: str) -> str:
    """Delete inserted pinyin and resolve HTML entities (see the module docstring)."""
    text = _ENTITY_RE.sub(lambda match: html5.get(match.group(1) + ";", match.group()), text)
    while True:
        stripped = _PINYIN_INSERTION_RE.sub("", text)
        if stripped == text:
            return text
        text = stripped


def normalise_width(text: str) -> str:
    """Full-width ASCII letters/digits and ideographic spaces to half-width."""
    if not _TRANSLATED_RE.search(text):
        return text  # nothing to translate: skip the per-character table lookups
    return text.translate(_TRANSLATION)


def clean_text(raw: str) -> str:
    """Return the canonical stored text (see the module docstring)."""
    text = remove_mirror_debris(remove_debris_markers(normalise_width(raw)))
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not is_debris_line(line))
