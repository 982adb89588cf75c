"""The official sentence and its rates: pure functions, no database."""

import pytest

from tracker.figures.wording import format_rate, official_sentence


def test_sentence_states_the_76_case_exactly_as_reports_do():
    assert official_sentence(
        total=76, completed=61, basically_completed=10, long_term=2, not_completed=3
    ) == (
        "细化分解为76个具体问题，已完成整改61个，基本完成整改10个，长期坚持2个，"
        "未完成整改3个，整改完成率80.3%。"
    )


def test_sentence_with_subject_counting_word_and_broad_rate():
    assert official_sentence(
        total=34, completed=6, basically_completed=0, long_term=0, not_completed=28,
        counting_word="项", subject="中央巡视组反馈问题", broad=True,
    ) == (
        "中央巡视组反馈问题细化分解为34项具体问题，已完成整改6项，基本完成整改0项，"
        "长期坚持0项，未完成整改28项，整改完成率17.6%，含基本完成整改的完成率17.6%。"
    )


def test_sentence_of_an_empty_slice_states_zero_rate():
    assert official_sentence(
        total=0, completed=0, basically_completed=0, long_term=0, not_completed=0
    ).endswith("未完成整改0个，整改完成率0.0%。")


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (61, 76, "80.3"),
        (1, 8, "12.5"),  # exact
        (1, 16, "6.3"),  # 6.25 rounds half up, not to even
        (1, 1600, "0.1"),  # 0.0625 -> 0.1
        (2, 3, "66.7"),
        (0, 5, "0.0"),
        (5, 5, "100.0"),
        (0, 0, "0.0"),  # zero guard
    ],
)
def test_rates_round_half_up_to_one_decimal(numerator, denominator, expected):
    assert format_rate(numerator, denominator) == expected
