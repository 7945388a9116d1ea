"""Server-side SVG charts of the warnings dashboard (pygal, no JavaScript)."""

from __future__ import annotations

import pygal

from dajiuzhu.exchange.charts import STYLE, render_svg
from dajiuzhu.warnings.rules import RULES


def _count(v) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _integer_ticks(top: int) -> list[int]:
    """Whole-number y labels for counts (pygal would label fractions of small counts)."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if top / candidate <= 8:
            break
    return list(range(0, top + step, step))


def rule_chart(rows) -> str:
    chart = pygal.Bar(
        style=STYLE,
        js=[],
        width=760,
        height=320,
        title="各规则预警处置情况",
        legend_at_bottom=True,
        x_label_rotation=0,
        truncate_label=-1,
        value_formatter=_count,
    )
    chart.x_labels = [r.label for r in rows]
    chart.y_labels = _integer_ticks(max([r.pushed for r in rows] + [1]))
    chart.add("推送", [r.pushed for r in rows])
    chart.add("已派发", [r.assigned for r in rows])
    chart.add("已核查", [r.investigated for r in rows])
    chart.add("帮助申请", [r.helped for r in rows])
    return render_svg(chart)


def month_chart(by_month_rule: dict[str, dict[str, int]]) -> str:
    chart = pygal.StackedBar(
        style=STYLE,
        js=[],
        width=760,
        height=320,
        title="按月推送的预警(按规则)",
        legend_at_bottom=True,
        x_label_rotation=30,
        truncate_label=-1,
        value_formatter=_count,
    )
    months = list(by_month_rule)
    chart.x_labels = months
    chart.y_labels = _integer_ticks(max([sum(v.values()) for v in by_month_rule.values()] + [1]))
    for code, spec in RULES.items():
        chart.add(spec.label, [by_month_rule[m][code] for m in months])
    return render_svg(chart)


def precision_chart(rows) -> str:
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        width=760,
        height=60 + 30 * len(rows),
        range=(0, 1),
        title="各规则精准度(已核查中帮助申请或已纳入救助的比例)",
        legend_at_bottom=True,
        value_formatter=lambda v: "—" if v is None else f"{v:.1%}",
    )
    chart.x_labels = [r.label for r in rows]
    chart.add("精准度", [r.precision for r in rows])
    return render_svg(chart)


def monthly_chart(monthly: list[dict], year: int) -> str:
    """A medical warning's out-of-pocket by month, stacked by claim type."""
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    kinds = sorted({r["claim_type"] for r in monthly})
    chart = pygal.StackedBar(
        style=STYLE,
        js=[],
        width=760,
        height=280,
        title=f"{year}年个人自负(元,按月、就诊类型)",
        legend_at_bottom=True,
        x_label_rotation=30,
        value_formatter=lambda v: "—" if v is None else f"{v:,.2f}",
    )
    chart.x_labels = [m[5:] + "月" for m in months]
    for kind in kinds:
        by_month = {
            r["month"]: float(r["out_of_pocket"]) for r in monthly if r["claim_type"] == kind
        }
        chart.add(kind, [by_month.get(m) for m in months])
    return render_svg(chart)
