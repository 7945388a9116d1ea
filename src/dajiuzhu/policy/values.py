"""Parameter values: the rules' system with an administrator's dated values applied on top
of the YAML parameters (no Django here).

- :func:`build_system` — the base system, or a clone of it with the stored values applied
  through OpenFisca's public :meth:`Parameter.update` (cached per set of values).
- :func:`validate_parameter_value` — refuse a value before it is stored.
- :func:`find_parameter` — a single parameter by its dotted name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from openfisca_core import periods
from openfisca_core.parameters import Parameter, ParameterNode
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from dajiuzhu.policy.errors import PolicyError
from dajiuzhu.policy.system import CountryTaxBenefitSystem

__all__ = [
    "ParameterValue",
    "base_system",
    "build_system",
    "find_parameter",
    "validate_parameter_value",
]


@functools.lru_cache(maxsize=1)
def base_system() -> CountryTaxBenefitSystem:
    """The rules with the YAML parameters only (built once per process)."""
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
        return base_system()
    try:
        hash(values)
    except TypeError as error:  # e.g. a list as value: not a number, and not cacheable
        raise PolicyError("not_numeric", f"参数数值必须是数字：{values!r}") from error
    return _build_with_values(values)


def _start_key(start: object) -> str:
    return start.isoformat() if isinstance(start, date) else str(start)


@functools.lru_cache(maxsize=16)
def _build_with_values(values: tuple[ParameterValue, ...]) -> TaxBenefitSystem:
    system = base_system().clone()
    for pv in sorted(values, key=lambda v: _start_key(v.start)):
        if _already_present(system, pv):
            continue
        validate_parameter_value(system, pv)
        _apply(system, pv)
    return system


def find_parameter(system: TaxBenefitSystem, name: object) -> Parameter:
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
        parameter = find_parameter(system, pv.name)
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
    parameter = find_parameter(system, pv.name)
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
    """Add ``pv`` through OpenFisca's public ``Parameter.update``: the value holds from its
    start on (validation has made sure the start is after every published value, so nothing
    published is replaced). The new value carries the parameter's metadata, the stored
    reference and ``source: admin`` (the parameters page marks it 管理员新增)."""
    parameter = find_parameter(system, pv.name)
    start = _as_date(pv.start).isoformat()
    value = float(pv.value)
    if value.is_integer():
        value = int(value)  # keep 1100 rather than 1100.0, as in the YAML files
    parameter.update(start=periods.instant(start), value=value)
    added = next(v for v in parameter.values_list if v.instant_str == start)
    added.metadata.update(parameter.metadata)
    added.metadata.update({"reference": pv.reference, "source": "admin"})
