"""Server-side SVG charts (pygal), inlined in the page: no script, no outside address.

pygal's default SVG loads its tooltip script from the internet; `js=[]` keeps every chart
self-contained. Colours are chosen to stay apart when printed in grey.
"""

import re

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


def buckets_by_group(title: str, rows, *, label_of=lambda row: row.label) -> SafeString:
    """A horizontal stacked bar per row: the four outcome buckets (counts of tasks)."""
    chart = pygal.HorizontalStackedBar(
        **COMMON, title=title, height=max(220, 70 + 42 * len(rows)), width=900,
        print_zeroes=False, margin_left=_label_room(label_of(row) for row in rows),
    )
    chart.x_labels = [label_of(row) for row in rows]
    for name, label in BUCKETS:
        chart.add(label, [getattr(row.figures, name) or None for row in rows])
    return _render(chart)


def buckets_pie(title: str, figures) -> SafeString:
    chart = pygal.Pie(**{**COMMON, "legend_at_bottom_columns": 2}, title=title, height=360,
                      width=480, inner_radius=0.45)
    for name, label in BUCKETS:
        chart.add(label, getattr(figures, name))
    return _render(chart)


def completion_rates(title: str, rows) -> SafeString:
    """Completion rate (%) per row, as horizontal bars."""
    chart = pygal.HorizontalBar(
        **{**COMMON, "style": LINE_STYLE, "show_legend": False}, title=title,
        height=max(220, 70 + 30 * len(rows)), width=900, range=(0, 100),
        value_formatter=lambda v: f"{v:.1f}%", margin_left=_label_room(r.label for r in rows),
    )
    chart.x_labels = [row.label for row in rows]
    chart.add("整改完成率", [float(row.figures.completion_rate) for row in rows])
    return _render(chart)


def trend_line(title: str, series: list[dict]) -> SafeString:
    chart = pygal.Line(
        **{**COMMON, "style": LINE_STYLE, "print_values": False}, title=title,
        height=360, width=900, x_label_rotation=30, range=(0, 100), secondary_range=(
            0, max([p["total_to_date"] for p in series] or [1])),
        value_formatter=lambda v: f"{v:.1f}",
    )
    chart.x_labels = [p["label"] for p in series]
    chart.add("整改完成率（%）", [p["completion_rate_to_date"] for p in series])
    chart.add("累计已完成（项）", [p["completed_to_date"] for p in series], secondary=True)
    return _render(chart)
