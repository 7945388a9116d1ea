"""低保边缘家庭 (低边): income under 1.5 × the standard, not 低保 (民发〔2021〕57号 第八条)."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household
from dajiuzhu.policy.variables.common import Money, fen_lt, round_fen


class dibian_income_limit(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "低边收入线（元/人·月）= 低边倍数 × 低保标准"
    documentation = (
        "Also the upper bound of the gradual exit and of 单人保 (the 1.5 × S of RULES.md)."
    )

    def formula(household, period, parameters):
        return round_fen(parameters(period).dibian.multiplier * household("dibao_standard", period))


class dibian_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "符合低边条件：非低保、非渐退，人均收入 < 1.5 × S，财产符合规定"

    def formula(household, period, parameters):
        return (
            np.logical_not(household("dibao_eligible", period))
            & np.logical_not(household("dibao_gradual_exit", period))
            & fen_lt(
                household("income_per_member", period),
                household("dibian_income_limit", period),
            )
            & household("assets_within_limits", period)
        )
