"""Charts of the scorecard and the 通报: server-side SVG with pygal (as the exchange and warning
dashboards draw theirs: no JavaScript), one horizontal bar per unit. WeasyPrint draws the same
SVG into the PDF."""

from __future__ import annotations

from copy import copy
from decimal import Decimal

import pygal

from dajiuzhu.exchange.charts import STYLE, render_svg

SMALL_NO_DATA = copy(STYLE)
SMALL_NO_DATA.no_data_font_size = 18  # pygal's default fills a small chart


def bar_chart(
    title: str, bars: list[tuple[str, str | None]], *, percent: bool = True, width: int = 760
) -> str:
    """``bars`` are (label, value as a decimal string or None: no bar, "—")."""
    options = {"range": (0, 1)} if percent else {}
    chart = pygal.HorizontalBar(
        style=SMALL_NO_DATA,
        js=[],
        width=width,
        height=80 + 28 * max(1, len(bars)),
        title=title,
        show_legend=False,
        truncate_label=-1,
        print_values=True,
        value_formatter=(
            (lambda v: "—" if v is None else f"{v:.1%}")
            if percent
            else (lambda v: "—" if v is None else f"{v:.2f}")
        ),
        **options,
    )
    ordered = list(reversed(bars))  # pygal draws the first bar at the bottom: first on top
    chart.x_labels = [label for label, _ in ordered]
    chart.add(title, [None if v is None else float(Decimal(v)) for _, v in ordered])
    return render_svg(chart)


TREND_SERIES = (
    ("timeliness", "办理及时率"),
    ("warning_closure", "预警按期核查率"),
    ("warning_precision", "预警精准率"),
    ("alarm_60", "60秒接警率"),
    ("spot_check_error_rate", "抽查差错率"),
)


def trend_chart(title: str, rows) -> str:
    """The shares month by month (one line per indicator; a month without a figure is a gap)."""
    chart = pygal.Line(
        style=SMALL_NO_DATA,
        js=[],
        width=760,
        height=340,
        range=(0, 1),
        title=title,
        legend_at_bottom=True,
        truncate_label=-1,
        allow_interruptions=True,
        value_formatter=lambda v: "—" if v is None else f"{v:.1%}",
    )
    chart.x_labels = [r.code for r in rows]
    for key, label in TREND_SERIES:
        values = [getattr(r, key) for r in rows]
        chart.add(label, [None if v is None else float(Decimal(v)) for v in values])
    return render_svg(chart)
