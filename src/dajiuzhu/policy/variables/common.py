"""Shared helpers of the variables: money in float64 at fen precision, half-up rounding,
the 低保 standard looked up per district code, and the fixed thresholds of the rules.

This module defines no OpenFisca variable itself (the system loader registers only classes
that declare a ``value_type``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from openfisca_core.variables import Variable

# Fixed thresholds written into the rules themselves (RULES.md, "The rules, exactly"); the
# city's figures live in parameters/, never here.
REFUSAL_THRESHOLD = 3  # work_refusals ≥ 3 removes the member's share (57号 art. 34)
EXTRA_AGE_FROM = 70  # 分类施保: members aged ≥ 70 …
ADULT_AGE = 18  # … or under 18
SEVERE_GRADES = (1, 2)  # disability grade 1–2 (1 is the most severe)
GRADE_THREE = 3  # grade 3 counts only for intellectual / psychiatric disability
# 特困: unable to work (无劳动能力, 民发〔2021〕43号 第五条) — aged ≥ 60 or under 16, or a
# physical or multiple disability of grade 1–2, a visual disability of grade 1, an
# intellectual or psychiatric disability of grade 1–3. Hearing and speech disabilities alone
# do not count.
TEKUN_AGE_FROM = 60
TEKUN_CHILD_UNDER = 16
TEKUN_PHYSICAL_GRADES = (1, 2)  # physical or multiple
TEKUN_VISUAL_GRADES = (1,)
TEKUN_MENTAL_GRADES = (1, 2, 3)  # intellectual or psychiatric


class Money(Variable):
    """Base class of money variables: stored as float64 (OpenFisca's default float is float32,
    too coarse for sums of yuan amounts at fen precision). Subclasses still declare
    ``value_type = float``. Not registered itself: it declares no ``value_type``."""

    def __init__(self, baseline_variable: Variable | None = None) -> None:
        super().__init__(baseline_variable)
        self.dtype = np.float64


def to_fen(amount: NDArray | float) -> NDArray[np.float64]:
    """Whole fen (1/100 yuan) as integral float64, rounded half up.

    ``np.round(…, 4)`` first removes binary noise (1.005 × 100 = 100.49999999999999), so that
    an amount that is exactly half a fen in decimal rounds up as a person would round it.
    """
    scaled = np.asarray(amount, dtype=np.float64) * 100.0
    return np.floor(np.round(scaled, 4) + 0.5)


def round_fen(amount: NDArray | float) -> NDArray[np.float64]:
    """The amount rounded half up to the fen, in yuan."""
    return to_fen(amount) / 100.0


def round_yuan(amount: NDArray | float) -> NDArray[np.float64]:
    """The amount rounded half up to the whole yuan (after rounding to the fen), in yuan.

    numpy's ``round`` rounds half to even (812.5 → 812); the rules round half up (→ 813).
    """
    return np.floor((to_fen(amount) + 50.0) / 100.0)


def fen_lt(left: NDArray | float, right: NDArray | float) -> NDArray[np.bool_]:
    """``left < right`` for money, compared after rounding both sides to the fen."""
    return to_fen(left) < to_fen(right)


def fen_le(left: NDArray | float, right: NDArray | float) -> NDArray[np.bool_]:
    """``left ≤ right`` for money, compared after rounding both sides to the fen."""
    return to_fen(left) <= to_fen(right)


class MissingFigureError(LookupError):
    """A figure the rules need has no value for the month computed: the 低保 standard of a
    household's district (unknown district code, or a month before the first published
    standard), or the previous year's per-capita disposable income.

    Raised from the formulas, so that a missing figure never yields a silent 0 (a standard of 0
    would quietly make everyone ineligible). The engine checks the same conditions before
    simulating and reports them as a ``PolicyError`` with the same code and Chinese message.
    """

    def __init__(self, code: str, message_zh: str, keys: list[str]) -> None:
        super().__init__(message_zh)
        self.code = code
        self.message_zh = message_zh
        self.keys = keys


def standard_by_district(
    district_codes: NDArray[np.object_], standards_node, month: str
) -> NDArray[np.float64]:
    """Look up ``dibao.standard.<district_code>`` for each household, vectorised.

    ``standards_node`` is ``parameters(period).dibao.standard`` (a node at an instant whose
    children are the district codes that have a value at that instant).

    Digit-string keys work in OpenFisca: the YAML keys are quoted (``"320402":``; unquoted they
    would load as ints, which ``ParameterNode`` also turns into strings), a single value is
    ``node["320402"]`` (``node.320402`` is not Python), and fancy indexing ``node[codes]``
    accepts an array of str or of ints (converted with ``str``). But fancy indexing walks the
    whole array in Python and fails with a bare ``ParameterNotFoundError`` on the first unknown
    code; with hundreds of thousands of households per batch it is faster — and clearer — to
    look each distinct code up once and scatter with ``np.unique``'s inverse.
    """
    codes = np.asarray(district_codes).astype(str)
    unique_codes, inverse = np.unique(codes, return_inverse=True)
    available = set(standards_node)
    missing = [code for code in unique_codes.tolist() if code not in available]
    if missing:
        raise MissingFigureError(
            "no_standard",
            f"{month} 没有以下区县的低保标准：{'、'.join(c or '(空)' for c in missing)}",
            missing,
        )
    values = np.array(
        [float(standards_node[code]) for code in unique_codes.tolist()], dtype=np.float64
    )
    return values[inverse.reshape(-1)]


def disposable_income_of_previous_year(parameters, period) -> float:
    """``statistics.disposable_income`` for the calendar year before ``period`` (values are
    dated YYYY-01-01, one per year; a year with no figure of its own keeps the last one)."""
    year = period.start.year - 1
    node = parameters(f"{year}-01-01").statistics
    if "disposable_income" not in set(node):
        raise MissingFigureError(
            "no_statistics",
            f"没有 {year} 年常州市居民人均可支配收入（statistics.disposable_income）",
            [str(year)],
        )
    return float(node.disposable_income)
