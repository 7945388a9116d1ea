"""Simulation: the rules computed for many households at once, vectorised (no Django here).

:func:`simulate` checks and converts the input arrays (each refused with a
:class:`PolicyError` naming the variable), refuses unknown districts and months without a
低保 standard, builds one OpenFisca simulation and returns the requested outputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray
from openfisca_core import periods
from openfisca_core.indexed_enums import Enum, EnumArray
from openfisca_core.parameters import Parameter
from openfisca_core.simulations import Simulation, SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.policy.errors import PolicyError
from dajiuzhu.policy.variables.common import MissingFigureError

__all__ = ["input_variable", "parse_period", "simulate"]

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


# The years a month of the rules may fall in (the households' inputs reach back a year from it).
PERIOD_YEARS = (1900, 2200)


def month_for_rules(month: str, *, label: str = "月份") -> str:
    """A user's ``YYYY-MM`` for a check or a population run, normalised; refused with a clear
    message (``month.format``, ``month.range``) before anything reads the lake for it."""
    try:
        year, mon = (int(x) for x in (month or "").split("-"))
        date(year, mon, 1)
    except ValueError:
        raise ServiceError("month.format", f"{label}格式应为YYYY-MM", field="month") from None
    first, last = PERIOD_YEARS
    if not first <= year <= last:
        raise ServiceError(
            "month.range", f"{label}应在{first}年至{last}年之间,收到{month}", field="month"
        )
    return f"{year:04d}-{mon:02d}"


def parse_period(period: object) -> periods.Period:
    if not isinstance(period, str) or not _PERIOD_RE.match(period):
        raise PolicyError("invalid_period", f"月份格式应为 YYYY-MM，收到 {period!r}")
    if not PERIOD_YEARS[0] <= int(period[:4]) <= PERIOD_YEARS[1]:
        raise PolicyError("invalid_period", f"月份超出合理范围：{period}")
    return periods.period(period)


def _label(variable: Variable) -> str:
    return f"{variable.label}（{variable.name}）" if variable.label else variable.name


def input_variable(system: TaxBenefitSystem, name: str, entity: str) -> Variable:
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
        variable = input_variable(system, name, "person")
        inputs.append((name, _convert(variable, values, person_count)))
    for name, values in households.items():
        variable = input_variable(system, name, "household")
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
    the_period = parse_period(period)
    for name in outputs:
        if name not in system.variables:
            raise PolicyError("unknown_variable", f"未知变量：{name}")
    simulation = _build_simulation(system, the_period, persons, households, household_index)
    return {name: _calculate(simulation, name, the_period) for name in outputs}
