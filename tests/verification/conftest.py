"""A small, exactly known family in the lake and the registry (天宁区), delivered through the
real ingestion services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

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


def load_family(
    *, head_wage: str = "2000.00", deposits: str = "10000.00", with_vehicle: bool = False
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
        ],
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
    household = Household.objects.get(household_no="TN-FAMILY-1")
    people = {k: Person.objects.get(id_index=crypto.id_index(v)) for k, v in numbers.items()}
    return Family(household=household, numbers=numbers, **people)


@pytest.fixture
def family(db):
    return load_family()


def authorise_adults(family: Family) -> None:
    from dajiuzhu.verification.services import authorisation_record

    for person in (family.head, family.spouse):
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=date.today(),
            expires_on=date.today().replace(year=date.today().year + 1),
        )
