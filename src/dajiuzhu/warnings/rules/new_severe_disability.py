"""新增重残 NEW_SEVERE_DISABILITY: a certificate issued in Y at grade 1–2, or grade 3
intellectual/psychiatric, for a person who held no certificate at that severity before.

The person's first severe certificate (by issue date, then number; revoked ones count as held)
is the one that can warn; it must be issued in Y and still valid."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from dajiuzhu.warnings.rules import RuleSpec, plain
from dajiuzhu.warnings.rules.common import RuleContext, no_amount

SEVERE_AT_GRADE_3 = ("intellectual", "psychiatric")


def severe(certificates: ir.Table) -> ir.BooleanValue:
    return (certificates.grade <= 2) | (
        (certificates.grade == 3) & certificates.disability_kind.isin(SEVERE_AT_GRADE_3)
    )


def findings(ctx: RuleContext) -> ir.Table:
    certificates = ctx.restrict(ctx.lake.table("disability_certificates"))
    serious = certificates.filter(severe(certificates))
    first = ibis.row_number().over(
        group_by=serious.person_key, order_by=[serious.issued_date, serious.certificate_no]
    )
    ranked = serious.mutate(_order=first)
    new = ranked.filter(
        ranked._order == 0, ctx.in_year(ranked.issued_date), ranked.status == "valid"
    )
    return new.select(
        person_key=new.person_key,
        event_ref=new.certificate_no,
        event_date=new.issued_date,
        amount=no_amount(),
        ev_grade=new.grade.cast("int64"),
        ev_kind=new.disability_kind,
    )


def evidence(row: dict) -> dict:
    return {
        "issued_date": plain(row["event_date"]),
        "grade": row["ev_grade"],
        "disability_kind": row["ev_kind"],
    }


SPEC = RuleSpec(
    code="NEW_SEVERE_DISABILITY",
    label="新增重残",
    datasets=("disability_certificates", "hukou"),
    driver="disability_certificates",
    driver_date="issued_date",
    realtime="disability_certificates",
    findings=findings,
    evidence=evidence,
    event_column="certificate_no",
)
