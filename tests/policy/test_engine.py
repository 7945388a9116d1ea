"""The platform's API over the rules: vectorised simulate, explain, dated parameter values.

The property test checks three ways of computing the same households against each other:
the vectorised ``simulate`` over all of them at once, ``simulate`` one household at a time,
``explain``, and a plain scalar transcription of RULES.md in exact decimal arithmetic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from dajiuzhu.policy.engine import (
    ParameterValue,
    PolicyError,
    build_system,
    explain,
    simulate,
    validate_parameter_value,
)

# ------------------------------------------------------------------ RULES.md, transcribed

STANDARD = {"2022-08": 1005, "2023-06": 1005, "2023-07": 1070, "2023-08": 1070, "2024-01": 1070}
PREVIOUS_YEAR_INCOME = {"2022": 52080, "2023": 59514, "2024": 59514}  # 2021 keeps 2020's value
CARE = {"full": 230, "partial": 690, "none": 1380}
KINDS = [
    "none",
    "visual",
    "hearing",
    "speech",
    "physical",
    "intellectual",
    "psychiatric",
    "multiple",
]
D = Decimal


def fen(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), ROUND_HALF_UP)


def yuan(x: Decimal) -> Decimal:
    return fen(x).quantize(D("1"), ROUND_HALF_UP)


def money(x: float) -> Decimal:
    return D(f"{x:.2f}")


def reference(period: str, persons: list[dict], household: dict) -> dict:
    """RULES.md, line by line, for one household (exact decimals, half-up rounding)."""
    s = D(STANDARD[period])
    n = len(persons)
    rows = []
    for p in persons:
        wage = money(p["wage_income"])
        deduction = fen(min(D("0.20") * wage, D(500)))
        exempt = fen(min(wage - deduction, s)) if p["income_exemption_eligible"] else D(0)
        rows.append(wage - deduction - exempt + money(p["other_income"]))
    counted = sum(rows, D(0))
    ipm = fen(counted / n)
    fa_pm = fen(money(household["financial_assets"]) / n)
    no_property = (
        household["non_exempt_vehicles"] == 0
        and household["extra_residential_units"] == 0
        and not household["runs_active_business"]
    )
    assets = fa_pm <= 24 * s and no_property
    dibao = ipm < s and assets
    base = fen(max(s * n - counted, D("0.10") * s * n))
    refusers = sum(p["work_refusals"] >= 3 for p in persons)
    extras = sum(
        p["work_refusals"] < 3
        and (p["age"] >= 70 or p["age"] < 18 or p["disability_grade"] in (1, 2))
        for p in persons
    )
    computed = yuan(base * (n - refusers) / n + fen(D("0.10") * s * extras))
    limit = fen(D("1.5") * s)
    gradual = (
        not dibao
        and household["dibao_last_month"]
        and s <= ipm < limit
        and assets
        and household["gradual_exit_months_used"] < 6
    )
    if dibao:
        amount = computed
    elif gradual:
        amount = fen(money(household["last_dibao_amount"]))
    else:
        amount = D(0)
    dibian = not dibao and not gradual and ipm < limit and assets
    after_rigid = fen((counted - money(household["rigid_expenditure"])) / n)
    zhichu = (
        not dibao
        and after_rigid < s
        and fen(ipm * 12) < PREVIOUS_YEAR_INCOME[period[:4]]
        and fa_pm <= 48 * s
        and no_property
    )
    out_persons = []
    for p, cpi in zip(persons, rows, strict=True):
        severe = p["disability_grade"] in (1, 2) or (
            p["disability_grade"] == 3 and p["disability_kind"] in ("intellectual", "psychiatric")
        )
        single = not dibao and ipm < limit and assets and (severe or p["has_serious_illness"])
        single_amount = yuan(max(s - cpi, D("0.10") * s)) if single else D(0)
        grade, kind = p["disability_grade"], p["disability_kind"]
        unable_to_work = (
            p["age"] >= 60
            or p["age"] < 16
            or (kind in ("physical", "multiple") and grade in (1, 2))
            or (kind == "visual" and grade == 1)
            or (kind in ("intellectual", "psychiatric") and grade in (1, 2, 3))
        )
        tekun = unable_to_work and cpi < s and assets and not p["has_able_supporter"]
        support_standard = fen(D("1.3") * s)
        support = yuan(support_standard + CARE[p["self_care_level"]]) if tekun else D(0)
        if tekun:
            rate = 1.0
        elif dibao or gradual or single:
            rate = 0.9
        elif dibian:
            rate = 0.8
        elif zhichu:
            rate = 0.7
        else:
            rate = 0.0
        out_persons.append(
            {
                "counted_person_income": float(cpi),
                "single_person_dibao_eligible": single,
                "single_person_dibao_amount": float(single_amount),
                "tekun_eligible": tekun,
                "tekun_support": float(support),
                "medical_assistance_rate": rate,
            }
        )
    return {
        "household": {
            "counted_income": float(counted),
            "income_per_member": float(ipm),
            "assets_within_limits": assets,
            "dibao_eligible": dibao,
            "dibao_gradual_exit": gradual,
            "dibao_amount": float(amount),
            "dibian_eligible": dibian,
            "zhichu_eligible": zhichu,
        },
        "persons": out_persons,
    }


HOUSEHOLD_OUTPUTS = [
    "counted_income",
    "income_per_member",
    "assets_within_limits",
    "dibao_eligible",
    "dibao_gradual_exit",
    "dibao_amount",
    "dibian_eligible",
    "zhichu_eligible",
]
PERSON_OUTPUTS = [
    "counted_person_income",
    "single_person_dibao_eligible",
    "single_person_dibao_amount",
    "tekun_eligible",
    "tekun_support",
    "medical_assistance_rate",
]


# ---------------------------------------------------------------------- random households


@dataclass
class Population:
    period: str
    persons: list[list[dict]]  # per household
    households: list[dict]


def _fen_amount(rng: np.random.Generator, s: int, n: int) -> float:
    """An income near the thresholds that matter, often exactly on one."""
    targets = [s, 1.5 * s, 1.3 * s, s - 0.01, 1.5 * s - 0.01, 1.3 * s - 0.01, 0.5 * s, 0.0]
    if rng.random() < 0.5:
        return round(float(rng.choice(targets)) * n, 2)
    return round(float(rng.integers(0, 400_000)) / 100, 2)


def random_population(seed: int, households: int, period: str) -> Population:
    rng = np.random.default_rng(seed)
    s = STANDARD[period]
    all_persons, all_households = [], []
    for _ in range(households):
        n = int(rng.integers(1, 6))
        members = []
        for _ in range(n):
            grade = int(rng.choice([0, 0, 0, 1, 2, 3, 4]))
            members.append(
                {
                    "age": int(rng.choice([5, 15, 16, 17, 18, 40, 59, 60, 69, 70, 85])),
                    "disability_grade": grade,
                    "disability_kind": KINDS[int(rng.integers(1, 8))] if grade else "none",
                    "has_serious_illness": bool(rng.random() < 0.1),
                    "wage_income": _fen_amount(rng, s, 1) if rng.random() < 0.4 else 0.0,
                    # a member's share of a household total that sits on a threshold
                    "other_income": _fen_amount(rng, s, n) / n if rng.random() < 0.6 else 0.0,
                    "exempt_income": round(float(rng.integers(0, 50_000)) / 100, 2),
                    "income_exemption_eligible": bool(rng.random() < 0.2),
                    "work_refusals": int(rng.choice([0, 0, 0, 2, 3, 5])),
                    "has_able_supporter": bool(rng.random() < 0.5),
                    "self_care_level": str(rng.choice(["full", "partial", "none"])),
                }
            )
        for m in members:
            m["other_income"] = round(m["other_income"], 2)
        fa_choice = rng.choice(["none", "at24", "over24", "at48", "random"])
        fa = {
            "none": 0.0,
            "at24": 24.0 * s * n,
            "over24": 24.0 * s * n + 0.01 * n,
            "at48": 48.0 * s * n,
            "random": round(float(rng.integers(0, 6_000_000)) / 100, 2),
        }[str(fa_choice)]
        all_households.append(
            {
                "district_code": str(
                    rng.choice(["320402", "320404", "320411", "320412", "320413", "320481"])
                ),
                "financial_assets": fa,
                "non_exempt_vehicles": int(rng.random() < 0.1),
                "extra_residential_units": int(rng.random() < 0.1),
                "runs_active_business": bool(rng.random() < 0.1),
                "rigid_expenditure": round(float(rng.integers(0, 500_000)) / 100, 2),
                "dibao_last_month": bool(rng.random() < 0.4),
                "gradual_exit_months_used": int(rng.integers(0, 9)),
                "last_dibao_amount": round(float(rng.integers(0, 300_000)) / 100, 2),
            }
        )
        all_persons.append(members)
    return Population(period, all_persons, all_households)


def columns(population: Population):
    flat = [p for members in population.persons for p in members]
    index = np.repeat(np.arange(len(population.persons)), [len(m) for m in population.persons])
    persons = {k: np.array([p[k] for p in flat]) for k in flat[0]}
    households = {
        k: np.array([h[k] for h in population.households]) for k in population.households[0]
    }
    return persons, households, index


@pytest.fixture(scope="module")
def system():
    return build_system()


@pytest.mark.parametrize(("seed", "period"), [(1, "2023-08"), (2, "2022-08"), (3, "2024-01")])
def test_vectorised_simulate_agrees_with_rules_per_household_runs_and_explain(system, seed, period):
    population = random_population(seed, 250 if seed == 1 else 120, period)
    persons, households, index = columns(population)
    result = simulate(
        system, period, persons, households, index, HOUSEHOLD_OUTPUTS + PERSON_OUTPUTS
    )
    assert result["dibao_amount"].dtype == np.float64

    first_person = 0
    for h, (members, household) in enumerate(
        zip(population.persons, population.households, strict=True)
    ):
        expected = reference(period, members, household)
        where = f"household {h}: {household} {members}"
        for name in HOUSEHOLD_OUTPUTS:
            assert result[name][h] == expected["household"][name], f"{name} of {where}"
        for i, expected_person in enumerate(expected["persons"]):
            for name in PERSON_OUTPUTS:
                assert result[name][first_person + i] == expected_person[name], (
                    f"{name} of person {i} of {where}"
                )

        if h % 3 == 0:  # one household at a time, through simulate and explain
            one_persons = {k: np.array([m[k] for m in members]) for k in members[0]}
            one_households = {k: np.array([v]) for k, v in household.items()}
            single = simulate(
                system,
                period,
                one_persons,
                one_households,
                np.zeros(len(members), dtype=np.int64),
                HOUSEHOLD_OUTPUTS + PERSON_OUTPUTS,
            )
            for name in HOUSEHOLD_OUTPUTS:
                assert single[name][0] == result[name][h], f"{name} of {where}"
            for name in PERSON_OUTPUTS:
                np.testing.assert_array_equal(
                    single[name], result[name][first_person : first_person + len(members)]
                )
            explanation = explain(system, period, members, household)
            _check_explanation(explanation, expected, result, h, first_person)
        first_person += len(members)


def _check_explanation(explanation, expected, result, h, first_person):
    eh = expected["household"]
    assert explanation.programme("dibao").eligible == eh["dibao_eligible"]
    assert explanation.programme("dibao_gradual_exit").eligible == eh["dibao_gradual_exit"]
    dibao_amount = (
        explanation.programme("dibao").amount + explanation.programme("dibao_gradual_exit").amount
    )
    assert dibao_amount == eh["dibao_amount"] == result["dibao_amount"][h]
    assert explanation.programme("dibian").eligible == eh["dibian_eligible"]
    assert explanation.programme("zhichu").eligible == eh["zhichu_eligible"]
    for i, pid in enumerate(explanation.person_ids):
        ep = expected["persons"][i]
        single = explanation.programme("single_person_dibao", pid)
        assert (single.eligible, single.amount) == (
            ep["single_person_dibao_eligible"],
            ep["single_person_dibao_amount"],
        )
        tekun = explanation.programme("tekun", pid)
        assert (tekun.eligible, tekun.amount) == (ep["tekun_eligible"], ep["tekun_support"])
        assert explanation.programme("yiliao", pid).rate == ep["medical_assistance_rate"]
        assert result["medical_assistance_rate"][first_person + i] == ep["medical_assistance_rate"]
    # Every yes/no rule is exactly the conjunction of its conditions; a condition made of
    # alternatives holds exactly when one of them does.
    for rule in explanation.rules:
        if rule.conditions and rule.rule != "medical_assistance_rate":
            assert rule.held == all(c.held for c in rule.conditions), rule
        for condition in rule.conditions:
            if condition.any_of:
                assert condition.held == any(c.held for c in condition.any_of), condition
    json.dumps(explanation.to_dict(), ensure_ascii=False)


# ------------------------------------------------------------------------------- explain


def test_explain_gives_each_condition_with_its_numbers(system):
    explanation = explain(
        system,
        "2023-08",
        [{"id": "father", "age": 45, "wage_income": 2031.25}, {"id": "son", "age": 12}],
        {"district_code": "320402", "financial_assets": 30000},
    )
    data = json.loads(json.dumps(explanation.to_dict(), ensure_ascii=False))
    dibao = next(r for r in data["rules"] if r["rule"] == "dibao_eligible")
    assert dibao["held"] is True
    assert dibao["conditions"][0] == {
        "label_zh": "人均收入低于低保标准",
        "held": True,
        "left": 812.5,  # (2,031.25 − 406.25) / 2
        "op": "<",
        "right": 1070.0,
        "any_of": [],
    }
    assets = next(r for r in data["rules"] if r["rule"] == "assets_within_limits")
    assert assets["conditions"][0]["left"] == 15000.0
    assert assets["conditions"][0]["right"] == 25680.0
    # base = 2 × 1,070 − 1,625 = 515; 10% × 1,070 = 107 more for the son
    assert explanation.programme("dibao").amount == 622
    amount = explanation.rule("dibao_computed_amount")
    assert [step.value for step in amount.steps] == [515.0, 0, 0.0, 1, 107.0, 622.0]


def test_explain_reports_tekun_and_single_person_per_person(system):
    explanation = explain(
        system,
        "2023-08",
        [
            {"id": "mother", "age": 55, "other_income": 2600},
            {
                "id": "daughter",
                "age": 30,
                "disability_grade": 3,
                "disability_kind": "intellectual",
                "has_able_supporter": True,
            },
        ],
        {"district_code": "320412"},
    )
    single = explanation.rule("single_person_dibao_eligible", "daughter")
    assert single.held is True
    category = single.conditions[-1]
    assert [c.held for c in category.any_of] == [False, True, False]
    tekun = explanation.rule("tekun_eligible", "daughter")
    assert tekun.held is False
    assert tekun.conditions[-1].held is False  # has an able supporter
    assert explanation.programme("yiliao", "daughter").rate == 0.9
    assert explanation.programme("yiliao", "mother").rate == 0.8


# -------------------------------------------------------------------- parameter overrides

NEW_STANDARD = ParameterValue("dibao.standard.320402", date(2024, 7, 1), 1130, "常州市示例文件")


def _standard(system, period: str, district: str = "320402") -> float:
    result = simulate(
        system,
        period,
        {"age": np.array([40])},
        {"district_code": np.array([district])},
        np.array([0]),
        ["dibao_standard"],
    )
    return float(result["dibao_standard"][0])


def test_a_new_dated_standard_takes_effect_from_its_month(system):
    overridden = build_system([NEW_STANDARD])
    assert _standard(overridden, "2024-06") == 1070
    assert _standard(overridden, "2024-07") == 1130
    assert _standard(overridden, "2024-07", "320404") == 1070  # another district
    assert _standard(system, "2024-07") == 1070  # the base system is untouched
    assert build_system([NEW_STANDARD]) is overridden  # cached


def test_an_override_changes_eligibility(system):
    overridden = build_system([NEW_STANDARD])
    args = ({"age": np.array([40]), "other_income": np.array([1100.0])},)
    households = {"district_code": np.array(["320402"])}
    before = simulate(overridden, "2024-06", *args, households, np.array([0]), ["dibao_amount"])
    after = simulate(overridden, "2024-07", *args, households, np.array([0]), ["dibao_amount"])
    assert before["dibao_amount"][0] == 0
    assert after["dibao_amount"][0] == 113  # max(1,130 − 1,100, 113)


def test_several_values_apply_in_date_order():
    values = [
        ParameterValue("dibian.multiplier", date(2025, 1, 1), 1.6, "示例"),
        ParameterValue("dibian.multiplier", date(2024, 1, 1), 1.55, "示例"),
    ]
    overridden = build_system(values)
    multiplier = overridden.parameters.dibian.multiplier
    assert multiplier("2023-12-01") == 1.5
    assert multiplier("2024-06-01") == 1.55
    assert multiplier("2025-06-01") == 1.6


def test_a_value_already_in_the_yaml_is_skipped_but_a_conflicting_one_is_refused():
    same = ParameterValue("dibao.standard.320402", date(2023, 7, 1), 1070, "示例")
    assert build_system([same]).parameters.dibao.standard.children["320402"]("2023-08-01") == 1070
    with pytest.raises(PolicyError) as error:
        build_system([ParameterValue("dibao.standard.320402", date(2023, 7, 1), 1080, "示例")])
    assert error.value.code == "duplicate_start"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (ParameterValue("dibao.standard.320402", date(2024, 7, 1), -1, "示例"), "negative"),
        (
            ParameterValue("dibao.standard.320402", date(2023, 7, 1), 1100, "示例"),
            "duplicate_start",
        ),
        (ParameterValue("dibao.standard.320402", date(2023, 1, 1), 1100, "示例"), "overlap"),
        (ParameterValue("dibao.standard.320402", date(2021, 7, 1), 960, "示例"), "overlap"),
        (
            ParameterValue("dibao.standard.999999", date(2024, 7, 1), 1100, "示例"),
            "unknown_parameter",
        ),
        (ParameterValue("dibao.standard", date(2024, 7, 1), 1100, "示例"), "unknown_parameter"),
        (ParameterValue("dibao.nothing", date(2024, 7, 1), 1100, "示例"), "unknown_parameter"),
        (ParameterValue("dibao.standard.320402", date(2024, 7, 1), "1100", "示例"), "not_numeric"),
        (ParameterValue("dibao.standard.320402", date(2024, 7, 1), None, "示例"), "not_numeric"),
        (ParameterValue("dibao.standard.320402", date(2024, 7, 1), True, "示例"), "not_numeric"),
        (
            ParameterValue("dibao.standard.320402", date(2024, 7, 1), float("nan"), "示例"),
            "not_numeric",
        ),
        (ParameterValue("dibao.standard.320402", "2024-07-01", 1100, "示例"), "invalid_start"),
        (ParameterValue("dibao.standard.320402", date(2024, 7, 1), 1100, " "), "missing_reference"),
    ],
)
def test_validation_refuses(system, value, code):
    with pytest.raises(PolicyError) as error:
        validate_parameter_value(system, value)
    assert error.value.code == code
    assert error.value.message_zh


def test_validation_accepts_a_later_value(system):
    validate_parameter_value(system, NEW_STANDARD)
    validate_parameter_value(
        system, ParameterValue("tekun.care.none", date(2024, 1, 1), Decimal("1450.00"), "示例")
    )


def test_build_system_refuses_an_invalid_value():
    with pytest.raises(PolicyError) as error:
        build_system([ParameterValue("dibao.standard.320402", date(2024, 7, 1), -5, "示例")])
    assert error.value.code == "negative"


# ---------------------------------------------------------------------------- refusals


def _one(system, period="2023-08", persons=None, households=None, index=None, outputs=None):
    return simulate(
        system,
        period,
        persons if persons is not None else {"age": np.array([40])},
        households if households is not None else {"district_code": np.array(["320402"])},
        index if index is not None else np.array([0]),
        outputs or ["dibao_amount"],
    )


@pytest.mark.parametrize("period", ["2021-01", "2022-06"])
def test_a_month_before_any_standard_is_refused(system, period):
    with pytest.raises(PolicyError) as error:
        _one(system, period)
    assert error.value.code == "no_standard"
    assert "2022-07-01" in error.value.message_zh
    with pytest.raises(PolicyError) as error:
        explain(system, period, [{"age": 40}], {"district_code": "320402"})
    assert error.value.code == "no_standard"


def test_an_unknown_district_is_refused(system):
    with pytest.raises(PolicyError) as error:
        _one(system, households={"district_code": np.array(["110101"])})
    assert error.value.code == "unknown_district"
    assert "110101" in error.value.message_zh


def test_a_household_without_district_is_refused(system):
    with pytest.raises(PolicyError) as error:
        _one(system, households={"financial_assets": np.array([0.0])})
    assert error.value.code == "missing_district"


def test_a_household_without_members_is_refused(system):
    with pytest.raises(PolicyError) as error:
        _one(
            system,
            persons={"age": np.array([40, 41])},
            households={"district_code": np.array(["320402", "320402", "320404"])},
            index=np.array([0, 2]),
        )
    assert error.value.code == "empty_household"
    assert "第 1 户" in error.value.message_zh
    with pytest.raises(PolicyError) as error:
        explain(system, "2023-08", [], {"district_code": "320402"})
    assert error.value.code == "empty_household"


@pytest.mark.parametrize("age", [-1, 151])
def test_an_impossible_age_is_refused(system, age):
    with pytest.raises(PolicyError) as error:
        _one(system, persons={"age": np.array([40, age])}, index=np.array([0, 0]))
    assert error.value.code == "invalid_value"
    assert "年龄" in error.value.message_zh
    with pytest.raises(PolicyError):
        explain(system, "2023-08", [{"age": age}], {"district_code": "320402"})


@pytest.mark.parametrize(
    ("persons", "code"),
    [
        ({"age": np.array([40]), "wage_income": np.array([-1.0])}, "invalid_value"),
        ({"age": np.array([40]), "wage_income": np.array([np.nan])}, "invalid_value"),
        ({"age": np.array([40]), "disability_grade": np.array([5])}, "invalid_value"),
        ({"age": np.array([40]), "disability_kind": np.array(["blind"])}, "invalid_value"),
        ({"age": np.array([40.5])}, "invalid_value"),
        ({"age": np.array([40, 50])}, "length_mismatch"),
        ({"salary": np.array([1.0])}, "unknown_variable"),
        ({"counted_person_income": np.array([1.0])}, "not_an_input"),
        ({"financial_assets": np.array([1.0])}, "wrong_entity"),
    ],
)
def test_bad_inputs_are_refused(system, persons, code):
    with pytest.raises(PolicyError) as error:
        _one(system, persons=persons)
    assert error.value.code == code


@pytest.mark.parametrize("period", ["2023-13", "2023-7", "202308", 202308])
def test_a_bad_period_is_refused(system, period):
    with pytest.raises(PolicyError) as error:
        _one(system, period=period)
    assert error.value.code == "invalid_period"


def test_a_bad_household_index_is_refused(system):
    with pytest.raises(PolicyError) as error:
        _one(system, index=np.array([1]))
    assert error.value.code == "invalid_household_index"


def test_an_unknown_output_is_refused(system):
    with pytest.raises(PolicyError) as error:
        _one(system, outputs=["dibao_amout"])
    assert error.value.code == "unknown_variable"


# ------------------------------------------------------------------------ inputs, outputs


def test_enumerations_by_name_or_index_and_outputs_by_name(system):
    by_name = _one(
        system,
        persons={
            "age": np.array([40, 40]),
            "disability_grade": np.array([3, 3]),
            "disability_kind": np.array(["psychiatric", "physical"]),
            "self_care_level": np.array(["none", "partial"]),
        },
        index=np.array([0, 0]),
        outputs=["tekun_support", "self_care_level"],
    )
    by_index = _one(
        system,
        persons={
            "age": np.array([40, 40]),
            "disability_grade": np.array([3, 3]),
            "disability_kind": np.array([6, 4]),
            "self_care_level": np.array([2, 1]),
        },
        index=np.array([0, 0]),
        outputs=["tekun_support"],
    )
    np.testing.assert_array_equal(by_name["tekun_support"], [2771.0, 0.0])  # 1,391 + 1,380
    np.testing.assert_array_equal(by_index["tekun_support"], by_name["tekun_support"])
    assert by_name["self_care_level"].tolist() == ["none", "partial"]


def test_persons_need_not_be_sorted_by_household(system):
    result = _one(
        system,
        persons={"age": np.array([80, 40, 40]), "other_income": np.array([0.0, 2000.0, 0.0])},
        households={"district_code": np.array(["320402", "320481"])},
        index=np.array([1, 0, 1]),
        outputs=["household_size", "counted_income", "dibao_amount"],
    )
    assert result["household_size"].tolist() == [1, 2]
    assert result["counted_income"].tolist() == [2000.0, 0.0]
    assert result["dibao_amount"].tolist() == [0.0, 2247.0]  # 2 × 1,070 + 107 (aged 80)


def test_the_package_and_engine_import_without_django():
    code = (
        "import sys, dajiuzhu.policy, dajiuzhu.policy.engine; "
        "sys.exit(1 if 'django' in sys.modules else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_an_unhashable_value_is_refused():
    with pytest.raises(PolicyError) as error:
        build_system([ParameterValue("dibian.multiplier", date(2025, 1, 1), [1.6], "示例")])
    assert error.value.code == "not_numeric"


def test_an_impossible_year_is_a_policy_error_not_a_crash():
    from dajiuzhu.policy.engine import PolicyError, build_system, explain

    with pytest.raises(PolicyError) as info:
        explain(build_system(), "0000-01", [{"age": 30}], {"district_code": "320402"})
    assert info.value.code == "invalid_period"
