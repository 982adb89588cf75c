"""Server-side SVG charts (pygal), inlined in the page: no script, no outside address.

pygal's default SVG loads its tooltip script from the internet; `js=[]` keeps every chart
self-contained. Colours are chosen to stay apart when printed in grey.

Drawing is the slow part of the dashboard's Python (pygal builds every SVG node and tooltip:
tens of milliseconds a chart). A chart is a pure function of its title, labels and values, so
each public function reduces its input to plain tuples and draws through an LRU cache keyed
by them: the same figures are drawn once per process, and any change draws anew.
"""

import re
from functools import lru_cache

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

FONT = ('system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", '
        '"WenQuanYi Micro Hei", sans-serif')
# 已完成整改, 基本完成整改, 长期坚持, 未完成整改: dark to light, then red.
BUCKET_COLOURS = ("#1b5e20", "#81c784", "#607d8b", "#c62828")
BUCKETS = (("completed", "已完成整改"), ("basically_completed", "基本完成整改"),
           ("long_term", "长期坚持"), ("not_completed", "未完成整改"))

STYLE = Style(
    background="white", plot_background="white", foreground="#212121",
    foreground_strong="#000", foreground_subtle="#9e9e9e", opacity="1", opacity_hover=".85",
    colors=BUCKET_COLOURS, font_family=FONT, label_font_size=13, major_label_font_size=13,
    legend_font_size=13, title_font_size=15, value_font_size=12, tooltip_font_size=12,
)
LINE_STYLE = Style(**{**STYLE.__dict__, "colors": ("#1565c0", "#1b5e20")})

INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
LABEL_CHARS = 16
COMMON = {
    "js": [],  # never the default outside script
    "disable_xml_declaration": True,
    "style": STYLE,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 4,
    "truncate_legend": -1,
    "truncate_label": LABEL_CHARS,
    "print_values": True,
    "show_y_guides": True,
}


def _label_room(labels) -> int:
    """Extra left margin for Chinese labels: pygal measures text as if every character were
    a narrow Latin one, so wide (CJK) characters would be cut off on the left."""
    longest = max((len(label) for label in labels), default=0)
    return int(min(longest, LABEL_CHARS) * STYLE.label_font_size * 0.5)



def _render(chart) -> SafeString:
    svg = chart.render(is_unicode=True)
    # pygal still writes an inline config script for its tooltip script; with js=[] nothing
    # reads it, so the page carries none.
    svg = INLINE_SCRIPT.sub("", svg)
    # Our own SVG: pygal escapes the labels and values it writes.
    return mark_safe(svg)


CACHED_CHARTS = 256  # per process and kind; a chart's SVG is a few tens of kilobytes


def buckets_by_group(title: str, rows, *, label_of=lambda row: row.label) -> SafeString:
    """A horizontal stacked bar per row: the four outcome buckets (counts of tasks)."""
    return _buckets_by_group(
        title,
        tuple(label_of(row) for row in rows),
        tuple(tuple(getattr(row.figures, name) for name, _ in BUCKETS) for row in rows),
    )


@lru_cache(maxsize=CACHED_CHARTS)
def _buckets_by_group(title: str, labels: tuple, counts: tuple) -> SafeString:
    chart = pygal.HorizontalStackedBar(
        **COMMON, title=title, height=max(220, 70 + 42 * len(labels)), width=900,
        print_zeroes=False, margin_left=_label_room(labels),
    )
    chart.x_labels = list(labels)
    for index, (_, label) in enumerate(BUCKETS):
        chart.add(label, [row[index] or None for row in counts])
    return _render(chart)


def buckets_pie(title: str, figures) -> SafeString:
    return _buckets_pie(title, tuple(getattr(figures, name) for name, _ in BUCKETS))


@lru_cache(maxsize=CACHED_CHARTS)
def _buckets_pie(title: str, counts: tuple) -> SafeString:
    chart = pygal.Pie(**{**COMMON, "legend_at_bottom_columns": 2}, title=title, height=360,
                      width=480, inner_radius=0.45)
    for (_, label), count in zip(BUCKETS, counts, strict=True):
        chart.add(label, count)
    return _render(chart)


def completion_rates(title: str, rows) -> SafeString:
    """Completion rate (%) per row, as horizontal bars."""
    return _completion_rates(
        title,
        tuple(row.label for row in rows),
        tuple(float(row.figures.completion_rate) for row in rows),
    )


@lru_cache(maxsize=CACHED_CHARTS)
def _completion_rates(title: str, labels: tuple, rates: tuple) -> SafeString:
    chart = pygal.HorizontalBar(
        **{**COMMON, "style": LINE_STYLE, "show_legend": False}, title=title,
        height=max(220, 70 + 30 * len(labels)), width=900, range=(0, 100),
        value_formatter=lambda v: f"{v:.1f}%", margin_left=_label_room(labels),
    )
    chart.x_labels = list(labels)
    chart.add("整改完成率", list(rates))
    return _render(chart)


def trend_line(title: str, series: list[dict]) -> SafeString:
    return _trend_line(
        title,
        tuple((p["label"], p["completion_rate_to_date"], p["completed_to_date"],
               p["total_to_date"]) for p in series),
    )


@lru_cache(maxsize=CACHED_CHARTS)
def _trend_line(title: str, points: tuple) -> SafeString:
    chart = pygal.Line(
        **{**COMMON, "style": LINE_STYLE, "print_values": False}, title=title,
        height=360, width=900, x_label_rotation=30, range=(0, 100), secondary_range=(
            0, max([total for *_, total in points] or [1])),
        value_formatter=lambda v: f"{v:.1f}",
    )
    chart.x_labels = [label for label, *_ in points]
    chart.add("整改完成率（%）", [rate for _, rate, _, _ in points])
    chart.add("累计已完成（项）", [done for _, _, done, _ in points], secondary=True)
    return _render(chart)
