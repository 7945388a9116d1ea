"""The policy figures the generator builds the city around, read from the rules' own dated
parameters (``dajiuzhu/policy/parameters``) so that the synthetic city and the rules agree:
the 低保 standard, the 低边 and 特困 multipliers, the asset limit, the employment-cost
deduction, the 分类施保 and minimum shares, the 特困 care amounts, the medical-assistance rates,
the 急难型 cap and the per-capita disposable income.

Only OpenFisca's parameter loader is used (no variables, no simulation, no Django). For dates
the parameters do not cover — 低保 standards before the first published one, disposable
income of years without a figure of their own — the generator keeps its own illustrative
history (:mod:`dajiuzhu.synth.calibration`), used only there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

__all__ = ["DISTRICTS", "Figures", "figures", "parameters"]

DISTRICTS = ("320402", "320404", "320411", "320412", "320413", "320481")


@functools.cache
def parameters() -> Any:
    """The policy package's parameter tree (the YAML files the rules load)."""
    from openfisca_core.parameters import ParameterNode

    directory = resources.files("dajiuzhu.policy").joinpath("parameters")
    return ParameterNode("", directory_path=str(directory))


@dataclass(frozen=True)
class Figures:
    """The figures in force on one day (the generator uses December 1 of its year)."""

    on: date
    standard: float | None  # 低保 standard, yuan/person/month, the same in the six districts
    dibian_multiplier: float  # 低边: income below multiplier × S
    tekun_multiplier: float  # 特困 support: multiplier × S (+ care)
    financial_months: float  # assets: deposits per member ≤ months × S
    cost_rate: float  # employment-cost deduction min(rate × wage, cap)
    cost_cap: float
    extra_share: float  # 分类施保: + share × S per member aged ≥ 70, under 18 or grade 1–2
    minimum_share: float  # the 低保 amount is at least share × S per member
    care_full: float  # 特困 care by self-care level
    care_partial: float
    care_none: float
    medical_tekun: float  # medical-assistance rates
    medical_dibao: float
    medical_dibian: float
    medical_zhichu: float
    linshi_cap_months: float  # 急难型 grant at most months × S


def standard_on(on: date) -> float | None:
    """The 低保 standard on ``on``, or None before the first published one. The generator
    gives the whole city one standard: the six districts must agree."""
    node = parameters().children["dibao"].children["standard"]
    values = {code: node.children[code](on.isoformat()) for code in DISTRICTS}
    distinct = set(values.values())
    if len(distinct) != 1:
        raise ValueError(f"the generator needs one 低保 standard city-wide, found {values}")
    value = distinct.pop()
    return None if value is None else float(value)


def disposable_income_of(year: int) -> float | None:
    """The per-capita disposable income of ``year`` when the parameters hold a figure dated
    that year (a year without one has no figure of its own: the rules carry the last one
    forward, the generator interpolates)."""
    parameter = parameters().children["statistics"].children["disposable_income"]
    start = f"{year}-01-01"
    for at in parameter.values_list:
        if at.instant_str == start and at.value is not None:
            return float(at.value)
    return None


@functools.cache
def figures(on: date) -> Figures:
    p = parameters()(on.isoformat())
    care, rate = p.tekun.care, p.medical.rate
    return Figures(
        on=on,
        standard=standard_on(on),
        dibian_multiplier=float(p.dibian.multiplier),
        tekun_multiplier=float(p.tekun.basic_multiplier),
        financial_months=float(p.assets.financial_months),
        cost_rate=float(p.income.employment_cost_rate),
        cost_cap=float(p.income.employment_cost_cap),
        extra_share=float(p.dibao.extra_share),
        minimum_share=float(p.dibao.minimum_share),
        care_full=float(care.full),
        care_partial=float(care.partial),
        care_none=float(care.none),
        medical_tekun=float(rate.tekun),
        medical_dibao=float(rate.dibao),
        medical_dibian=float(rate.dibian),
        medical_zhichu=float(rate.zhichu),
        linshi_cap_months=float(p.linshi.ordinary_cap_months),
    )
