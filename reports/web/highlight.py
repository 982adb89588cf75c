"""The cleaned text of a report cut into plain and marked pieces, by the offsets of what was
extracted from it. Pure: text and spans in, pieces out."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "figure" | "problem" | "measure"
    anchor: str  # the id of the extracted row's entry on the page


@dataclass(frozen=True)
class Piece:
    text: str
    span: Span | None = None


def pieces(text: str, spans: list[Span]) -> list[Piece]:
    """Plain text between marks, each mark its span's text. A span overlapping an earlier one
    is marked from where the earlier one ends (nothing is shown twice or lost)."""
    out: list[Piece] = []
    at = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        start = max(span.start, at)
        end = min(span.end, len(text))
        if end <= start:
            continue
        if start > at:
            out.append(Piece(text[at:start]))
        out.append(Piece(text[start:end], span))
        at = end
    if at < len(text):
        out.append(Piece(text[at:]))
    return out
