"""单人保: a severely disabled or seriously ill member of a household just above the 低保
line is covered alone (民发〔2021〕57号 第八条)."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Person
from dajiuzhu.policy.variables.common import (
    GRADE_THREE,
    SEVERE_GRADES,
    Money,
    fen_lt,
    round_yuan,
)
from dajiuzhu.policy.variables.inputs import DisabilityKind


def severe_disability(person, period):
    """Disability grade 1–2, or grade 3 intellectual or psychiatric (单人保; 特困 has its own
    list, variables/tekun.py)."""
    grade = person("disability_grade", period)
    kind = person("disability_kind", period)
    grade_three_mental = (grade == GRADE_THREE) & (
        (kind == DisabilityKind.intellectual) | (kind == DisabilityKind.psychiatric)
    )
    return np.isin(grade, SEVERE_GRADES) | grade_three_mental


class single_person_dibao_category(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "单人保对象类别：一、二级残疾，三级智力或精神残疾，或患重特大疾病"

    def formula(person, period, parameters):
        return severe_disability(person, period) | person("has_serious_illness", period)


class single_person_dibao_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "符合单人保：家庭非低保，人均收入 < 1.5 × S，财产符合规定，且属单人保对象类别"

    def formula(person, period, parameters):
        household = person.household
        return (
            np.logical_not(household("dibao_eligible", period))
            & fen_lt(
                household("income_per_member", period),
                household("dibian_income_limit", period),
            )
            & household("assets_within_limits", period)
            & person("single_person_dibao_category", period)
        )


class single_person_dibao_amount(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "单人保金（元/月）= max(S − 个人计入收入, 保底比例 × S)，四舍五入到元"

    def formula(person, period, parameters):
        standard = person.household("dibao_standard", period)
        floor = parameters(period).dibao.minimum_share * standard
        amount = round_yuan(np.maximum(standard - person("counted_person_income", period), floor))
        return np.where(person("single_person_dibao_eligible", period), amount, 0.0)
