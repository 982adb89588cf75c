"""The fingerprint of a report's content: the same report saved as UTF-8, as UTF-8 with a BOM
and CRLF line ends, as GB18030, or exported to .docx, has one fingerprint.

It is the SHA-256 of the normalised text, not of the bytes: the text as `clean_text` stores it
(line breaks unified, each line stripped of surrounding spaces, blank lines dropped, full-width
letters and digits made half-width, editing debris removed), without byte-order marks
(U+FEFF, which a GB18030 or UTF-16 file can carry as a character), in Unicode NFC.
`clean_text` is idempotent, so the stored (already cleaned) text gives the same fingerprint as
the raw text it came from; the migration that added the column relies on that.
"""

import hashlib
import unicodedata

from reports.parsing.cleaning import clean_text


def normalised_text(text: str) -> str:
    return unicodedata.normalize("NFC", clean_text(text.replace("\ufeff", "")))


def content_fingerprint(text: str) -> str:
    """64 hex digits; the same for every saving of the same report."""
    return hashlib.sha256(normalised_text(text).encode("utf-8")).hexdigest()
