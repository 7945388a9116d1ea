"""The household economic-status check: lake + registry → OpenFisca inputs → explanation.

Pure domain logic (no Django views, no writes): :func:`build_report` returns the report as
plain data; the service stores it and audits it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

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


def period_month(covers_to: str) -> str:
    """The month a dataset's ``period_max`` reaches (a year reaches its December)."""
    if len(covers_to) == 4:
        return f"{covers_to}-12"
    return covers_to[:7]


def latest_data_month(sources: list[dict]) -> str | None:
    """The latest month any dated source reaches (None when none is loaded)."""
    months = [period_month(s["covers_to"]) for s in sources if s.get("covers_to")]
    return max(months, default=None)


def month_gaps(sources: list[dict], month: str) -> dict[str, tuple[str, str]]:
    """The sources a report for ``month`` lacks: never loaded, or monthly (or yearly) rows that
    stop before the month. {dataset: (title, why)}. A snapshot or event dated before the month
    (deposits as of a day, claims settled) is older data, not missing data: it is reported
    stale by its status."""
    gaps = {}
    for s in sources:
        covers_to = s.get("covers_to") or ""
        if s["status"] == "unavailable":
            gaps[s["dataset"]] = (s["title"], "尚未加载")
        elif len(covers_to) in (4, 7) and period_month(covers_to) < month:
            gaps[s["dataset"]] = (s["title"], f"数据只到{s['covers_to']}")
    return gaps


# Which inputs each source provides, and the two ends of what the missing data could hold:
# a condition (or result) is determined only if it comes out the same at both ends and for
# each source at its other end.
PERSON_SOURCES: dict[str, dict[str, tuple[Any, Any]]] = {
    "wages": {"wage_income": (0.0, 1e6), "has_able_supporter": (False, True)},
    "pensions": {"other_income": (0.0, 1e6), "exempt_income": (0.0, 1e6)},
    "disability_certificates": {
        "disability_grade": (0, 1),
        "disability_kind": ("none", "multiple"),
        "has_able_supporter": (False, True),
    },
    "medical_claims": {"has_serious_illness": (False, True)},
    "assistance_recipients": {"income_exemption_eligible": (False, True)},
}
HOUSEHOLD_SOURCES: dict[str, dict[str, tuple[Any, Any]]] = {
    "deposits": {"financial_assets": (0.0, 1e9)},
    "vehicles": {"non_exempt_vehicles": (0, 9)},
    "real_estate": {"extra_residential_units": (0, 9)},
    "businesses": {"runs_active_business": (False, True)},
    "medical_claims": {"rigid_expenditure": (0.0, 1e6)},
    "assistance_recipients": {"dibao_last_month": (False, True), "last_dibao_amount": (0.0, 1e4)},
}
# Other disabilities a missing certificate could hold (each counts differently).
DISABILITY_VARIANTS = [(1, "visual"), (1, "hearing"), (2, "physical"), (3, "intellectual")]


def variants(people: list[dict], household: dict, missing: set[str]):
    """(people, household) inputs with the missing sources' values set to other possible
    values: all low, all high, and each missing source high while the others are low."""
    known = [d for d in missing if d in PERSON_SOURCES or d in HOUSEHOLD_SOURCES]

    def setting(ends: dict[str, int]):
        ps = [dict(p) for p in people]
        h = dict(household)
        for d, end in ends.items():
            for name, values in PERSON_SOURCES.get(d, {}).items():
                for p in ps:
                    p[name] = values[end]
            for name, values in HOUSEHOLD_SOURCES.get(d, {}).items():
                h[name] = values[end]
        return ps, h

    yield setting(dict.fromkeys(known, 0))
    yield setting(dict.fromkeys(known, 1))
    if len(known) > 1:
        for d in known:
            yield setting({**dict.fromkeys(known, 0), d: 1})
    if "disability_certificates" in missing:
        for grade, kind in DISABILITY_VARIANTS:
            ps, h = setting(dict.fromkeys(known, 0))
            for p in ps:
                p["disability_grade"], p["disability_kind"] = grade, kind
            yield ps, h


def mark_undetermined(explanation: dict, others: list[dict]) -> None:
    """Mark (``undetermined``) every programme result, rule and condition of ``explanation``
    that comes out differently in any of ``others`` (the same household with the missing
    data set otherwise): those depend on data the report lacks and are never shown as met."""
    for i, p in enumerate(explanation["programmes"]):
        p["undetermined"] = any(o["programmes"][i]["eligible"] != p["eligible"] for o in others)
    for i, rule in enumerate(explanation["rules"]):
        rule["undetermined"] = any(o["rules"][i]["held"] != rule["held"] for o in others)
        for j, c in enumerate(rule["conditions"]):
            alternatives = [o["rules"][i]["conditions"][j] for o in others]
            c["undetermined"] = any(a["held"] != c["held"] for a in alternatives)
            for k, a in enumerate(c["any_of"]):
                a["undetermined"] = any(x["any_of"][k]["held"] != a["held"] for x in alternatives)


@dataclass
class Fetched:
    """The lake's rows for a set of persons and the sources' status, for one month."""

    features: dict[int, dict]
    assets: dict[int, dict]
    sources: list[dict]


# Up to this many persons, a read is a household's: on the thread's reused connection.
HOUSEHOLD_KEYS = 50


def fetch_inputs(keys: list[int], month: str) -> Fetched:
    """One lake read for the persons ``keys`` (one household, or a batch of households)."""
    w = inputs.window(month)
    if len(keys) <= HOUSEHOLD_KEYS:
        with lake.household_reads() as con:
            features = _rows(con, inputs.person_features_sql(w, _keys_sql(keys), keys=keys))
            assets = _rows(con, inputs.person_assets_sql(w, _keys_sql(keys), keys=keys))
    else:
        con = lake.connect(threads=2, memory_limit="1GB")
        try:
            features = _rows(con, inputs.person_features_sql(w, _keys_sql(keys), keys=keys))
            assets = _rows(con, inputs.person_assets_sql(w, _keys_sql(keys), keys=keys))
        finally:
            con.close()
    return Fetched(features, assets, inputs.sources_status(w))


def build_report(
    *,
    household: Household,
    members: list[Member],
    month: str,
    purpose: str,
    system,
    fetched: Fetched | None = None,
) -> dict:
    """The report of one household; ``fetched`` (from :func:`fetch_inputs` for a batch that
    includes its members) saves the lake read."""
    started = time.perf_counter()
    w = inputs.window(month)
    keys = [m.person.person_key for m in members]
    if fetched is None:
        fetched = fetch_inputs(keys, month)
    features, assets, sources = fetched.features, fetched.assets, fetched.sources
    gaps = month_gaps(sources, month)
    missing = [s["title"] for s in sources if s["dataset"] in gaps]
    stale = [s["title"] for s in sources if s["status"] == "stale" and s["dataset"] not in gaps]

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
    explanation = engine.explain(system, month, people, household_inputs).to_dict()
    if gaps:
        mark_undetermined(
            explanation,
            [
                e.to_dict()
                for e in (
                    engine.explain(system, month, p, h)
                    for p, h in variants(people, household_inputs, set(gaps))
                )
            ],
        )
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
        "gaps": [{"dataset": d, "title": t, "reason": r} for d, (t, r) in gaps.items()],
        "explanation": explanation,
        "complete": not missing,
        "seconds": round(time.perf_counter() - started, 3),
        "checked_on": timezone.localdate().isoformat(),
    }
