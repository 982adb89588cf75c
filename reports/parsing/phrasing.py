"""The official progress sentence, in the reports' own phrasing. Pure: numbers in, text out.

    细化分解为76个具体问题，已完成整改61个，基本完成整改10个，长期坚持2个，未完成整改3个，
    整改完成率80.3%。

Rates are given to one decimal, rounded half up on the exact fraction (no float error), and
"0.0" when there is nothing to divide by. Every bucket is stated, zero included, so that the
four outcomes always add up to the total in the text itself.
"""


def _tenths_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator × 100, in tenths of a percent, rounded half up, exactly."""
    # x tenths = n * 1000 / d; half up = floor(x + 1/2) = floor((2 * n * 1000 + d) / (2 * d)).
    return (2 * numerator * 1000 + denominator) // (2 * denominator)


def format_rate(numerator: int, denominator: int) -> str:
    """A percentage to one decimal without the % sign: format_rate(61, 76) == "80.3"."""
    if denominator <= 0:
        return "0.0"
    tenths = _tenths_half_up(numerator, denominator)
    return f"{tenths // 10}.{tenths % 10}"


def official_sentence(
    *,
    total: int,
    completed: int,
    basically_completed: int,
    long_term: int,
    not_completed: int,
    counting_word: str = "个",
    subject: str = "",
    broad: bool = False,
) -> str:
    """The figures as a report states them upward.

    broad=True appends the broad rate (completed plus basically completed over the total) as
    "，基本完成率{broad}%" before the closing 。.
    """
    w = counting_word
    text = (
        f"{subject}细化分解为{total}{w}具体问题，已完成整改{completed}{w}，"
        f"基本完成整改{basically_completed}{w}，长期坚持{long_term}{w}，"
        f"未完成整改{not_completed}{w}，整改完成率{format_rate(completed, total)}%"
    )
    if broad:
        text += f"，基本完成率{format_rate(completed + basically_completed, total)}%"
    return text + "。"
