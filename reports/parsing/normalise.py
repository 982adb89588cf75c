"""The reading copy of a cleaned text: simplified characters, same length, same offsets.

The stored text keeps the script the report was written in (a traditional-character repost
stays traditional, so a quote is the report's own words). The readers match their simplified
vocabulary against a *reading copy* made here, character for character as long as the stored
text, so every offset found in the copy indexes the stored text too:

- traditional characters become simplified with OpenCC's maintained tables (t2s);
- compatibility forms of punctuation ("﹔" U+FE54, "﹐", "︰" …) become the ordinary ones;
- "己" written for "已" before a completion word ("己全部整改到位") reads as "已".
"""

import re
import unicodedata
from functools import lru_cache

# Small form variants and vertical forms: one character each after NFKC.
_COMPATIBILITY_PUNCTUATION = {
    code: normalised
    for code in (*range(0xFE10, 0xFE20), *range(0xFE30, 0xFE70))
    if len(normalised := unicodedata.normalize("NFKC", chr(code))) == 1
}
# Whether to call OpenCC at all: frequent characters that exist only in traditional script
# ("個", "為", "問題", "黨組織" …). Any report in traditional script has some of them; the
# conversion itself is OpenCC's, whole-text.
_TRADITIONAL_HINT_RE = re.compile(
    "[個們這為對會國說與於進關問題黨組織開見現實際發變處應當門長點劃務員書記區縣鎮鄉單項條]"
)
_COMPATIBILITY_RE = re.compile("[\ufe10-\ufe1f\ufe30-\ufe6f]")
_MISTYPED_ALREADY_RE = re.compile(r"己(?=全部|经|完成|整改|办结|销号)")


@lru_cache(maxsize=1)
def _converter():
    import opencc  # imported late: loading its dictionaries is only needed for traditional text

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Simplified characters, exactly as long as `text` (position i is character i)."""
    if not _TRADITIONAL_HINT_RE.search(text):
        return text  # a simplified text: OpenCC's segmentation is the costly step, skip it
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase rule changed the length somewhere: fall back to one character at a time.
    characters = []
    for character in text:
        single = _converter().convert(character)
        characters.append(single if len(single) == 1 else character)
    return "".join(characters)


def reading_copy(text: str) -> str:
    """The text the readers match against; `len(reading_copy(t)) == len(t)`."""
    if text.isascii():
        return text
    if _COMPATIBILITY_RE.search(text):
        text = text.translate(_COMPATIBILITY_PUNCTUATION)
    simplified = to_simplified(text)
    return _MISTYPED_ALREADY_RE.sub("已", simplified)
