"""Server-side SVG charts of the alarm-receiving figures (pygal, no JavaScript), in the style
of the warnings and exchange dashboards."""

from __future__ import annotations

import pygal

from dajiuzhu.care.figures import TARGET_60, TARGET_180, Row
from dajiuzhu.exchange.charts import STYLE, render_svg


def _pct(v) -> str:
    return "—" if v is None else f"{v:.1%}"


def _seconds(v) -> str:
    return "—" if v is None else f"{v:,.0f} 秒"


def shares_chart(rows: list[Row], title: str) -> str:
    """Share accepted within 60 s and 180 s per group (the targets in the title)."""
    chart = pygal.Bar(
        style=STYLE,
        js=[],
        width=760,
        height=320,
        range=(0, 1),
        title=f"{title}(目标 {TARGET_60:.1%} / {TARGET_180:.0%})",
        legend_at_bottom=True,
        x_label_rotation=30 if len(rows) > 8 else 0,
        truncate_label=-1,
        value_formatter=_pct,
    )
    chart.x_labels = [r.label for r in rows]
    chart.y_labels = [0, 0.25, 0.5, 0.75, 1]
    chart.add("60 秒内接警", [r.within_60 for r in rows])
    chart.add("180 秒内接警", [r.within_180 for r in rows])
    return render_svg(chart)


def answer_chart(rows: list[Row], title: str) -> str:
    """Median and 95th percentile answer time (seconds) per group."""
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        width=760,
        height=80 + 40 * max(len(rows), 1),
        title=title,
        legend_at_bottom=True,
        truncate_label=-1,
        value_formatter=_seconds,
    )
    chart.x_labels = [r.label for r in rows]
    chart.add("中位数", [r.median_seconds for r in rows])
    chart.add("95 分位", [r.p95_seconds for r in rows])
    return render_svg(chart)
