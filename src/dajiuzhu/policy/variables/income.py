"""Counted income (计入家庭收入), per person and per household member.

Every money figure below is stored rounded half up to the fen, as a caseworker writes it on
the check report; the rules compare these fen figures.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household, Person
from dajiuzhu.policy.variables.common import Money, round_fen


class employment_cost_deduction(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "就业成本扣减（元/月）= min(扣减比例 × 工资, 扣减上限)"

    def formula(person, period, parameters):
        p = parameters(period).income
        wage = person("wage_income", period)
        return round_fen(np.minimum(p.employment_cost_rate * wage, p.employment_cost_cap))


class income_exemption(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "就业收入豁免（元/月）= min(工资 − 扣减, 豁免倍数 × 低保标准)，仅限就业渐退人员"

    def formula(person, period, parameters):
        wage = person("wage_income", period)
        deduction = person("employment_cost_deduction", period)
        standard = person.household("dibao_standard", period)
        cap = parameters(period).income.exemption_multiplier * standard
        eligible = person("income_exemption_eligible", period)
        return np.where(eligible, round_fen(np.minimum(wage - deduction, cap)), 0.0)


class counted_person_income(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "个人计入收入（元/月）= 工资 − 就业成本扣减 − 就业豁免 + 其他计入收入"
    documentation = "exempt_income is never counted."

    def formula(person, period, parameters):
        return round_fen(
            person("wage_income", period)
            - person("employment_cost_deduction", period)
            - person("income_exemption", period)
            + person("other_income", period)
        )


class household_size(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭人口数 n"

    def formula(household, period, parameters):
        return household.nb_persons()


class counted_income(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "家庭计入收入（元/月）"

    def formula(household, period, parameters):
        return round_fen(household.sum(household.members("counted_person_income", period)))


class income_per_member(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "家庭人均收入（元/月）= 家庭计入收入 / n，四舍五入到分"

    def formula(household, period, parameters):
        return round_fen(household("counted_income", period) / household("household_size", period))
