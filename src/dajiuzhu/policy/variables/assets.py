"""Asset conditions (家庭财产状况) for 低保 / 低边 / 单人保 and for 支出型."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household
from dajiuzhu.policy.variables.common import Money, fen_le, round_fen


class financial_assets_per_member(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "人均金融资产（元）= 金融资产 / n，四舍五入到分"

    def formula(household, period, parameters):
        return round_fen(
            household("financial_assets", period) / household("household_size", period)
        )


class financial_asset_limit(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "人均金融资产上限（元）= 月数 × 低保标准"

    def formula(household, period, parameters):
        months = parameters(period).assets.financial_months
        return round_fen(months * household("dibao_standard", period))


class no_disqualifying_property(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "无非豁免车辆、无唯一住房以外的住房、无正常经营的市场主体"

    def formula(household, period, parameters):
        return (
            (household("non_exempt_vehicles", period) == 0)
            & (household("extra_residential_units", period) == 0)
            & np.logical_not(household("runs_active_business", period))
        )


class assets_within_limits(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭财产符合低保规定"

    def formula(household, period, parameters):
        return fen_le(
            household("financial_assets_per_member", period),
            household("financial_asset_limit", period),
        ) & household("no_disqualifying_property", period)


class zhichu_financial_asset_limit(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "支出型人均金融资产上限（元）= 月数 × 低保标准"

    def formula(household, period, parameters):
        months = parameters(period).assets.zhichu_financial_months
        return round_fen(months * household("dibao_standard", period))


class zhichu_assets_within_limits(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭财产符合支出型救助规定"

    def formula(household, period, parameters):
        return fen_le(
            household("financial_assets_per_member", period),
            household("zhichu_financial_asset_limit", period),
        ) & household("no_disqualifying_property", period)
