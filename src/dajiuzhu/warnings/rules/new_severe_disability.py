"""新增重残 NEW_SEVERE_DISABILITY: a certificate issued in Y at grade 1–2, or grade 3
intellectual/psychiatric, for a person who held no certificate at that severity before.

The person's first severe certificate (by issue date, then number; revoked ones count as held)
is the one that can warn; it must be issued in Y and still valid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.warnings.rules.common import RuleContext, event_evidence, no_amount
from dajiuzhu.warnings.rulespec import Fact, LakeEvidence, RuleSpec, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning

SEVERE_AT_GRADE_3 = ("intellectual", "psychiatric")
DISABILITY_LABELS = {
    "visual": "视力",
    "hearing": "听力",
    "speech": "言语",
    "physical": "肢体",
    "intellectual": "智力",
    "psychiatric": "精神",
    "multiple": "多重",
}
STATUS_LABELS = {"valid": "有效", "revoked": "已注销"}


def severe(certificates: ir.Table) -> ir.BooleanValue:
    return (certificates.grade <= 2) | (
        (certificates.grade == 3) & certificates.disability_kind.isin(SEVERE_AT_GRADE_3)
    )


def findings(ctx: RuleContext) -> ir.Table:
    import ibis

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


def headline(e: dict[str, str], year: int) -> str:
    kind = DISABILITY_LABELS.get(e.get("disability_kind", ""), "")
    return f"{e.get('issued_date', '')} 新办{kind}残疾{e.get('grade', '')}级"


def lake_evidence(lake: Lake, w: Warning) -> LakeEvidence:
    """The person's whole certificate history (what they held before is the point)."""
    return event_evidence(lake, w, dataset="disability_certificates")


SPEC = RuleSpec(
    code="NEW_SEVERE_DISABILITY",
    label="新增重残",
    datasets=("disability_certificates", "hukou"),
    driver="disability_certificates",
    driver_date="issued_date",
    event_column="certificate_no",
    realtime="disability_certificates",
    findings=findings,
    evidence=evidence,
    facts=(
        Fact("issued_date", "发证日期"),
        Fact("grade", "残疾等级"),
        Fact("disability_kind", "残疾类别", values=DISABILITY_LABELS),
    ),
    headline=headline,
    lake_evidence=lake_evidence,
    event_values={"disability_kind": DISABILITY_LABELS, "status": STATUS_LABELS},
)
