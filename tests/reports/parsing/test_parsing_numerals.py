import pytest

from reports.parsing import is_redacted, parse_count


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("34", 34),
        ("３４", 34),
        ("0", 0),
        ("三十四", 34),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("一百一十一", 111),
        ("两百零四", 204),
        ("零", 0),
    ],
)
def test_counts_are_parsed(token, value):
    assert parse_count(token) == value


@pytest.mark.parametrize("token", ["*", "**", "＊", "X", "XX", "x", "××", "若干"])
def test_redactions_are_unknown_not_zero(token):
    assert is_redacted(token)
    assert parse_count(token) is None


@pytest.mark.parametrize("token", ["", "个", "三X", "十十", "3.5"])
def test_text_that_is_no_count_is_an_error(token):
    with pytest.raises(ValueError, match="not a"):
        parse_count(token)


def test_a_real_number_is_not_a_redaction():
    assert not is_redacted("34")
    assert not is_redacted("三")
