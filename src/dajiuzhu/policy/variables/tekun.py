"""特困人员救助供养 (特困), 《特困人员认定办法》(民发〔2021〕43号): a person unable to work
(第五条), with no means of living (第六条) and no obligor able to support them (第七条).
Support: 1.3 × the 低保 standard (the support standard, 国发〔2016〕14号 — not the income test)
plus care by self-care level."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from dajiuzhu.policy.entities import Household, Person
from dajiuzhu.policy.variables.common import (
    TEKUN_AGE_FROM,
    TEKUN_CHILD_UNDER,
    TEKUN_MENTAL_GRADES,
    TEKUN_PHYSICAL_GRADES,
    TEKUN_VISUAL_GRADES,
    Money,
    fen_lt,
    round_fen,
    round_yuan,
)
from dajiuzhu.policy.variables.inputs import DisabilityKind, SelfCareLevel


def work_disabling(person, period):
    """A disability that by itself makes a person unable to work (43号 第五条): physical or
    multiple grade 1–2, visual grade 1, intellectual or psychiatric grade 1–3."""
    grade = person("disability_grade", period)
    kind = person("disability_kind", period)
    physical = (kind == DisabilityKind.physical) | (kind == DisabilityKind.multiple)
    visual = kind == DisabilityKind.visual
    mental = (kind == DisabilityKind.intellectual) | (kind == DisabilityKind.psychiatric)
    return (
        (physical & np.isin(grade, TEKUN_PHYSICAL_GRADES))
        | (visual & np.isin(grade, TEKUN_VISUAL_GRADES))
        | (mental & np.isin(grade, TEKUN_MENTAL_GRADES))
    )


class unable_to_work(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = (
        "无劳动能力：年满 60 周岁、未满 16 周岁，或一二级肢体/多重残疾、一级视力残疾、"
        "一至三级智力/精神残疾"
    )

    def formula(person, period, parameters):
        age = person("age", period)
        return (age >= TEKUN_AGE_FROM) | (age < TEKUN_CHILD_UNDER) | work_disabling(person, period)


class tekun_no_means_of_living(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "无生活来源：个人计入收入低于低保标准，且家庭财产符合规定"

    def formula(person, period, parameters):
        return fen_lt(
            person("counted_person_income", period),
            person.household("dibao_standard", period),
        ) & person.household("assets_within_limits", period)


class tekun_basic_support(Money):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    unit = "currency-CNY"
    label = "特困基本生活标准（元/月）= 倍数 × 低保标准（供养标准，不是收入线）"

    def formula(household, period, parameters):
        multiplier = parameters(period).tekun.basic_multiplier
        return round_fen(multiplier * household("dibao_standard", period))


class tekun_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "符合特困：无劳动能力，无生活来源（收入 < S，财产符合规定），无有能力的义务人"

    def formula(person, period, parameters):
        return (
            person("unable_to_work", period)
            & person("tekun_no_means_of_living", period)
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
