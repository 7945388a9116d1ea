"""The administrators' CSV of every case (``dajiuzhu cases export``), with the applicant's ID
number re-identified through the registry. Audited."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dajiuzhu.cases.access import EXPORT_ROLES
from dajiuzhu.cases.selectors import EXPORT_HEADER, export_rows
from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.text import csv_writer, guard_row


@dataclass
class ExportSummary:
    rows: int
    out: str


def cases_export(*, actor: User | None, out: Path) -> ExportSummary:
    """Write the CSV (header ``EXPORT_HEADER``; dates YYYY-MM-DD; ``due_on`` the whole case's
    first limit, 30 working days for the statutory programmes) to ``out``, mode 0600."""
    if actor is not None:
        require_role(actor, EXPORT_ROLES)
    tmp = out.with_name(out.name + ".part")
    count = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(EXPORT_HEADER)
        for row in export_rows():
            writer.writerow(guard_row(row))
            count += 1
    os.replace(tmp, out)
    audit_record(
        actor=actor,
        action="case.export",
        object_type="case",
        object_id="*",
        purpose=Purpose.ADMINISTRATION,
        detail={"rows": count, "out": out.name},
        label=None if actor is not None else "cli:cases export",
    )
    return ExportSummary(rows=count, out=str(out))
