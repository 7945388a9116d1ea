"""城乡最低生活保障 (低保): standard, eligibility, amount (分类施保, 拒绝就业), gradual exit.

民发〔2021〕57号; the city's figures in parameters/dibao and parameters/assets.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household, Person
from dajiuzhu.policy.variables.common import (
    ADULT_AGE,
    EXTRA_AGE_FROM,
    REFUSAL_THRESHOLD,
    SEVERE_GRADES,
    Money,
    fen_le,
    fen_lt,
    round_fen,
    round_yuan,
    standard_by_district,
)


class dibao_standard(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "低保标准 S（元/人·月），按户籍区县与月份"
    reference = "parameters/dibao/standard.yaml"

    def formula(household, period, parameters):
        return standard_by_district(
            household("district_code", period),
            parameters(period).dibao.standard,
            str(period),
        )


class dibao_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "符合低保条件：人均收入 < 低保标准，且家庭财产符合规定"

    def formula(household, period, parameters):
        return fen_lt(
            household("income_per_member", period), household("dibao_standard", period)
        ) & household("assets_within_limits", period)


class work_refuser(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "无正当理由拒绝就业 3 次及以上（扣除其份额）"
    reference = "民发〔2021〕57号 第三十四条"

    def formula(person, period, parameters):
        return person("work_refusals", period) >= REFUSAL_THRESHOLD


class dibao_extra_member(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "分类施保对象：非拒绝就业人员，且年满 70 岁、未满 18 岁或一、二级残疾"

    def formula(person, period, parameters):
        age = person("age", period)
        grade = person("disability_grade", period)
        return np.logical_not(person("work_refuser", period)) & (
            (age >= EXTRA_AGE_FROM) | (age < ADULT_AGE) | np.isin(grade, SEVERE_GRADES)
        )


class dibao_base_amount(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "低保差额（元/月）= max(S × n − 家庭计入收入, 保底比例 × S × n)"

    def formula(household, period, parameters):
        standard = household("dibao_standard", period)
        size = household("household_size", period)
        gap = standard * size - household("counted_income", period)
        floor = parameters(period).dibao.minimum_share * standard * size
        return round_fen(np.maximum(gap, floor))


class dibao_refuser_count(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "拒绝就业人数"

    def formula(household, period, parameters):
        return household.sum(household.members("work_refuser", period))


class dibao_refused_share(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "扣除拒绝就业人员份额（元/月）= 低保差额 / n × 拒绝就业人数"

    def formula(household, period, parameters):
        return round_fen(
            household("dibao_base_amount", period)
            / household("household_size", period)
            * household("dibao_refuser_count", period)
        )


class dibao_extra_member_count(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "分类施保人数"

    def formula(household, period, parameters):
        return household.sum(household.members("dibao_extra_member", period))


class dibao_classified_extra(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "分类施保增发（元/月）= 增发比例 × S × 分类施保人数"

    def formula(household, period, parameters):
        return round_fen(
            parameters(period).dibao.extra_share
            * household("dibao_standard", period)
            * household("dibao_extra_member_count", period)
        )


class dibao_computed_amount(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "按规则计算的低保金（元/月）= 低保差额 − 拒绝就业份额 + 分类施保，四舍五入到元"

    def formula(household, period, parameters):
        # The shares are computed on the exact base / n; only the result is rounded (to the
        # fen, then half up to the yuan).
        base = household("dibao_base_amount", period)
        size = household("household_size", period)
        remaining = size - household("dibao_refuser_count", period)
        return round_yuan(base * remaining / size + household("dibao_classified_extra", period))


class dibao_gradual_exit(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "低保渐退：上月享受低保，S ≤ 人均收入 < 1.5 × S，财产符合，渐退月数未用完"
    reference = "民发〔2021〕57号 第三十三条"

    def formula(household, period, parameters):
        standard = household("dibao_standard", period)
        per_member = household("income_per_member", period)
        months_allowed = parameters(period).dibao.gradual_exit_months
        return (
            np.logical_not(household("dibao_eligible", period))
            & household("dibao_last_month", period)
            & fen_le(standard, per_member)
            & fen_lt(per_member, household("dibian_income_limit", period))
            & household("assets_within_limits", period)
            & (household("gradual_exit_months_used", period) < months_allowed)
        )


class dibao_amount(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "低保金（元/月）：符合条件按规则计算；渐退期沿用上月金额；否则 0"

    def formula(household, period, parameters):
        return np.where(
            household("dibao_eligible", period),
            household("dibao_computed_amount", period),
            np.where(
                household("dibao_gradual_exit", period),
                round_fen(household("last_dibao_amount", period)),
                0.0,
            ),
        )
