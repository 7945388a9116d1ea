"""The monthly 通报 (monthly notice) of supervision as a PDF: every district and town of the city
ranked by the scorecard's indicators (``scorecard.compute``), with charts, Chinese text in the
embedded CJK font (``core.pdf``). Aggregates only: no person is named.

The overall rank of a unit is the mean of its ranks over the indicators it has a figure for
(ties by code); a unit with no figure at all is listed last, unranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.pdf import render_pdf
from dajiuzhu.core.roles import Purpose
from dajiuzhu.supervision.charts import bar_chart
from dajiuzhu.supervision.models import MonthlyNotice, Trigger
from dajiuzhu.supervision.running import check_month
from dajiuzhu.supervision.scorecard import INDICATORS, Scorecard, ScoreRow, compute, ranking

CITY = "3204"


@dataclass
class RankedRow:
    rank: int | None
    mean_rank: str
    row: ScoreRow
    ranks: dict[str, int]
    cells: list[str]


def rank_units(card: Scorecard) -> list[RankedRow]:
    ranks: dict[str, dict[str, int]] = {r.code: {} for r in card.rows}
    for indicator in INDICATORS:
        for n, row in ranking(card.rows, indicator):
            ranks[row.code][indicator] = n
    scored = []
    unranked = []
    for row in card.rows:
        mine = ranks[row.code]
        if mine:
            mean = Decimal(sum(mine.values())) / Decimal(len(mine))
            scored.append((mean, row, mine))
        else:
            unranked.append(RankedRow(None, "—", row, {}, _cells(row)))
    scored.sort(key=lambda t: (t[0], t[1].code))
    ranked = [
        RankedRow(n + 1, f"{mean:.2f}", row, mine, _cells(row))
        for n, (mean, row, mine) in enumerate(scored)
    ]
    return ranked + unranked


def _percent(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


def notice_context(month: str) -> dict:
    month = check_month(month)
    districts = list(
        Division.objects.filter(level=DivisionLevel.DISTRICT, code__startswith=CITY).order_by(
            "code"
        )
    )
    towns = list(
        Division.objects.filter(level=DivisionLevel.TOWN, code__startswith=CITY).order_by("code")
    )
    district_card = compute(month=month, level="district", units=districts)
    town_card = compute(month=month, level="town", units=towns)
    district_names = {d.code: d.name for d in districts}
    town_ranked = [r for r in rank_units(town_card) if r.rank is not None]
    charts = [
        bar_chart(
            "各区预警按期核查率",
            [(r.name, r.warning_closure) for r in district_card.rows],
        ),
        bar_chart(
            "各区抽查差错率",
            [(r.name, r.spot_check_error_rate) for r in district_card.rows],
        ),
        bar_chart(
            "各区每千笔发放确认违规数",
            [(r.name, r.findings_per_1000) for r in district_card.rows],
            percent=False,
        ),
    ]
    empty = [
        label
        for key, label in INDICATORS.items()
        if all(getattr(r, key) is None for r in district_card.rows)
    ]
    return {
        "month": month,
        "year": month[:4],
        "month_number": int(month[5:7]),
        "generated_at": timezone.localtime(),
        "districts": rank_units(district_card),
        "towns": town_ranked,
        "towns_without_data": len(town_card.rows) - len(town_ranked),
        "district_names": district_names,
        "rules": district_card.rules,
        "charts": charts,
        "empty": empty,
        "pct": _percent,
        "totals": _totals(district_card.rows),
    }


def _totals(rows: list[ScoreRow]) -> dict[str, str | int]:
    def total(name: str) -> int:
        return sum(getattr(r, name) for r in rows)

    payments, confirmed = total("payments"), total("confirmed")
    return {
        "payments": payments,
        "confirmed": confirmed,
        "warnings": total("warnings"),
        "closed_in_time": total("closed_in_time"),
        "sampled": total("sampled"),
        "sampled_with_findings": total("sampled_with_findings"),
        "decided": total("decided"),
        "decided_in_time": total("decided_in_time"),
        "alarms": total("alarms"),
        "answered_60": total("answered_60"),
    }


def notice_pdf(month: str) -> bytes:
    context = notice_context(month)
    return render_pdf("supervision/notice_pdf.html", context)


def _cells(r: ScoreRow) -> list[str]:
    return [
        _percent(r.timeliness),
        _percent(r.warning_closure),
        _percent(r.warning_precision),
        _percent(r.alarm_60),
        _percent(r.alarm_180),
        _percent(r.spot_check_error_rate),
        "—" if r.findings_per_1000 is None else r.findings_per_1000,
    ]


@transaction.atomic
def notice_generate(*, actor: User | None, month: str, trigger: str = Trigger.CLI) -> MonthlyNotice:
    """Make the month's 通报 and keep it (a second run replaces it: the figures may have moved)."""
    month = check_month(month)
    data = notice_pdf(month)
    notice, _created = MonthlyNotice.objects.update_or_create(
        month=month,
        defaults={
            "pdf": data,
            "generated_at": timezone.now(),
            "trigger": trigger,
            "size": len(data),
        },
    )
    audit_record(
        actor=actor,
        action="supervision.notice.generate",
        object_type="monthly_notice",
        object_id=notice.pk,
        purpose=Purpose.SUPERVISION,
        label=None if actor is not None else "supervision:notice",
        detail={"month": month, "bytes": len(data), "trigger": trigger},
    )
    return notice


def notice_previous_month() -> MonthlyNotice:
    """The worker's monthly run: last month's 通报."""
    today = timezone.localdate()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return notice_generate(actor=None, month=f"{year}-{month:02d}", trigger=Trigger.NIGHTLY)
