"""家庭有机动车 VEHICLE: a ``dibao`` or ``tekun`` payment where a member of the household (the
payee's 户籍 household) holds in M a vehicle of type ``car`` or ``truck``. One finding per
payment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dajiuzhu.supervision.checks.common import CheckContext, household_assets, per_payment
from dajiuzhu.supervision.checkspec import CheckSpec, EvidenceSource, plain

if TYPE_CHECKING:
    import ibis.expr.types as ir

PROGRAMMES = ("dibao", "tekun")
VEHICLE_TYPES = ("car", "truck")


def findings(ctx: CheckContext) -> ir.Table:
    pay = ctx.payments()
    pay = pay.filter(pay.program_code.isin(PROGRAMMES))
    v = ctx.lake.table("vehicles")
    held = v.filter(v.vehicle_type.isin(VEHICLE_TYPES), ctx.held_in_month(v)).select(
        member_key=v.person_key, plate_no=v.plate_no
    )
    found = household_assets(ctx, pay, held, "plate_no")
    return per_payment(found, ev_vehicles=found.ev_count.cast("int64"))


def evidence(row: dict) -> dict[str, str]:
    return {"vehicles": plain(row["ev_vehicles"])}


SPEC = CheckSpec(
    code="VEHICLE",
    label="家庭成员有机动车",
    description="低保、特困发放,领取人户籍家庭成员当月持有小汽车或货车",
    datasets=("assistance_payments", "hukou", "vehicles"),
    findings=findings,
    evidence=evidence,
    facts={"vehicles": "家庭成员持有的小汽车、货车(辆)"},
    sources=(EvidenceSource("vehicles", who="household", where={"vehicle_type": VEHICLE_TYPES}),),
    no_longer="车辆登记或户籍已更正,家庭成员当月已不持有小汽车、货车",
)
