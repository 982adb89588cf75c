import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.parsing import extract
from tracker.figures.wording import format_rate, official_sentence


def test_official_sentence_exact_wording():
    sentence = official_sentence(
        total=43,
        completed=35,
        basically_completed=5,
        long_term=2,
        not_completed=1,
        subject="省委第五巡视组反馈意见",
    )
    assert sentence == (
        "省委第五巡视组反馈意见细化分解为43个具体问题，已完成整改35个，基本完成整改5个，"
        "长期坚持2个，未完成整改1个，整改完成率81.4%。"
    )


def test_zero_buckets_are_stated_and_an_empty_total_rates_zero():
    sentence = official_sentence(
        total=0,
        completed=0,
        basically_completed=0,
        long_term=0,
        not_completed=0,
        counting_word="项",
    )
    assert sentence == (
        "细化分解为0项具体问题，已完成整改0项，基本完成整改0项，长期坚持0项，未完成整改0项，"
        "整改完成率0.0%。"
    )


def test_broad_rate_adds_basically_completed():
    sentence = official_sentence(
        total=8, completed=5, basically_completed=2, long_term=1, not_completed=0, broad=True
    )
    assert sentence.endswith("整改完成率62.5%，含基本完成整改的完成率87.5%。")


def test_buckets_that_do_not_add_up_are_refused():
    with pytest.raises(ValueError, match="add up"):
        official_sentence(
            total=10, completed=5, basically_completed=1, long_term=1, not_completed=1
        )


@pytest.mark.parametrize(
    ("numerator", "denominator", "rate"),
    [
        (61, 76, "80.3"),
        (1, 16, "6.3"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (0, 5, "0.0"),
        (5, 5, "100.0"),
        (0, 0, "0.0"),
        (1, 8, "12.5"),
        (1, 2000, "0.1"),
        (1, 2001, "0.0"),
    ],
)
def test_rate_has_one_decimal_rounded_half_up(numerator, denominator, rate):
    assert format_rate(numerator, denominator) == rate


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        format_rate(-1, 3)


counts = st.integers(min_value=0, max_value=100_000)


@given(
    completed=counts,
    basically_completed=counts,
    long_term=counts,
    not_completed=counts,
    counting_word=st.sampled_from("个项条件"),
    subject=st.sampled_from(["", "省委第三巡视组反馈意见", "中央巡视组反馈问题", "市委巡察"]),
    broad=st.booleans(),
)
def test_official_sentence_round_trips_through_extract(
    completed, basically_completed, long_term, not_completed, counting_word, subject, broad
):
    total = completed + basically_completed + long_term + not_completed
    sentence = official_sentence(
        total=total,
        completed=completed,
        basically_completed=basically_completed,
        long_term=long_term,
        not_completed=not_completed,
        counting_word=counting_word,
        subject=subject,
        broad=broad,
    )
    (figure,) = extract(sentence).figures
    assert (
        figure.kind,
        figure.counting_word,
        figure.total,
        figure.completed,
        figure.basically_completed,
        figure.long_term,
        figure.not_completed,
        figure.in_progress,
    ) == (
        "progress",
        counting_word,
        total,
        completed,
        basically_completed,
        long_term,
        not_completed,
        None,
    )
