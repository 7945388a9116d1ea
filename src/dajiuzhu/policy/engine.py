"""The platform's API over the OpenFisca country package (no Django here).

- :func:`build_system` — the rules with an administrator's dated parameter values applied on
  top of the YAML parameters (cached; an override costs one clone of the base system).
- :func:`validate_parameter_value` — refuse a value before it is stored.
- :func:`simulate` — vectorised over many households at once (population scans, batches).
- :func:`explain` — one household: every programme's result and, for every rule, the
  conditions that held or failed, with the numbers (check report, residents' self-check).

Errors a user can cause (unknown district, a month without a 低保 standard, a household with
no members, an impossible age, a bad parameter value) raise :class:`PolicyError` with a code
and a Chinese message; the caller shows ``message_zh``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray
from openfisca_core import periods
from openfisca_core.indexed_enums import Enum, EnumArray
from openfisca_core.parameters import Parameter, ParameterAtInstant, ParameterNode
from openfisca_core.simulations import Simulation, SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from dajiuzhu.policy.system import CountryTaxBenefitSystem
from dajiuzhu.policy.variables.common import (
    ADULT_AGE,
    EXTRA_AGE_FROM,
    GRADE_THREE,
    REFUSAL_THRESHOLD,
    SEVERE_GRADES,
    TEKUN_AGE_FROM,
    MissingFigureError,
    fen_le,
    fen_lt,
)

__all__ = [
    "PROGRAMME_VARIABLES",
    "Condition",
    "Explanation",
    "ParameterValue",
    "PolicyError",
    "Programme",
    "ProgrammeResult",
    "RuleExplanation",
    "Step",
    "build_system",
    "explain",
    "simulate",
    "validate_parameter_value",
]


class PolicyError(Exception):
    """An error the caller (ultimately a user) caused; ``message_zh`` is shown as is.

    Codes: ``unknown_parameter``, ``not_numeric``, ``negative``, ``invalid_start``,
    ``duplicate_start``, ``overlap``, ``missing_reference`` (parameter values);
    ``invalid_period``, ``unknown_district``, ``no_standard``, ``no_statistics``,
    ``missing_district``, ``empty_household``, ``invalid_household_index``,
    ``unknown_variable``, ``wrong_entity``, ``not_an_input``, ``length_mismatch``,
    ``invalid_value`` (simulations).
    """

    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_zh}")
        self.code = code
        self.message_zh = message_zh


# ------------------------------------------------------------------------------ programmes


@dataclass(frozen=True)
class Programme:
    """The OpenFisca variables that decide a programme: a person or household is covered
    when any ``eligibility`` variable is true; ``amount`` is the monthly money (yuan), ``rate``
    a reimbursement rate."""

    code: str
    label_zh: str
    entity: str  # "household" or "person"
    eligibility: tuple[str, ...]
    amount: str | None = None
    rate: str | None = None


PROGRAMME_VARIABLES: dict[str, Programme] = {
    "dibao": Programme(
        "dibao",
        "最低生活保障",
        "household",
        ("dibao_eligible", "dibao_gradual_exit"),
        "dibao_amount",
    ),
    "dibian": Programme("dibian", "低保边缘家庭", "household", ("dibian_eligible",)),
    "tekun": Programme("tekun", "特困人员救助供养", "person", ("tekun_eligible",), "tekun_support"),
    "zhichu": Programme("zhichu", "支出型困难家庭", "household", ("zhichu_eligible",)),
    "single_person_dibao": Programme(
        "single_person_dibao",
        "单人保",
        "person",
        ("single_person_dibao_eligible",),
        "single_person_dibao_amount",
    ),
    "yiliao": Programme(
        "yiliao", "医疗救助", "person", ("medical_assistance_rate",), rate="medical_assistance_rate"
    ),
}

# -------------------------------------------------------------------------- the base system


@functools.lru_cache(maxsize=1)
def _base_system() -> CountryTaxBenefitSystem:
    return CountryTaxBenefitSystem()


@dataclass(frozen=True)
class ParameterValue:
    """A dated parameter value added by an administrator (stored in the database).

    ``name`` is the dotted path of a single parameter, e.g. ``"dibao.standard.320402"`` or
    ``"dibian.multiplier"``; ``value`` applies from ``start`` until the next dated value.
    """

    name: str
    start: date
    value: float
    reference: str


def build_system(extra_values: Iterable[ParameterValue] = ()) -> TaxBenefitSystem:
    """The tax-benefit system with ``extra_values`` applied on top of the YAML parameters.

    With no values this is the cached base system; otherwise a clone of it (cached per set of
    values, so repeated calls with the database's current values cost nothing). Each value is
    validated as :func:`validate_parameter_value` does, in date order, against the values
    already applied; a value identical to one already in the YAML (same parameter, start and
    value — e.g. after the figure was also added to the files) is skipped.

    The returned system is shared: do not mutate it.
    """
    values = tuple(sorted(extra_values, key=lambda pv: (str(pv.name), _start_key(pv.start))))
    if not values:
        return _base_system()
    try:
        hash(values)
    except TypeError as error:  # e.g. a list as value: not a number, and not cacheable
        raise PolicyError("not_numeric", f"参数数值必须是数字：{values!r}") from error
    return _build_with_values(values)


def _start_key(start: object) -> str:
    return start.isoformat() if isinstance(start, date) else str(start)


@functools.lru_cache(maxsize=16)
def _build_with_values(values: tuple[ParameterValue, ...]) -> TaxBenefitSystem:
    system = _base_system().clone()
    for pv in sorted(values, key=lambda v: _start_key(v.start)):
        if _already_present(system, pv):
            continue
        validate_parameter_value(system, pv)
        _apply(system, pv)
    return system


def _find_parameter(system: TaxBenefitSystem, name: object) -> Parameter:
    node: Any = system.parameters
    if not isinstance(name, str) or not name:
        raise PolicyError("unknown_parameter", f"未知参数：{name!r}")
    for part in name.split("."):
        children = getattr(node, "children", None)
        if children is None or part not in children:
            raise PolicyError("unknown_parameter", f"未知参数：{name}")
        node = children[part]
    if isinstance(node, ParameterNode):
        example = next(iter(node.children), "…")
        raise PolicyError(
            "unknown_parameter",
            f"{name} 是一组参数，请指定其中一项，例如 {name}.{example}",
        )
    if not isinstance(node, Parameter):
        raise PolicyError("unknown_parameter", f"参数 {name} 不支持按日期添加数值")
    return node


def _already_present(system: TaxBenefitSystem, pv: ParameterValue) -> bool:
    try:
        parameter = _find_parameter(system, pv.name)
    except PolicyError:
        return False
    if not isinstance(pv.start, date):
        return False
    start = _as_date(pv.start).isoformat()
    return any(
        v.instant_str == start and v.value is not None and _same_number(v.value, pv.value)
        for v in parameter.values_list
    )


def _same_number(a: object, b: object) -> bool:
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _as_date(start: date) -> date:
    return start.date() if isinstance(start, datetime) else start


def validate_parameter_value(system: TaxBenefitSystem, pv: ParameterValue) -> None:
    """Raise :class:`PolicyError` unless ``pv`` may be added to ``system``.

    Refused: an unknown parameter (or a group such as ``dibao.standard``), a value that is
    not a finite number, a negative value, a start that is not a date, a missing reference,
    and a start on or before the latest dated value of that parameter. Dated values are a
    step function — each holds until the next — so a new value can only extend the history:
    the same start would silently replace a published figure (``duplicate_start``), an earlier
    start would rewrite months already covered by a published figure (``overlap``), including
    months before the first value. Corrections go through the YAML files and code review.
    """
    parameter = _find_parameter(system, pv.name)
    value = pv.value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, np.number)):
        raise PolicyError("not_numeric", f"{pv.name} 的数值必须是数字，收到 {value!r}")
    if not math.isfinite(float(value)):
        raise PolicyError("not_numeric", f"{pv.name} 的数值必须是有限的数字，收到 {value!r}")
    if float(value) < 0:
        raise PolicyError("negative", f"{pv.name} 的数值不能为负数，收到 {value}")
    if not isinstance(pv.start, date):
        raise PolicyError("invalid_start", f"{pv.name} 的起始日期无效：{pv.start!r}")
    if not isinstance(pv.reference, str) or not pv.reference.strip():
        raise PolicyError("missing_reference", f"{pv.name} 的新数值须注明依据（文件名、文号）")
    start = _as_date(pv.start).isoformat()
    existing = sorted(v.instant_str for v in parameter.values_list)
    if start in existing:
        raise PolicyError(
            "duplicate_start",
            f"{pv.name} 已有 {start} 起的数值；已公布的数值不能被覆盖",
        )
    if existing and start < existing[-1]:
        raise PolicyError(
            "overlap",
            f"{pv.name} 已有 {existing[-1]} 起的数值；新数值的起始日期必须晚于 {existing[-1]}，"
            "不能改写已生效期间的数值",
        )


def _apply(system: TaxBenefitSystem, pv: ParameterValue) -> None:
    parameter = _find_parameter(system, pv.name)
    start = _as_date(pv.start).isoformat()
    value = float(pv.value)
    if value.is_integer():
        value = int(value)  # keep 1100 rather than 1100.0, as in the YAML files
    parameter.values_list.append(
        ParameterAtInstant(
            f"{parameter.name}[{start}]",
            start,
            data={"value": value, "metadata": {"reference": pv.reference, "source": "admin"}},
            metadata=parameter.metadata,
        )
    )
    parameter.values_list.sort(key=lambda v: v.instant_str, reverse=True)


# ----------------------------------------------------------------------------- simulations

_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# Inclusive bounds of the inputs (None = unbounded); money inputs are all ≥ 0.
_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    "age": (0, 150),
    "disability_grade": (0, 4),
    "work_refusals": (0, None),
    "non_exempt_vehicles": (0, None),
    "extra_residential_units": (0, None),
    "gradual_exit_months_used": (0, None),
}


def _parse_period(period: object) -> periods.Period:
    if not isinstance(period, str) or not _PERIOD_RE.match(period):
        raise PolicyError("invalid_period", f"月份格式应为 YYYY-MM，收到 {period!r}")
    if not 1900 <= int(period[:4]) <= 2200:
        raise PolicyError("invalid_period", f"月份超出合理范围：{period}")
    return periods.period(period)


def _label(variable: Variable) -> str:
    return f"{variable.label}（{variable.name}）" if variable.label else variable.name


def _input_variable(system: TaxBenefitSystem, name: str, entity: str) -> Variable:
    variable = system.variables.get(name)
    if variable is None:
        raise PolicyError("unknown_variable", f"未知变量：{name}")
    if variable.entity.key != entity:
        where = "个人" if variable.entity.key == "person" else "家庭"
        raise PolicyError("wrong_entity", f"{name} 是{where}变量，不能作为{_ENTITY_ZH[entity]}输入")
    if variable.formulas:
        raise PolicyError("not_an_input", f"{name} 由规则计算，不能作为输入")
    return variable


_ENTITY_ZH = {"person": "个人", "household": "家庭"}


def _convert(variable: Variable, values: object, count: int) -> NDArray:
    """Check and convert one input array; raise PolicyError with the variable's label."""
    array = values if isinstance(values, np.ndarray) else np.asarray(values)
    name = variable.name
    if array.ndim != 1 or len(array) != count:
        raise PolicyError(
            "length_mismatch",
            f"{_label(variable)} 的长度为 {array.size}，应为 {count}",
        )
    value_type = variable.value_type
    if value_type is Enum:
        return _encode_enum(variable, array)
    if value_type is str:
        return array.astype(str)
    if value_type is bool:
        if array.dtype == np.bool_:
            return array
        if np.issubdtype(array.dtype, np.integer) and np.isin(array, (0, 1)).all():
            return array.astype(bool)
        raise PolicyError("invalid_value", f"{_label(variable)} 只能是 是/否（true/false）")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise PolicyError("invalid_value", f"{_label(variable)} 必须是数字")
    as_float = array.astype(np.float64, copy=False)
    if not np.isfinite(as_float).all():
        raise PolicyError("invalid_value", f"{_label(variable)} 含有空值或无穷大")
    low, high = _BOUNDS.get(name, (0, None))
    if low is not None and (as_float < low).any():
        bad = as_float[as_float < low][0]
        raise PolicyError("invalid_value", f"{_label(variable)} 不能小于 {low}，收到 {bad:g}")
    if high is not None and (as_float > high).any():
        bad = as_float[as_float > high][0]
        raise PolicyError("invalid_value", f"{_label(variable)} 不能大于 {high}，收到 {bad:g}")
    if value_type is int:
        if not np.issubdtype(array.dtype, np.integer) and (as_float != np.floor(as_float)).any():
            raise PolicyError("invalid_value", f"{_label(variable)} 必须是整数")
        return as_float.astype(np.int32) if array.dtype != np.int32 else array
    return as_float


def _encode_enum(variable: Variable, array: NDArray) -> EnumArray:
    enum = variable.possible_values
    if isinstance(array, EnumArray):
        return array
    if np.issubdtype(array.dtype, np.integer):
        if ((array < 0) | (array >= len(enum))).any():
            raise PolicyError("invalid_value", f"{_label(variable)} 的编号超出范围")
        return EnumArray(array.astype(np.int16), enum)
    names = array.astype(str)
    uniques, inverse = np.unique(names, return_inverse=True)
    known = {item.name: item.index for item in enum}
    unknown = [u for u in uniques.tolist() if u not in known]
    if unknown:
        allowed = "、".join(known)
        raise PolicyError(
            "invalid_value", f"{_label(variable)} 的取值 {unknown[0]!r} 无效，可选：{allowed}"
        )
    indices = np.array([known[u] for u in uniques.tolist()], dtype=np.int16)
    return EnumArray(indices[inverse.reshape(-1)], enum)


def _check_districts(system: TaxBenefitSystem, period: periods.Period, codes: NDArray) -> None:
    """Refuse unknown district codes and districts without a 低保 standard for the month."""
    uniques = np.unique(codes).tolist()
    standards = system.parameters.dibao.standard
    unknown = [c for c in uniques if c not in standards.children]
    if unknown:
        shown = "、".join(c or "(空)" for c in unknown[:5])
        raise PolicyError(
            "unknown_district",
            f"未知的区县代码：{shown}（可用：{'、'.join(standards.children)}）",
        )
    instant = str(period.start)
    missing = [c for c in uniques if standards.children[c](instant) is None]
    if missing:
        raise PolicyError(
            "no_standard",
            f"{period} 没有低保标准（区县 {'、'.join(missing[:5])}）；"
            f"最早的标准自 {_first_start(standards.children[missing[0]])} 起",
        )


def _first_start(parameter: Parameter) -> str:
    starts = [v.instant_str for v in parameter.values_list if v.value is not None]
    return min(starts) if starts else "（无）"


def _build_simulation(
    system: TaxBenefitSystem,
    period: periods.Period,
    persons: Mapping[str, object],
    households: Mapping[str, object],
    household_index: object,
) -> Simulation:
    index = np.asarray(household_index)
    if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
        raise PolicyError("invalid_household_index", "household_index 必须是一维整数数组")
    if "district_code" not in households:
        raise PolicyError("missing_district", "缺少家庭的区县代码 district_code")
    household_count = len(np.asarray(households["district_code"]))
    person_count = len(index)
    if household_count == 0:
        raise PolicyError("empty_household", "没有任何家庭")
    if person_count and (index.min() < 0 or index.max() >= household_count):
        raise PolicyError(
            "invalid_household_index",
            f"household_index 超出范围：应在 0 到 {household_count - 1} 之间",
        )
    sizes = np.bincount(index, minlength=household_count)
    if (sizes == 0).any():
        empty = np.flatnonzero(sizes == 0)
        raise PolicyError(
            "empty_household",
            f"有 {len(empty)} 户没有家庭成员（如第 {int(empty[0])} 户）；每户至少一名成员",
        )
    inputs: list[tuple[str, NDArray]] = []
    for name, values in persons.items():
        variable = _input_variable(system, name, "person")
        inputs.append((name, _convert(variable, values, person_count)))
    for name, values in households.items():
        variable = _input_variable(system, name, "household")
        inputs.append((name, _convert(variable, values, household_count)))
    codes = dict(inputs)["district_code"]
    _check_districts(system, period, codes)

    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(person_count))
    household = builder.declare_entity("household", np.arange(household_count))
    builder.join_with_persons(household, index, np.zeros(person_count, dtype=np.int32))
    simulation = builder.build(system)
    for name, array in inputs:
        simulation.set_input(name, period, array)
    return simulation


def _calculate(simulation: Simulation, name: str, period: periods.Period) -> NDArray:
    try:
        result = simulation.calculate(name, period)
    except MissingFigureError as error:
        raise PolicyError(error.code, error.message_zh) from error
    if isinstance(result, EnumArray):
        return np.asarray(result.decode_to_str())
    return np.asarray(result)


def simulate(
    system: TaxBenefitSystem,
    period: str,
    persons: Mapping[str, object],
    households: Mapping[str, object],
    household_index: object,
    outputs: Sequence[str],
) -> dict[str, NDArray]:
    """Compute ``outputs`` for many households at once, vectorised.

    ``persons`` and ``households`` map input variable names to arrays (one value per person,
    one per household); ``household_index[i]`` is the index (0-based, into the household
    arrays) of person ``i``'s household. ``households`` must contain ``district_code``; other
    missing inputs take OpenFisca's defaults (0, false, ``none``/``full`` for enumerations —
    give ``age``: the default 0 counts as a child). Enumerations are given by item name
    (``"intellectual"``) or index. Returns one array per output: person outputs have one
    value per person, household outputs one per household; enumerations are returned as
    item names.
    """
    the_period = _parse_period(period)
    for name in outputs:
        if name not in system.variables:
            raise PolicyError("unknown_variable", f"未知变量：{name}")
    simulation = _build_simulation(system, the_period, persons, households, household_index)
    return {name: _calculate(simulation, name, the_period) for name in outputs}


# ----------------------------------------------------------------------------- explanation


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
    "tekun_category",
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
        variable = _input_variable(system, name, entity)
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
    person_columns = _columns(system, persons, "person")
    household_columns = _columns(system, [household], "household")
    result = simulate(
        system,
        period,
        person_columns,
        household_columns,
        np.zeros(len(persons), dtype=np.int64),
        _HOUSEHOLD_OUTPUTS + _PERSON_OUTPUTS,
    )
    h = {name: _py(result[name][0]) for name in _HOUSEHOLD_OUTPUTS}
    people = [
        {"id": pid, **{name: _py(result[name][i]) for name in _PERSON_OUTPUTS}}
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
                "属于特困对象（老年、未成年或重残）",
                bool(person["tekun_category"]),
                any_of=[
                    _cond(
                        f"年满 {TEKUN_AGE_FROM} 周岁",
                        age >= TEKUN_AGE_FROM,
                        age,
                        "≥",
                        TEKUN_AGE_FROM,
                    ),
                    _cond(f"未满 {ADULT_AGE} 周岁", age < ADULT_AGE, age, "<", ADULT_AGE),
                    severe,
                    mental,
                ],
            ),
            _cond(
                f"个人计入收入低于 {float(p.tekun.basic_multiplier):g} 倍低保标准",
                fen_lt(person["counted_person_income"], h["tekun_basic_support"]),
                person["counted_person_income"],
                "<",
                h["tekun_basic_support"],
            ),
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


def _programmes(h: dict[str, Any], people: list[dict[str, Any]]) -> list[ProgrammeResult]:
    programmes = [
        ProgrammeResult(
            "dibao",
            "最低生活保障",
            "household",
            bool(h["dibao_eligible"]),
            h["dibao_computed_amount"] if h["dibao_eligible"] else 0.0,
        ),
        ProgrammeResult(
            "dibao_gradual_exit",
            "低保渐退",
            "household",
            bool(h["dibao_gradual_exit"]),
            h["dibao_amount"] if h["dibao_gradual_exit"] else 0.0,
        ),
        ProgrammeResult("dibian", "低保边缘家庭", "household", bool(h["dibian_eligible"])),
        ProgrammeResult("zhichu", "支出型困难家庭", "household", bool(h["zhichu_eligible"])),
    ]
    for person in people:
        pid = person["id"]
        programmes += [
            ProgrammeResult(
                "single_person_dibao",
                "单人保",
                pid,
                bool(person["single_person_dibao_eligible"]),
                person["single_person_dibao_amount"],
            ),
            ProgrammeResult(
                "tekun",
                "特困人员救助供养",
                pid,
                bool(person["tekun_eligible"]),
                person["tekun_support"],
            ),
            ProgrammeResult(
                "yiliao",
                "医疗救助",
                pid,
                person["medical_assistance_rate"] > 0,
                rate=person["medical_assistance_rate"],
            ),
        ]
    return programmes
