"""Reference data shipped with the code: Changzhou's divisions and the departments."""

from __future__ import annotations

import csv
from importlib import resources

from django.db import transaction

from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import CITY_CODE as CITY_CODE  # re-exported
from dajiuzhu.core.models import Department, Division
from dajiuzhu.core.roles import Purpose


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("dajiuzhu.core").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def division_rows() -> list[dict[str, str]]:
    return _rows("divisions.csv")


def department_rows() -> list[dict[str, str]]:
    return _rows("departments.csv")


@transaction.atomic
def reference_data_load() -> dict[str, int]:
    """Load (or refresh) the city, its districts and towns, and the departments. Idempotent."""
    created = 0
    for row in division_rows():  # the file lists parents before children
        parent = None if row["level"] == "city" else row["parent_code"]
        _, was_created = Division.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "level": row["level"], "parent_id": parent},
        )
        created += was_created
    departments = 0
    for row in department_rows():
        _, was_created = Department.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "kind": row["kind"]}
        )
        departments += was_created
    if created or departments:
        audit_record(
            actor=None,
            action="reference.load",
            object_type="reference",
            object_id="divisions",
            purpose=Purpose.ADMINISTRATION,
            detail={"divisions": created, "departments": departments},
        )
    return {"divisions_created": created, "departments_created": departments}
