"""特困人员救助供养 (特困): basic support at 1.3 × the 低保 standard plus care by self-care
level (国发〔2016〕14号)."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household, Person
from dajiuzhu.policy.variables.common import (
    ADULT_AGE,
    TEKUN_AGE_FROM,
    Money,
    fen_lt,
    round_fen,
    round_yuan,
)
from dajiuzhu.policy.variables.inputs import SelfCareLevel
from dajiuzhu.policy.variables.single_person import severe_disability


class tekun_category(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "特困对象类别：年满 60 岁、未满 18 岁、一二级残疾或三级智力/精神残疾"

    def formula(person, period, parameters):
        age = person("age", period)
        return (age >= TEKUN_AGE_FROM) | (age < ADULT_AGE) | severe_disability(person, period)


class tekun_basic_support(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "特困基本生活标准（元/月）= 倍数 × 低保标准；也是特困的收入线"

    def formula(household, period, parameters):
        multiplier = parameters(period).tekun.basic_multiplier
        return round_fen(multiplier * household("dibao_standard", period))


class tekun_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "符合特困：属特困对象类别，个人计入收入 < 1.3 × S，无有能力的义务人"

    def formula(person, period, parameters):
        return (
            person("tekun_category", period)
            & fen_lt(
                person("counted_person_income", period),
                person.household("tekun_basic_support", period),
            )
            & np.logical_not(person("has_able_supporter", period))
        )


class tekun_care_supplement(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "特困照料护理标准（元/月），按生活自理能力"

    def formula(person, period, parameters):
        care = parameters(period).tekun.care
        # One value per enumeration item, in the enumeration's order, indexed by the stored
        # item indices (faster than OpenFisca's per-element fancy indexing on a node).
        by_index = np.array([float(care[item.name]) for item in SelfCareLevel], dtype=np.float64)
        level = person("self_care_level", period)
        return by_index[np.asarray(level, dtype=np.intp)]


class tekun_support(Money):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "特困供养金（元/月）= 1.3 × S + 照料护理标准，四舍五入到元；不符合为 0"

    def formula(person, period, parameters):
        amount = round_yuan(
            person.household("tekun_basic_support", period)
            + person("tekun_care_supplement", period)
        )
        return np.where(person("tekun_eligible", period), amount, 0.0)
