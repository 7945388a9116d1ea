"""The administrators' export of a month's fund findings (SUPERVISION.md "Export"): CSV with
the header ``check,id_number,program_code,month,payment_id,amount`` — the payee re-identified
through the registry, ``amount`` in yuan with two decimals. Audited; the file is mode 0600."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dajiuzhu.core import crypto
from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.text import csv_writer, guard_row
from dajiuzhu.registry.models import Person
from dajiuzhu.supervision.access import EXPORT_ROLES
from dajiuzhu.supervision.checks import CHECK_CODES
from dajiuzhu.supervision.models import Finding, Status
from dajiuzhu.supervision.running import check_month

EXPORT_HEADER = ("check", "id_number", "program_code", "month", "payment_id", "amount")


@dataclass
class ExportSummary:
    month: str
    rows: int
    unknown_persons: int
    out: str


def id_numbers(keys: Iterable[int]) -> dict[int, str]:
    keys = list(set(keys))
    numbers: dict[int, str] = {}
    for start in range(0, len(keys), 500):
        for key, blob in Person.objects.filter(
            person_key__in=keys[start : start + 500]
        ).values_list("person_key", "id_number_enc"):
            numbers[key] = crypto.decrypt(blob, field="person.id_number")
    return numbers


def findings_export(*, actor: User | None, month: str, out: Path) -> ExportSummary:
    """The month's standing findings (not withdrawn), one line each."""
    if actor is not None:
        require_role(actor, EXPORT_ROLES)
    month = check_month(month)
    rows = list(
        Finding.objects.filter(month=month)
        .exclude(status=Status.WITHDRAWN)
        .values_list("check_code", "person_key", "program_code", "month", "payment_id", "amount")
    )
    numbers = id_numbers(r[1] for r in rows)
    order = {code: i for i, code in enumerate(CHECK_CODES)}
    lines = []
    unknown = 0
    for check, key, program, m, payment_id, amount in rows:
        number = numbers.get(key, "")
        unknown += not number
        lines.append((check, number, program, m, payment_id, f"{amount:.2f}"))
    lines.sort(key=lambda r: (order[r[0]], r[1], r[2], r[4]))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(guard_row(line) for line in lines)
    os.chmod(out, 0o600)
    audit_record(
        actor=actor,
        action="supervision.findings.export",
        object_type="finding",
        object_id=f"month:{month}",
        purpose=Purpose.SUPERVISION,
        label=None if actor else "cli",
        detail={"month": month, "rows": len(lines), "unknown_persons": unknown, "file": out.name},
    )
    return ExportSummary(month=month, rows=len(lines), unknown_persons=unknown, out=str(out))


# --------------------------------------------------------------------------- scorecard

SCORE_COLUMNS = [
    ("code", "区划代码"),
    ("name", "名称"),
    ("decided", "决定案件数"),
    ("decided_in_time", "按期决定数"),
    ("timeliness", "办理及时率"),
    ("warnings", "推送预警数"),
    ("closed_in_time", "按期核查数"),
    ("warning_closure", "预警按期核查率"),
    ("warnings_judged", "已核查预警数"),
    ("warnings_precise", "确需帮助数"),
    ("warning_precision", "预警精准率"),
    ("alarms", "报警数"),
    ("answered_60", "60秒内接警数"),
    ("answered_180", "180秒内接警数"),
    ("alarm_60", "60秒接警率"),
    ("alarm_180", "180秒接警率"),
    ("sampled", "抽查案件数"),
    ("sampled_with_findings", "有问题案件数"),
    ("spot_check_error_rate", "抽查差错率"),
    ("payments", "发放笔数"),
    ("confirmed", "确认违规数"),
    ("findings_per_1000", "每千笔确认违规数"),
]
TEXT_COLUMNS = frozenset({"code", "name"})


def scorecard_xlsx(card) -> bytes:
    """The scorecard (one sheet of units, one of the rules' precision) as XLSX: shares and
    rates as numbers, counts as integers, labels through the formula guard."""
    from decimal import Decimal

    from openpyxl import Workbook

    from dajiuzhu.core.text import guard_row

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"{card.month} 考核指标")
    ws.append(guard_row([label for _key, label in SCORE_COLUMNS]))
    for row in card.rows:
        line = []
        for key, _label in SCORE_COLUMNS:
            value = getattr(row, key)
            if key in TEXT_COLUMNS:
                line.append(guard_row([value])[0])
            elif isinstance(value, str):
                line.append(float(Decimal(value)))
            else:
                line.append(value)
        ws.append(line)
    rules = wb.create_sheet("预警规则精准率")
    rules.append(["规则代码", "规则", "已核查", "确需帮助", "精准率"])
    for r in card.rules:
        rules.append(
            [
                *guard_row([r.rule, r.label]),
                r.judged,
                r.precise,
                None if r.precision is None else float(Decimal(r.precision)),
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
