"""Server-side SVG charts (pygal): no JavaScript, readable on any office PC."""

from __future__ import annotations

import re

import pygal
from django.utils import timezone
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#d9dee5",
    colors=("#b71c1c", "#1565c0", "#1b7f3b", "#a15c00"),
    font_family="'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
)


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
NO_DATA = "暂无数据"


def render_svg(chart) -> str:
    """The chart as inline SVG without pygal's scripts (the Content-Security-Policy allows
    no inline script; the charts need none) and with a Chinese "no data" text."""
    chart.config.no_data_text = NO_DATA
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def quality_chart(points, title: str) -> str:
    chart = pygal.Line(
        style=STYLE,
        js=[],
        width=760,
        height=300,
        range=(0, 1),
        show_dots=True,
        x_label_rotation=30,
        title=title,
        legend_at_bottom=True,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(points) // 8),
        truncate_label=-1,
        value_formatter=lambda v: f"{v:.1%}" if v is not None else "—",
    )
    chart.x_labels = [timezone.localtime(p.received_at).strftime("%m-%d %H:%M") for p in points]
    chart.add("完整性", [p.completeness for p in points])
    chart.add("合法性", [p.validity for p in points])
    chart.add("准确性", [p.accuracy for p in points])
    chart.add("时效性", [p.timeliness for p in points])
    return render_svg(chart)


def overview_chart(rows, title: str) -> str:
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        width=760,
        height=40 + 26 * max(1, len(rows)),
        range=(0, 1),
        title=title,
        legend_at_bottom=True,
        print_values=False,
        value_formatter=lambda v: f"{v:.1%}" if v is not None else "未报送",
    )
    chart.x_labels = [r.title for r in rows]
    chart.add("合法性", [r.validity for r in rows])
    chart.add("时效性", [r.timeliness for r in rows])
    return render_svg(chart)
