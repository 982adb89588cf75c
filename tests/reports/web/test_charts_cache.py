"""The dashboard's charts are drawn once per set of figures: the same input is served from the
cache, and any change of a label or a value draws anew."""

from reports.web import charts
from tracker.figures.rollups import Figures, Row


def _rows(completed: int) -> list[Row]:
    return [Row(1, "市教育局", Figures(total=10, completed=completed, not_started=10 - completed)),
            Row(2, "东湖区", Figures(total=4, completed=1, in_progress=3))]


def test_the_same_figures_are_drawn_once():
    first = charts.completion_rates("各责任单位整改完成率（缓存测试）", _rows(3))
    assert charts.completion_rates("各责任单位整改完成率（缓存测试）", _rows(3)) is first


def test_changed_figures_draw_a_new_chart():
    before = charts.buckets_by_group("各巡视巡察整改情况（缓存测试）", _rows(3))
    after = charts.buckets_by_group("各巡视巡察整改情况（缓存测试）", _rows(6))
    assert after != before
    # The new count is printed on its bar (the old figures were 3, 1, 7 and 3).
    assert 'class="value">6<' in after
    assert 'class="value">6<' not in before
    renamed = charts.buckets_by_group("各巡视巡察整改情况（缓存测试）", _rows(6),
                                      label_of=lambda row: f"{row.label}（新）")
    assert "市教育局（新）" in renamed
    assert "市教育局（新）" not in after


def test_the_trend_and_the_pie_follow_their_figures():
    series = [{"label": "2026年1月", "completion_rate_to_date": 25.0, "completed_to_date": 1,
               "total_to_date": 4}]
    line = charts.trend_line("整改完成率趋势（缓存测试）", series)
    moved = charts.trend_line("整改完成率趋势（缓存测试）",
                              [{**series[0], "completion_rate_to_date": 75.0}])
    assert line != moved
    pie = charts.buckets_pie("整改任务完成情况（缓存测试）", Figures(total=4, completed=1))
    assert pie != charts.buckets_pie("整改任务完成情况（缓存测试）", Figures(total=4, completed=2))
