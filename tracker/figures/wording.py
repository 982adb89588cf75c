"""The "official sentence" of a rollup, phrased the way the reports phrase progress.

    official_sentence(total=43, completed=35, basically_completed=5, long_term=2,
                      not_completed=1, subject="省委第五巡视组反馈意见")
    → "省委第五巡视组反馈意见细化分解为43个具体问题，已完成整改35个，基本完成整改5个，
       长期坚持2个，未完成整改1个，整改完成率81.4%。"

`extract` reads such a sentence back into one progress figure with the same numbers.
"""


def format_rate(numerator: int, denominator: int) -> str:
    """numerator / denominator as a percentage with one decimal, rounded half up ("80.3").

    Integer arithmetic, so a rate sitting exactly on a half (e.g. 1/16 = 6.25%) rounds up
    instead of following binary floating point. "0.0" when the denominator is 0.
    """
    if numerator < 0 or denominator < 0:
        raise ValueError("counts cannot be negative")
    if denominator == 0:
        return "0.0"
    tenths_of_percent = (numerator * 1000 * 2 + denominator) // (2 * denominator)
    return f"{tenths_of_percent // 10}.{tenths_of_percent % 10}"


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
    """The rollup sentence; every bucket is stated, zeros included.

    The buckets must add up to the total: a rollup that does not would report figures that
    contradict each other. With `broad=True` the broad rate (completed plus basically
    completed) is stated after the strict one.
    """
    buckets = (completed, basically_completed, long_term, not_completed)
    if min((total, *buckets)) < 0:
        raise ValueError("counts cannot be negative")
    if sum(buckets) != total:
        raise ValueError(f"buckets add up to {sum(buckets)}, not to the total {total}")
    word = counting_word
    rate = f"整改完成率{format_rate(completed, total)}%"
    if broad:
        broad_rate = format_rate(completed + basically_completed, total)
        rate += f"，含基本完成整改的完成率{broad_rate}%"
    return (
        f"{subject}细化分解为{total}{word}具体问题，已完成整改{completed}{word}，"
        f"基本完成整改{basically_completed}{word}，长期坚持{long_term}{word}，"
        f"未完成整改{not_completed}{word}，{rate}。"
    )
