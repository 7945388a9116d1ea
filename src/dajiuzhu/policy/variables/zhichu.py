"""支出型困难家庭 (支出型): rigid medical and education spending pulls the household under the
line (民发〔2018〕23号)."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household
from dajiuzhu.policy.variables.common import (
    Money,
    disposable_income_of_previous_year,
    fen_lt,
    round_fen,
)


class income_after_rigid_per_member(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "扣除刚性支出后的人均收入（元/月）=（家庭计入收入 − 刚性支出）/ n"

    def formula(household, period, parameters):
        return round_fen(
            (household("counted_income", period) - household("rigid_expenditure", period))
            / household("household_size", period)
        )


class annual_income_per_member(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "人均年收入（元/年）= 人均收入 × 12"

    def formula(household, period, parameters):
        return round_fen(household("income_per_member", period) * 12)


class reference_disposable_income(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "上一年度常州市居民人均可支配收入（元/年）"

    def formula(household, period, parameters):
        value = disposable_income_of_previous_year(parameters, period)
        return household.filled_array(value, dtype=np.float64)


class zhichu_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = (
        "符合支出型：非低保，扣除刚性支出后人均收入 < S，人均年收入 < 上年人均可支配收入，"
        "财产符合支出型规定"
    )

    def formula(household, period, parameters):
        return (
            np.logical_not(household("dibao_eligible", period))
            & fen_lt(
                household("income_after_rigid_per_member", period),
                household("dibao_standard", period),
            )
            & fen_lt(
                household("annual_income_per_member", period),
                household("reference_disposable_income", period),
            )
            & household("zhichu_assets_within_limits", period)
        )
