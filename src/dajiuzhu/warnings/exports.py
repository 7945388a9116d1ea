"""Exports of early warning: the year's warnings as CSV for administrators (the person
re-identified through the registry, audited), and the statistics as XLSX (per rule, town and
month; every cell through the platform's one formula guard, ``core.text.guard_cell``, as the
exchange's quarantine downloads are).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.text import csv_writer, guard_row
from dajiuzhu.registry.selectors import id_numbers_for_keys
from dajiuzhu.warnings.models import Status, Warning
from dajiuzhu.warnings.rules import RULE_CODES, RULES

EXPORT_HEADER = ("rule", "id_number", "household_no", "town_code", "event_ref", "amount")


@dataclass
class ExportSummary:
    year: int
    rows: int
    unknown_persons: int
    out: str


def warnings_export(*, actor: User | None, year: int, out: Path) -> ExportSummary:
    """The year's standing warnings (not withdrawn) as CSV for administrators, with the
    person re-identified through the registry. Audited.

    A warning about a person the registry does not know (no 户籍 record ingested) is still
    exported, with ``id_number`` empty (and ``event_ref`` empty for EARNER_DEATH, whose
    reference is the deceased's ID number); ``unknown_persons`` counts them."""
    if actor is not None:
        require_role(actor, {Role.ADMIN})
    rows = list(
        Warning.objects.filter(year=year)
        .exclude(status=Status.WITHDRAWN)
        .values_list("rule", "person_key", "household_no", "division_code", "event_ref", "amount")
    )
    numbers = id_numbers_for_keys(
        actor=actor, keys=(r[1] for r in rows), purpose=Purpose.WARNING, reason="warning.export"
    )
    order = {code: i for i, code in enumerate(RULE_CODES)}
    lines = []
    unknown = 0
    for rule, key, household_no, division_code, event_ref, amount in rows:
        number = numbers.get(key, "")
        unknown += not number
        spec = RULES[rule]
        if spec.export_person_as_ref:
            event_ref = number
        medical = spec.medical
        lines.append(
            (
                rule,
                number,
                household_no,
                division_code[:9],
                event_ref,
                f"{amount:.2f}" if medical and amount is not None else "",
            )
        )
    lines.sort(key=lambda r: (order[r[0]], r[3], r[2], r[1], r[4]))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(guard_row(EXPORT_HEADER))
        writer.writerows(guard_row(line) for line in lines)  # household numbers are 户籍 text
    os.chmod(out, 0o600)
    audit_record(
        actor=actor,
        action="warning.export",
        object_type="warning",
        object_id=f"year:{year}",
        purpose=Purpose.WARNING,
        label=None if actor else "cli",
        detail={"year": year, "rows": len(lines), "unknown_persons": unknown, "file": out.name},
    )
    return ExportSummary(year=year, rows=len(lines), unknown_persons=unknown, out=str(out))


# --------------------------------------------------------------------------- statistics

HEADER = ["", "推送", "已派发", "已核查", "帮助申请", "已纳入救助", "逾期", "已撤销", "精准度"]


def _line(r) -> list:
    precision = "" if r.precision is None else round(r.precision, 4)
    return guard_row(
        [
            r.label,
            r.pushed,
            r.assigned,
            r.investigated,
            r.helped,
            r.covered,
            r.overdue,
            r.withdrawn,
            precision,
        ]
    )


def stats_xlsx(stats) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, first, rows in (
        ("按规则", "规则", [*stats.by_rule, stats.total]),
        ("按镇街", "镇(街道)", stats.by_town),
        ("按月份", "推送月份", stats.by_month),
    ):
        ws = wb.create_sheet(title)
        ws.append(guard_row([first, *HEADER[1:]]))
        for r in rows:
            ws.append(_line(r))  # labels become guarded strings; figures stay numbers
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
