"""The household economic-status check: lake + registry → OpenFisca inputs → explanation.

Pure domain logic (no Django views, no writes): :func:`build_report` returns the report as
plain data; the service stores it and audits it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from dajiuzhu.exchange import lake
from dajiuzhu.policy import engine, inputs, population
from dajiuzhu.registry.models import Household, Person
from dajiuzhu.registry.selectors import age_on


@dataclass
class Member:
    person: Person
    relation: str


def _keys_sql(keys: list[int]) -> str:
    listing = ", ".join(str(int(k)) for k in keys)
    return f"(SELECT unnest([{listing}]::BIGINT[]) AS person_key)"


def _rows(con, sql: str) -> dict[int, dict]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in result.fetchall()}


def _money(value) -> float:
    return round(float(value or 0), 2)


def build_report(
    *, household: Household, members: list[Member], month: str, purpose: str, system
) -> dict:
    started = time.perf_counter()
    w = inputs.window(month)
    keys = [m.person.person_key for m in members]
    con = lake.connect(threads=2, memory_limit="1GB")
    try:
        features = _rows(con, inputs.person_features_sql(w, _keys_sql(keys), keys=keys))
        assets = _rows(con, inputs.person_assets_sql(w, _keys_sql(keys), keys=keys))
    finally:
        con.close()
    sources = [inputs.dataset_status(d, w) for d in inputs.SOURCES]
    missing = [s["title"] for s in sources if s["status"] == "unavailable"]
    stale = [s["title"] for s in sources if s["status"] == "stale"]

    ages = {m.person.pk: age_on(m.person.birth_date, w.month_end) for m in members}
    standard = population.standards(system, month, np.array([household.division_id[:6]]))[
        household.division_id[:6]
    ]
    supporters = set()  # the same definition as the population run (policy.population)
    for m in members:
        f = features[m.person.person_key]
        working_age = 18 <= ages[m.person.pk] <= 59 and int(f["disability_grade"] or 0) not in (
            1,
            2,
        )
        if working_age or (f["wage_income"] or 0) + (f["other_income"] or 0) >= standard:
            supporters.add(m.person.pk)
    homes = {h for m in members for h in (assets[m.person.person_key]["homes"] or [])}
    dibao_last_month = any(assets[k]["dibao_last_month"] for k in keys)
    household_inputs = {
        "district_code": household.division_id[:6],
        "financial_assets": _money(sum(assets[k]["deposits"] or 0 for k in keys)),
        "non_exempt_vehicles": int(sum(assets[k]["vehicles"] for k in keys)),
        "extra_residential_units": max(len(homes) - 1, 0),
        "runs_active_business": any(assets[k]["businesses"] > 0 for k in keys),
        "rigid_expenditure": _money(sum(features[k]["medical_monthly"] or 0 for k in keys)),
        "dibao_last_month": dibao_last_month,
        "last_dibao_amount": _money(max((assets[k]["dibao_amount"] or 0) for k in keys)),
    }
    people, member_rows = [], []
    for m in members:
        f = features[m.person.person_key]
        a = assets[m.person.person_key]
        person_inputs = {
            "age": ages[m.person.pk],
            "wage_income": _money(f["wage_income"]),
            "other_income": _money(f["other_income"]),
            "exempt_income": _money(f["exempt_income"]),
            "disability_grade": int(f["disability_grade"] or 0),
            "disability_kind": f["disability_kind"] or "none",
            "has_serious_illness": bool(f["has_serious_illness"]),
            "income_exemption_eligible": bool(
                dibao_last_month
                and f["first_wage_month"]
                and f["first_wage_month"] >= w.recent_month
            ),
            "has_able_supporter": bool(supporters - {m.person.pk}),
        }
        people.append({"id": str(m.person.pk), **person_inputs})
        member_rows.append(
            {
                "person_id": m.person.pk,
                "relation": m.relation,
                "inputs": person_inputs,
                "details": {
                    "wage_months": int(f["wage_months"] or 0),
                    "deposits": _money(a["deposits"]),
                    "vehicles": int(a["vehicles"]),
                    "residential_units": len(a["homes"] or []),
                    "businesses": int(a["businesses"]),
                    "medical_out_of_pocket_monthly": _money(f["medical_monthly"]),
                },
            }
        )
    explanation = engine.explain(system, month, people, household_inputs)
    return {
        "month": month,
        "purpose": purpose,
        "household_no": household.household_no,
        "district_code": household_inputs["district_code"],
        "window": {"from": w.first_month, "to": w.month},
        "members": member_rows,
        "household_inputs": household_inputs,
        "sources": sources,
        "missing": missing,
        "stale": stale,
        "not_in_data": inputs.NOT_IN_DATA,
        "explanation": explanation.to_dict(),
        "complete": not missing,
        "seconds": round(time.perf_counter() - started, 3),
        "checked_on": date.today().isoformat(),
    }
