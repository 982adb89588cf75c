"""Counts written in Arabic or Chinese numerals, and the redactions that hide them.

A redacted count ("*件", "XX件", "××个", "若干") is unknown: it parses to None, never to zero.
"""

import re
from functools import lru_cache

import cn2an

# Regex fragments shared by the extractors. A count token is digits, Chinese numerals, or a
# redaction placeholder standing where the digits were.
CHINESE_DIGITS = "零〇一二两三四五六七八九十百千万"
REDACTION_PATTERN = r"[*＊]+|[Xx×]{1,3}|若干"
COUNT_PATTERN = rf"(?:\d+|[{CHINESE_DIGITS}]+|{REDACTION_PATTERN})"
COUNTING_WORDS = "项个条件"

_REDACTION_RE = re.compile(rf"(?:{REDACTION_PATTERN})")
_ARABIC_RE = re.compile(r"\d+")
_CHINESE_RE = re.compile(rf"[{CHINESE_DIGITS}]+")


def is_redacted(token: str) -> bool:
    """True when the token is a placeholder hiding a number, e.g. "*", "XX", "××", "若干"."""
    return _REDACTION_RE.fullmatch(token.strip()) is not None


@lru_cache(maxsize=1024)
def parse_count(token: str) -> int | None:
    """Parse "34", "３４", "三十四", "两", "一百一十一"; None for a redaction.

    Raises ValueError for text that is neither a count nor a redaction, so that a caller's
    regex mistake never turns into a silent number.
    """
    token = token.strip()
    if is_redacted(token):
        return None
    if _ARABIC_RE.fullmatch(token):
        return int(token)  # int() also reads full-width digits
    if _CHINESE_RE.fullmatch(token):
        try:
            return int(cn2an.cn2an(token, "normal"))
        except ValueError as error:
            raise ValueError(f"not a Chinese numeral: {token!r}") from error
    raise ValueError(f"not a count: {token!r}")
