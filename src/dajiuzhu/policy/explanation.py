"""Explanation: every programme's result for ONE household and, for every rule, the
conditions that held or failed with their numbers — the household check report and the
residents' self-check read it (no Django here).

The figures come from the rules themselves (:func:`dajiuzhu.policy.simulation.simulate` of
the one household); this module only arranges them into sentences a caseworker can follow.
Why the conditions are written here beside the variables rather than derived from OpenFisca:
docs/decisions/0003-explanations-beside-openfisca.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from openfisca_core import periods
from openfisca_core.indexed_enums import Enum
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from dajiuzhu.policy import catalogue
from dajiuzhu.policy.errors import PolicyError
from dajiuzhu.policy.simulation import input_variable, simulate
from dajiuzhu.policy.variables.common import (
    ADULT_AGE,
    EXTRA_AGE_FROM,
    GRADE_THREE,
    REFUSAL_THRESHOLD,
    SEVERE_GRADES,
    TEKUN_AGE_FROM,
    TEKUN_CHILD_UNDER,
    TEKUN_MENTAL_GRADES,
    TEKUN_PHYSICAL_GRADES,
    TEKUN_VISUAL_GRADES,
    fen_le,
    fen_lt,
)

__all__ = [
    "Condition",
    "Explanation",
    "ProgrammeResult",
    "RuleExplanation",
    "Step",
    "explain",
]


@dataclass
class Condition:
    """One condition of a rule: ``left op right`` held or failed. A condition made of
    alternatives (e.g. the 特困 categories) lists them in ``any_of``."""

    label_zh: str
    held: bool
    left: Any = None
    op: str | None = None
    right: Any = None
    any_of: list[Condition] = field(default_factory=list)


@dataclass
class Step:
    """One line of an amount's arithmetic."""

    label_zh: str
    value: Any
    formula: str = ""


@dataclass
class RuleExplanation:
    """A rule (named after its OpenFisca variable) for the household or one person."""

    rule: str
    label_zh: str
    subject: str  # "household" or a person id
    held: bool | None
    value: Any = None
    conditions: list[Condition] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


@dataclass
class ProgrammeResult:
    programme: str  # dibao, dibao_gradual_exit, dibian, single_person_dibao, tekun, zhichu, yiliao
    label_zh: str
    subject: str
    eligible: bool
    amount: float | None = None
    rate: float | None = None


@dataclass
class Explanation:
    period: str
    district_code: str
    dibao_standard: float
    household_size: int
    person_ids: list[str]
    programmes: list[ProgrammeResult]
    rules: list[RuleExplanation]
    figures: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data."""
        return dataclasses.asdict(self)

    def rule(self, rule: str, subject: str = "household") -> RuleExplanation:
        return next(r for r in self.rules if r.rule == rule and r.subject == subject)

    def programme(self, programme: str, subject: str = "household") -> ProgrammeResult:
        return next(p for p in self.programmes if p.programme == programme and p.subject == subject)


_HOUSEHOLD_OUTPUTS = (
    "district_code",
    "dibao_standard",
    "household_size",
    "counted_income",
    "income_per_member",
    "financial_assets",
    "financial_assets_per_member",
    "financial_asset_limit",
    "non_exempt_vehicles",
    "extra_residential_units",
    "runs_active_business",
    "assets_within_limits",
    "dibao_eligible",
    "dibao_base_amount",
    "dibao_refuser_count",
    "dibao_refused_share",
    "dibao_extra_member_count",
    "dibao_classified_extra",
    "dibao_computed_amount",
    "dibao_last_month",
    "gradual_exit_months_used",
    "last_dibao_amount",
    "dibao_gradual_exit",
    "dibao_amount",
    "dibian_income_limit",
    "dibian_eligible",
    "rigid_expenditure",
    "income_after_rigid_per_member",
    "annual_income_per_member",
    "reference_disposable_income",
    "zhichu_financial_asset_limit",
    "zhichu_assets_within_limits",
    "zhichu_eligible",
    "tekun_basic_support",
)
_PERSON_OUTPUTS = (
    "age",
    "disability_grade",
    "disability_kind",
    "has_serious_illness",
    "wage_income",
    "other_income",
    "exempt_income",
    "income_exemption_eligible",
    "employment_cost_deduction",
    "income_exemption",
    "counted_person_income",
    "work_refusals",
    "work_refuser",
    "dibao_extra_member",
    "single_person_dibao_category",
    "single_person_dibao_eligible",
    "single_person_dibao_amount",
    "has_able_supporter",
    "self_care_level",
    "unable_to_work",
    "tekun_no_means_of_living",
    "tekun_eligible",
    "tekun_care_supplement",
    "tekun_support",
    "medical_assistance_rate",
)


def _py(value: Any) -> Any:
    """numpy scalars to Python scalars (JSON-serialisable)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.str_):
        return str(value)
    return value


def _columns(
    system: TaxBenefitSystem, rows: Sequence[Mapping[str, Any]], entity: str
) -> dict[str, NDArray]:
    """Rows of {variable: value} to {variable: array}; a missing value takes the default."""
    names: list[str] = []
    for row in rows:
        for name in row:
            if name != "id" and name not in names:
                names.append(name)
    columns: dict[str, NDArray] = {}
    for name in names:
        variable = input_variable(system, name, entity)
        default = variable.default_value
        if isinstance(default, Enum):
            default = default.name
        values = [row.get(name, default) for row in rows]
        if variable.value_type is Enum:
            values = [v.name if isinstance(v, Enum) else v for v in values]
        columns[name] = np.asarray(values)
    return columns


def explain(
    system: TaxBenefitSystem,
    period: str,
    persons: Sequence[Mapping[str, Any]],
    household: Mapping[str, Any],
) -> Explanation:
    """Every programme's result for ONE household, and every rule's conditions with numbers.

    ``persons``: one dict per member, {input variable: value}, plus an optional ``"id"``
    (default ``p1``, ``p2`` …). ``household``: {household input variable: value}, with
    ``district_code``. Same validation and same errors as :func:`simulate`.
    """
    if not persons:
        raise PolicyError("empty_household", "家庭没有成员；每户至少一名成员")
    ids = [str(p.get("id") or f"p{i + 1}") for i, p in enumerate(persons)]
    if len(set(ids)) != len(ids):
        raise PolicyError("invalid_value", "家庭成员的 id 重复")
    household_outputs = _outputs("household", _HOUSEHOLD_OUTPUTS)
    person_outputs = _outputs("person", _PERSON_OUTPUTS)
    person_columns = _columns(system, persons, "person")
    household_columns = _columns(system, [household], "household")
    result = simulate(
        system,
        period,
        person_columns,
        household_columns,
        np.zeros(len(persons), dtype=np.int64),
        household_outputs + person_outputs,
    )
    h = {name: _py(result[name][0]) for name in household_outputs}
    people = [
        {"id": pid, **{name: _py(result[name][i]) for name in person_outputs}}
        for i, pid in enumerate(ids)
    ]
    return _explanation(system, period, h, people)


def _cond(label: str, held: Any, left: Any, op: str, right: Any) -> Condition:
    return Condition(label, bool(held), _py(left), op, _py(right))


def _flag(label: str, value: Any, wanted: bool = True) -> Condition:
    """A yes/no fact: held when it is ``wanted``."""
    return _cond(label, bool(value) == wanted, bool(value), "=", wanted)


@dataclass
class _Shared:
    """Figures and conditions several rules of one household share."""

    p: Any  # the parameters at the month's first day
    h: dict[str, Any]
    s: float
    n: int
    ipm: float
    property_conditions: list[Condition]
    assets_ok: Condition
    below_limit: Condition
    not_dibao: Condition


def _explanation(
    system: TaxBenefitSystem, period: str, h: dict[str, Any], people: list[dict[str, Any]]
) -> Explanation:
    p = system.get_parameters_at_instant(periods.period(period).start)
    ipm = h["income_per_member"]
    shared = _Shared(
        p=p,
        h=h,
        s=h["dibao_standard"],
        n=h["household_size"],
        ipm=ipm,
        property_conditions=[
            _cond(
                "无非豁免机动车辆", h["non_exempt_vehicles"] == 0, h["non_exempt_vehicles"], "=", 0
            ),
            _cond(
                "无唯一住房以外的住房",
                h["extra_residential_units"] == 0,
                h["extra_residential_units"],
                "=",
                0,
            ),
            _flag("无正常经营的市场主体", h["runs_active_business"], wanted=False),
        ],
        assets_ok=_flag("家庭财产符合规定", h["assets_within_limits"]),
        below_limit=_cond(
            f"人均收入低于 {float(p.dibian.multiplier):g} 倍低保标准",
            fen_lt(ipm, h["dibian_income_limit"]),
            ipm,
            "<",
            h["dibian_income_limit"],
        ),
        not_dibao=_flag("不符合低保条件", h["dibao_eligible"], wanted=False),
    )
    rules = [
        _income_rule(shared, people),
        *_dibao_rules(shared),
        _dibian_rule(shared),
        _zhichu_rule(shared),
    ]
    for person in people:
        rules += _person_rules(shared, person)
    return Explanation(
        period=period,
        district_code=h["district_code"],
        dibao_standard=shared.s,
        household_size=shared.n,
        person_ids=[person["id"] for person in people],
        programmes=_programmes(h, people),
        rules=rules,
        figures={"household": h, "persons": people},
    )


def _income_rule(c: _Shared, people: list[dict[str, Any]]) -> RuleExplanation:
    steps = [
        Step(
            f"{person['id']} 计入收入",
            person["counted_person_income"],
            f"工资 {person['wage_income']:.2f} − 就业成本扣减 "
            f"{person['employment_cost_deduction']:.2f} − 就业豁免 "
            f"{person['income_exemption']:.2f} + 其他计入收入 {person['other_income']:.2f}"
            f"（不计入：{person['exempt_income']:.2f}）",
        )
        for person in people
    ]
    steps += [
        Step("家庭计入收入", c.h["counted_income"], "各成员计入收入之和"),
        Step("人均收入", c.ipm, f"{c.h['counted_income']:.2f} / {c.n}，四舍五入到分"),
    ]
    return RuleExplanation(
        "income_per_member", "家庭人均收入", "household", None, c.ipm, steps=steps
    )


def _dibao_rules(c: _Shared) -> list[RuleExplanation]:
    h, p, s, n = c.h, c.p, c.s, c.n
    months = float(p.assets.financial_months)
    assets = RuleExplanation(
        "assets_within_limits",
        "家庭财产符合低保规定",
        "household",
        h["assets_within_limits"],
        conditions=[
            _cond(
                f"人均金融资产不超过 {months:g} 个月低保标准",
                fen_le(h["financial_assets_per_member"], h["financial_asset_limit"]),
                h["financial_assets_per_member"],
                "≤",
                h["financial_asset_limit"],
            ),
            *c.property_conditions,
        ],
    )
    eligible = RuleExplanation(
        "dibao_eligible",
        "符合低保条件",
        "household",
        h["dibao_eligible"],
        conditions=[_cond("人均收入低于低保标准", fen_lt(c.ipm, s), c.ipm, "<", s), c.assets_ok],
    )
    amount = RuleExplanation(
        "dibao_computed_amount",
        "低保金计算",
        "household",
        None,
        h["dibao_computed_amount"],
        steps=[
            Step(
                "低保差额",
                h["dibao_base_amount"],
                f"max({s:g} × {n} − {h['counted_income']:.2f}, "
                f"{float(p.dibao.minimum_share):g} × {s:g} × {n})",
            ),
            Step(
                f"拒绝就业 {REFUSAL_THRESHOLD} 次及以上的人数",
                h["dibao_refuser_count"],
                "扣除其份额 低保差额 / n",
            ),
            Step("扣除拒绝就业人员份额", h["dibao_refused_share"], "低保差额 / n × 人数"),
            Step(
                f"分类施保人数（年满 {EXTRA_AGE_FROM} 岁、未满 {ADULT_AGE} 岁或一二级残疾）",
                h["dibao_extra_member_count"],
            ),
            Step(
                "分类施保增发",
                h["dibao_classified_extra"],
                f"{float(p.dibao.extra_share):g} × {s:g} × {h['dibao_extra_member_count']}",
            ),
            Step("低保金（四舍五入到元）", h["dibao_computed_amount"], "差额 − 扣除 + 增发"),
        ],
    )
    exit_months = int(p.dibao.gradual_exit_months)
    gradual = RuleExplanation(
        "dibao_gradual_exit",
        "低保渐退",
        "household",
        h["dibao_gradual_exit"],
        h["dibao_amount"] if h["dibao_gradual_exit"] else None,
        [
            c.not_dibao,
            _flag("上月享受低保", h["dibao_last_month"]),
            _cond("人均收入不低于低保标准", fen_le(s, c.ipm), c.ipm, "≥", s),
            c.below_limit,
            c.assets_ok,
            _cond(
                f"已享受渐退月数少于 {exit_months}",
                h["gradual_exit_months_used"] < exit_months,
                h["gradual_exit_months_used"],
                "<",
                exit_months,
            ),
        ],
    )
    return [assets, eligible, amount, gradual]


def _dibian_rule(c: _Shared) -> RuleExplanation:
    return RuleExplanation(
        "dibian_eligible",
        "符合低保边缘家庭条件",
        "household",
        c.h["dibian_eligible"],
        conditions=[
            c.not_dibao,
            _flag("不在低保渐退期", c.h["dibao_gradual_exit"], wanted=False),
            c.below_limit,
            c.assets_ok,
        ],
    )


def _zhichu_rule(c: _Shared) -> RuleExplanation:
    h = c.h
    months = float(c.p.assets.zhichu_financial_months)
    return RuleExplanation(
        "zhichu_eligible",
        "符合支出型困难家庭条件",
        "household",
        h["zhichu_eligible"],
        conditions=[
            c.not_dibao,
            _cond(
                "扣除刚性支出后人均收入低于低保标准",
                fen_lt(h["income_after_rigid_per_member"], c.s),
                h["income_after_rigid_per_member"],
                "<",
                c.s,
            ),
            _cond(
                "人均年收入低于上年度居民人均可支配收入",
                fen_lt(h["annual_income_per_member"], h["reference_disposable_income"]),
                h["annual_income_per_member"],
                "<",
                h["reference_disposable_income"],
            ),
            _cond(
                f"人均金融资产不超过 {months:g} 个月低保标准",
                fen_le(h["financial_assets_per_member"], h["zhichu_financial_asset_limit"]),
                h["financial_assets_per_member"],
                "≤",
                h["zhichu_financial_asset_limit"],
            ),
            *c.property_conditions,
        ],
    )


def _unable_to_work(age: int, grade: int, kind: str) -> list[Condition]:
    """The alternatives of 无劳动能力 (民发〔2021〕43号 第五条); hearing and speech
    disabilities alone are none of them."""
    graded = f"{grade} {kind}"

    def listed(grades: tuple[int, ...], kinds: tuple[str, ...]) -> list[str]:
        return [f"{g} {k}" for k in kinds for g in grades]

    alternatives = [
        ("一、二级肢体或多重残疾", TEKUN_PHYSICAL_GRADES, ("physical", "multiple")),
        ("一级视力残疾", TEKUN_VISUAL_GRADES, ("visual",)),
        ("一至三级智力或精神残疾", TEKUN_MENTAL_GRADES, ("intellectual", "psychiatric")),
    ]
    return [
        _cond(f"年满 {TEKUN_AGE_FROM} 周岁", age >= TEKUN_AGE_FROM, age, "≥", TEKUN_AGE_FROM),
        _cond(
            f"未满 {TEKUN_CHILD_UNDER} 周岁", age < TEKUN_CHILD_UNDER, age, "<", TEKUN_CHILD_UNDER
        ),
        *(
            _cond(label, graded in listed(grades, kinds), graded, "in", listed(grades, kinds))
            for label, grades, kinds in alternatives
        ),
    ]


def _person_rules(c: _Shared, person: dict[str, Any]) -> list[RuleExplanation]:
    h, p, s = c.h, c.p, c.s
    pid = person["id"]
    grade, kind, age = person["disability_grade"], person["disability_kind"], person["age"]
    severe = _cond("一、二级残疾", grade in SEVERE_GRADES, grade, "in", list(SEVERE_GRADES))
    mental = _cond(
        "三级智力或精神残疾",
        grade == GRADE_THREE and kind in ("intellectual", "psychiatric"),
        f"{grade} {kind}",
        "in",
        ["3 intellectual", "3 psychiatric"],
    )
    single = RuleExplanation(
        "single_person_dibao_eligible",
        "符合单人保条件",
        pid,
        person["single_person_dibao_eligible"],
        person["single_person_dibao_amount"],
        [
            c.not_dibao,
            c.below_limit,
            c.assets_ok,
            Condition(
                "属于单人保对象（重残或重病）",
                bool(person["single_person_dibao_category"]),
                any_of=[severe, mental, _flag("患重特大疾病", person["has_serious_illness"])],
            ),
        ],
    )
    if person["single_person_dibao_eligible"]:
        single.steps.append(
            Step(
                "单人保金（四舍五入到元）",
                person["single_person_dibao_amount"],
                f"max({s:g} − {person['counted_person_income']:.2f}, "
                f"{float(p.dibao.minimum_share):g} × {s:g})",
            )
        )
    tekun = RuleExplanation(
        "tekun_eligible",
        "符合特困人员条件",
        pid,
        person["tekun_eligible"],
        person["tekun_support"],
        [
            Condition(
                "无劳动能力（老年、未成年或按类别和等级属重度残疾）",
                bool(person["unable_to_work"]),
                any_of=_unable_to_work(age, grade, kind),
            ),
            _cond(
                "无生活来源：个人计入收入低于低保标准",
                fen_lt(person["counted_person_income"], s),
                person["counted_person_income"],
                "<",
                s,
            ),
            c.assets_ok,
            _flag("无有赡养、抚养、扶养能力的义务人", person["has_able_supporter"], wanted=False),
        ],
    )
    if person["tekun_eligible"]:
        tekun.steps.append(
            Step(
                "特困供养金（四舍五入到元）",
                person["tekun_support"],
                f"{h['tekun_basic_support']:.2f} + 照料护理 "
                f"{person['tekun_care_supplement']:g}（{person['self_care_level']}）",
            )
        )
    rate = p.medical.rate
    dibao_like = h["dibao_eligible"] or h["dibao_gradual_exit"]
    medical = RuleExplanation(
        "medical_assistance_rate",
        "医疗救助比例（按顺序取第一项成立的比例）",
        pid,
        person["medical_assistance_rate"] > 0,
        person["medical_assistance_rate"],
        [
            _flag(f"特困人员：{float(rate.tekun):g}", person["tekun_eligible"]),
            _flag(
                f"低保家庭（含渐退）或单人保：{float(rate.dibao):g}",
                dibao_like or person["single_person_dibao_eligible"],
            ),
            _flag(f"低保边缘家庭：{float(rate.dibian):g}", h["dibian_eligible"]),
            _flag(f"支出型困难家庭：{float(rate.zhichu):g}", h["zhichu_eligible"]),
        ],
    )
    return [single, tekun, medical]


def _outputs(entity: str, listed: tuple[str, ...]) -> tuple[str, ...]:
    """The outputs an explanation reads for ``entity``: those its rules show, then any other
    variable a catalogue result names (a new programme's results need no edit here)."""
    named = (v for r in catalogue.results() if r.entity == entity for v in r.variables)
    return tuple(dict.fromkeys((*listed, *named)))


def _result(result: catalogue.Result, figures: dict[str, Any], subject: str) -> ProgrammeResult:
    eligible = bool(figures[result.eligible])
    amount = None
    if result.amount is not None:
        amount = figures[result.amount] if eligible else 0.0
    rate = figures[result.rate] if result.rate is not None else None
    return ProgrammeResult(result.code, result.label, subject, eligible, amount, rate)


def _programmes(h: dict[str, Any], people: list[dict[str, Any]]) -> list[ProgrammeResult]:
    """The catalogue's results (programme by programme, in catalogue order): the household's
    first, then each person's."""
    household = [r for r in catalogue.results() if r.entity == "household"]
    person = [r for r in catalogue.results() if r.entity == "person"]
    programmes = [_result(r, h, "household") for r in household]
    for figures in people:
        programmes += [_result(r, figures, figures["id"]) for r in person]
    return programmes
