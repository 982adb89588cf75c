"""The report page's marked text: pieces cut by the offsets of what was extracted."""

from reports.web.highlight import Piece, Span, pieces


def test_text_is_cut_into_plain_and_marked_pieces_without_loss():
    figure = Span(2, 4, "figure", "figure-1")
    item = Span(6, 8, "problem", "item-2")

    result = pieces("一二三四五六七八九", [item, figure])

    assert result == [Piece("一二"), Piece("三四", figure), Piece("五六"), Piece("七八", item),
                      Piece("九")]


def test_an_overlapping_span_is_marked_from_where_the_earlier_one_ends():
    outer = Span(0, 4, "problem", "item-1")
    inner = Span(2, 6, "figure", "figure-1")

    result = pieces("一二三四五六七", [inner, outer])

    assert "".join(p.text for p in result) == "一二三四五六七"
    assert result == [Piece("一二三四", outer), Piece("五六", inner), Piece("七")]
