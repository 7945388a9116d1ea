"""Inputs: what a household declares or what the economic-status check (家庭经济状况核对)
establishes. Names are the vocabulary of RULES.md; every input is monthly."""

from __future__ import annotations

from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household, Person
from dajiuzhu.policy.variables.common import Money


class DisabilityKind(Enum):
    none = "无残疾"
    visual = "视力残疾"
    hearing = "听力残疾"
    speech = "言语残疾"
    physical = "肢体残疾"
    intellectual = "智力残疾"
    psychiatric = "精神残疾"
    multiple = "多重残疾"


class SelfCareLevel(Enum):
    full = "生活能够自理"
    partial = "生活部分自理"
    none = "生活完全不能自理"


# ---------------------------------------------------------------------------- person inputs


class age(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.MONTH
    label = "年龄（周岁）"
    documentation = "Always give it: the default 0 makes the person a child (未满 18 岁)."


class disability_grade(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.MONTH
    label = "残疾等级：0 = 无，1 最重 … 4"


class disability_kind(Variable):
    value_type = Enum
    possible_values = DisabilityKind
    default_value = DisabilityKind.none
    entity = Person
    definition_period = DateUnit.MONTH
    label = "残疾类别"


class has_serious_illness(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "患重特大疾病"


class wage_income(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "工资性收入（元/月）"


class other_income(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "其他计入收入（元/月）：经营净收入、财产净收入、转移净收入等"


class exempt_income(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "不计入家庭收入的款项（元/月）"
    documentation = (
        "Never counted: social-assistance money, 优抚 benefits, scholarships, awards, "
        "family-planning awards, the disability 'two subsidies', the central basic pension. "
        "Recorded so that the report can show it; no rule reads it."
    )


class income_exemption_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "就业渐退：近 6 个月内在低保家庭中就业"


class work_refusals(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.MONTH
    label = "近 12 个月无正当理由拒绝就业介绍的次数"


class has_able_supporter(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "有具备赡养、抚养、扶养能力的义务人"
    documentation = "Defaults to false, as every bool input: give it for 特困 assessments."


class self_care_level(Variable):
    value_type = Enum
    possible_values = SelfCareLevel
    default_value = SelfCareLevel.full
    entity = Person
    definition_period = DateUnit.MONTH
    label = "生活自理能力"


# ------------------------------------------------------------------------- household inputs


class district_code(Variable):
    value_type = str
    entity = Household
    definition_period = DateUnit.MONTH
    label = "户籍所在区县代码（6 位），决定适用的低保标准"


class financial_assets(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "家庭金融资产（元）"


class non_exempt_vehicles(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "非豁免机动车辆数"


class extra_residential_units(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "唯一住房以外的住房套数"


class runs_active_business(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "有正常经营的市场主体"


class rigid_expenditure(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "刚性支出（元/月）：自付医疗、教育支出"


class dibao_last_month(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "上月享受低保"


class gradual_exit_months_used(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "已享受渐退期的月数"


class last_dibao_amount(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "上月低保金（元/月）"
