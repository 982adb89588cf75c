"""Reading inspection-rectification reports: bytes in, dataclasses out. No Django here.

document = read_document(data, filename)      # or DocumentError(code, message)
extraction = extract(document.text)           # cleans, then reads
store(extraction.text)                        # offsets index this cleaned text
print(json.dumps(to_json(extraction), ensure_ascii=False))
"""

from dataclasses import asdict
from typing import Any

from reports.parsing.cleaning import clean_text
from reports.parsing.extract import Count, Extraction, Figure, Metadata, extract, report_title
from reports.parsing.numerals import is_redacted, parse_count
from reports.parsing.reading import DecodedDocument, DocumentError, read_document
from reports.parsing.structure import Item, Section, parse_sections

__all__ = [
    "Count",
    "DecodedDocument",
    "DocumentError",
    "Extraction",
    "Figure",
    "Item",
    "Metadata",
    "Section",
    "clean_text",
    "extract",
    "is_redacted",
    "parse_count",
    "parse_sections",
    "read_document",
    "report_title",
    "to_json",
]


def to_json(extraction: Extraction) -> dict[str, Any]:
    """The JSON-ready object the CLI prints for one file (docs/report-json-format.md)."""

    def items(found: tuple[Item, ...] | None) -> list[dict[str, Any]] | None:
        return None if found is None else [asdict(item) for item in found]

    return {
        "figures": [asdict(figure) for figure in extraction.figures],
        "problems": items(extraction.problems),
        "measures": items(extraction.measures),
        "metadata": asdict(extraction.metadata),
    }
