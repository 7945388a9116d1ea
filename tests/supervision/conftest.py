"""A small city for the fund checks, loaded through the real ingestion services (contract
checks, quarantine, pseudonymisation, the registry feed), with each payee named after what a
check should do with them (SUPERVISION.md "Fund checks for month M")."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from tests.factories.city import TN_COMMUNITY, WJ_COMMUNITY, City, Person

MONTH = "2024-03"
_pay = itertools.count(1)


class FundCity(City):
    def pay(self, p: Person, program: str, amount: str = "800.00", month: str = MONTH, pid=None):
        pid = pid or f"P{next(_pay):06d}"
        return self.add(
            "assistance_payments",
            payment_id=pid,
            id_number=p.id_number,
            program_code=program,
            household_no=p.household_no,
            month=month,
            amount=amount,
            paid_date=f"{month}-10",
        )

    def vehicle(self, p: Person, plate: str, kind: str, registered: str, status: str = "held"):
        return self.add(
            "vehicles",
            plate_no=plate,
            id_number=p.id_number,
            vehicle_type=kind,
            registered_date=registered,
            status=status,
        )

    def home(self, p: Person, pid: str, usage: str, registered: str, status: str = "held"):
        return self.add(
            "real_estate",
            property_id=pid,
            id_number=p.id_number,
            usage=usage,
            area_m2="60",
            registered_date=registered,
            status=status,
        )

    def business(self, p: Person, code: str, role: str, status: str = "active"):
        return self.add(
            "businesses",
            credit_code=code,
            id_number=p.id_number,
            role=role,
            registered_capital="100000.00",
            status=status,
        )


def approved(c: FundCity, label: str, program: str = "dibao", **kw) -> Person:
    """A payee with a current approval for ``program`` (so that NO_APPROVAL stays quiet)."""
    p = c.person(label, **kw)
    c.recipient(p, program, "2023-01-01")
    return p


def build_fund_city() -> FundCity:
    c = FundCity()
    # PAID_AFTER_DEATH: died in February, paid for March
    p = approved(c, "dead_before")
    c.death(p, "2024-02-20")
    c.pay(p, "dibao", pid="PD-1")
    # died in March: the month of death is not a finding
    p = approved(c, "dead_in_month")
    c.death(p, "2024-03-02")
    c.pay(p, "dibao", pid="PD-2")
    # DUPLICATE_PAYMENT: two payments for dibao in March (one finding, the sum)
    p = approved(c, "duplicate")
    c.pay(p, "dibao", "800.00", pid="DU-1")
    c.pay(p, "dibao", "750.50", pid="DU-2")
    # one payment in March and one in February: not a duplicate
    p = approved(c, "two_months")
    c.pay(p, "dibao", pid="TM-1")
    c.pay(p, "dibao", month="2024-02", pid="TM-2")
    # EXCLUSIVE: tekun and dibao in the same month
    p = c.person("exclusive")
    c.recipient(p, "tekun", "2023-01-01")
    c.recipient(p, "dibao", "2023-01-01")
    c.pay(p, "tekun", "1200.00", pid="EX-1")
    c.pay(p, "dibao", "800.00", pid="EX-2")
    # NO_APPROVAL: dibian paid with no record at all
    p = c.person("no_record")
    c.pay(p, "dibian", "400.00", pid="NA-1")
    # the approval ended before March
    p = c.person("ended")
    c.recipient(p, "zhichu", "2023-01-01", "2024-02-29")
    c.pay(p, "zhichu", "300.00", pid="NA-2")
    # approved under another programme only
    p = c.person("other_programme")
    c.recipient(p, "dibao", "2023-01-01")
    c.pay(p, "tekun", "1200.00", pid="NA-3")
    # starting on the last day of March overlaps March; linshi is not checked
    p = c.person("starts_31st")
    c.recipient(p, "dibao", "2024-03-31")
    c.pay(p, "dibao", pid="OK-1")
    p = c.person("linshi")
    c.pay(p, "linshi", "2000.00", pid="OK-2")
    # VEHICLE: a household member (the spouse) holds a car registered before the end of March
    head = approved(c, "vehicle", household_no="HV1")
    spouse = c.person("vehicle_spouse", household_no="HV1", relation="spouse")
    c.vehicle(spouse, "苏D12345", "car", "2020-05-01")
    c.pay(head, "dibao", pid="VE-1")
    # a motorcycle, a scrapped car, a car registered in April: none counts
    p = approved(c, "motorcycle", program="tekun", household_no="HV2")
    c.vehicle(p, "苏D20001", "motorcycle", "2020-05-01")
    c.vehicle(p, "苏D20002", "car", "2020-05-01", status="scrapped")
    c.vehicle(p, "苏D20003", "truck", "2024-04-01")
    c.pay(p, "tekun", "1200.00", pid="VE-2")
    # dibian is not checked for vehicles
    p = approved(c, "vehicle_dibian", program="dibian", household_no="HV3")
    c.vehicle(p, "苏D30001", "car", "2020-05-01")
    c.pay(p, "dibian", "400.00", pid="VE-3")
    # PROPERTY: two residential homes held by the household together
    head = approved(c, "property", household_no="HP1")
    child = c.person("property_child", household_no="HP1", relation="child")
    c.home(head, "PR-1", "residential", "2010-01-01")
    c.home(child, "PR-2", "residential", "2015-01-01")
    c.pay(head, "dibao", pid="PR-PAY-1")
    # one home and a shop; and one home co-owned by two members (one property)
    p = approved(c, "one_home", household_no="HP2")
    c.home(p, "PR-3", "residential", "2010-01-01")
    c.home(p, "PR-4", "commercial", "2010-01-01")
    c.pay(p, "dibao", pid="PR-PAY-2")
    a = approved(c, "co_owned", household_no="HP3")
    b = c.person("co_owned_spouse", household_no="HP3", relation="spouse")
    c.home(a, "PR-5", "residential", "2010-01-01")
    c.home(b, "PR-5", "residential", "2010-01-01")
    c.home(b, "PR-6", "residential", "2010-01-01", status="transferred")
    c.pay(a, "dibao", pid="PR-PAY-3")
    # BUSINESS: a member is a shareholder of an active business (in 武进区)
    head = approved(c, "business", household_no="HB1", division=WJ_COMMUNITY)
    c.person("business_son", household_no="HB1", relation="child", division=WJ_COMMUNITY)
    c.business(c.people["business_son"], "91320412MA1XXXXX01", "shareholder")
    c.pay(head, "dibao", pid="BU-1")
    # a closed business does not count
    p = approved(c, "closed_business", household_no="HB2")
    c.business(p, "91320402MA1XXXXX02", "legal_rep", status="closed")
    c.pay(p, "dibao", pid="BU-2")
    # a payee the 户籍 view does not know: NO_APPROVAL finds them, unrouted
    p = c.person("no_hukou", hukou=False)
    c.pay(p, "dibao", pid="NH-1")
    return c


# (check, payee, program_code, payment_id, amount)
EXPECTED = {
    ("PAID_AFTER_DEATH", "dead_before", "dibao", "PD-1", "800.00"),
    ("DUPLICATE_PAYMENT", "duplicate", "dibao", "", "1550.50"),
    ("EXCLUSIVE", "exclusive", "", "", "2000.00"),
    ("NO_APPROVAL", "no_record", "dibian", "NA-1", "400.00"),
    ("NO_APPROVAL", "ended", "zhichu", "NA-2", "300.00"),
    ("NO_APPROVAL", "other_programme", "tekun", "NA-3", "1200.00"),
    ("NO_APPROVAL", "no_hukou", "dibao", "NH-1", "800.00"),
    ("VEHICLE", "vehicle", "dibao", "VE-1", "800.00"),
    ("PROPERTY", "property", "dibao", "PR-PAY-1", "800.00"),
    ("BUSINESS", "business", "dibao", "BU-1", "800.00"),
}


def found(city: City, findings) -> set[tuple[str, str, str, str, str]]:
    labels = {p.key: label for label, p in city.people.items()}
    return {
        (
            f.check_code,
            labels.get(f.person_key, "?"),
            f.program_code,
            f.payment_id,
            f"{f.amount:.2f}",
        )
        for f in findings
    }


@pytest.fixture
def fund_city(db) -> FundCity:
    c = build_fund_city()
    c.load()
    return c


__all__ = ["MONTH", "TN_COMMUNITY", "WJ_COMMUNITY", "date"]
