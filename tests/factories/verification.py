"""A small, exactly known family in the lake and the registry (天宁区), delivered through the
real ingestion services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.exchange.services import batch_ingest_rows
from dajiuzhu.registry.models import Household, Person


@dataclass
class Family:
    household: Household
    head: Person
    spouse: Person
    child: Person
    numbers: dict[str, str]


def _ingest(dataset: str, rows: list[dict]) -> None:
    result = batch_ingest_rows(actor=None, token=None, dataset=dataset, rows=rows)
    assert result.batch.rejected == 0, (dataset, result.batch.pk)


NEIGHBOUR = make_id_number("320402", date(1950, 3, 3), 41)


def _neighbour_records() -> None:
    """A neighbour (another household) with a row in every source the family has none in, so
    that every dataset is loaded and reaches 2023-08 while the family's figures stay as they
    are."""
    n = NEIGHBOUR
    _ingest(
        "vehicles",
        [
            {
                "plate_no": "苏D99999",
                "id_number": n,
                "vehicle_type": "car",
                "registered_date": "2015-01-01",
                "status": "held",
            }
        ],
    )
    _ingest(
        "businesses",
        [
            {
                "credit_code": "91320402MA0000001X",
                "id_number": n,
                "role": "legal_rep",
                "registered_capital": "10000.00",
                "status": "active",
            }
        ],
    )
    _ingest(
        "disability_certificates",
        [
            {
                "certificate_no": "D-1",
                "id_number": n,
                "disability_kind": "hearing",
                "grade": 3,
                "issued_date": "2020-01-01",
                "status": "valid",
            }
        ],
    )
    _ingest(
        "medical_claims",
        [
            {
                "claim_id": "C-1",
                "id_number": n,
                "settlement_date": "2023-08-20",
                "claim_type": "outpatient",
                "total_cost": "100.00",
                "fund_paid": "50.00",
                "critical_illness_paid": "0.00",
                "assistance_paid": "0.00",
                "out_of_pocket": "50.00",
                "in_policy_out_of_pocket": "20.00",
                "hospital_code": "H1",
            }
        ],
    )
    _ingest(
        "pensions",
        [
            {
                "id_number": n,
                "month": f"2023-{m:02d}",
                "pension_type": "employee",
                "amount": "3000.00",
            }
            for m in range(1, 9)
        ],
    )
    _ingest(
        "assistance_recipients",
        [
            {
                "id_number": n,
                "program_code": "dibao",
                "household_no": "TN-NEIGHBOUR",
                "start_date": "2019-01-01",
                "monthly_amount": "500.00",
            }
        ],
    )


def load_family(
    *,
    head_wage: str = "2000.00",
    deposits: str = "10000.00",
    with_vehicle: bool = False,
    complete: bool = False,
) -> Family:
    numbers = {
        "head": make_id_number("320402", date(1978, 4, 2), 11),
        "spouse": make_id_number("320402", date(1980, 9, 9), 22),
        "child": make_id_number("320402", date(2011, 1, 15), 31),
    }
    births = {"head": "1978-04-02", "spouse": "1980-09-09", "child": "2011-01-15"}
    relation = {"head": "head", "spouse": "spouse", "child": "child"}
    names = {"head": "周建华", "spouse": "吴丽萍", "child": "周小雨"}
    _ingest(
        "hukou",
        [
            {
                "id_number": numbers[k],
                "name": names[k],
                "sex": "M" if int(numbers[k][16]) % 2 else "F",
                "birth_date": births[k],
                "household_no": "TN-FAMILY-1",
                "relation_to_head": relation[k],
                "division_code": "320402003001",
                "address": "茶山街道1号",
                "status": "normal",
            }
            for k in numbers
        ]
        + (
            [
                {
                    "id_number": NEIGHBOUR,
                    "name": "钱老伯",
                    "sex": "M",
                    "birth_date": "1950-03-03",
                    "household_no": "TN-NEIGHBOUR",
                    "relation_to_head": "head",
                    "division_code": "320402003001",
                    "address": "茶山街道2号",
                    "status": "normal",
                }
            ]
            if complete
            else []
        ),
    )
    _ingest(
        "wages",
        [
            {
                "id_number": numbers["head"],
                "month": f"{2022 + (m > 12)}-{(m - 1) % 12 + 1:02d}",
                "employer_code": "E001",
                "wage": head_wage,
            }
            for m in range(9, 21)  # 2022-09 … 2023-08
        ],
    )
    _ingest(
        "deposits",
        [
            {
                "id_number": numbers["spouse"],
                "institution_code": "B01",
                "as_of_date": "2023-07-31",
                "balance": deposits,
            }
        ],
    )
    _ingest(
        "real_estate",
        [
            {
                "property_id": "P1",
                "id_number": numbers["head"],
                "usage": "residential",
                "area_m2": "60.5",
                "registered_date": "2010-05-01",
                "status": "held",
            }
        ],
    )
    if with_vehicle:
        _ingest(
            "vehicles",
            [
                {
                    "plate_no": "苏D12345",
                    "id_number": numbers["head"],
                    "vehicle_type": "car",
                    "registered_date": "2019-01-01",
                    "status": "held",
                }
            ],
        )
    if complete:
        _neighbour_records()
    household = Household.objects.get(household_no="TN-FAMILY-1")
    people = {k: Person.objects.get(id_index=crypto.id_index(v)) for k, v in numbers.items()}
    return Family(household=household, numbers=numbers, **people)


def authorise_adults(family: Family) -> None:
    from dajiuzhu.verification.services import authorisation_record

    for person in (family.head, family.spouse):
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=timezone.localdate(),
            expires_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
        )
