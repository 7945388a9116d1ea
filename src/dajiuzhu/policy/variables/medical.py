"""医疗救助 (yiliao): the reimbursement rate follows the person's strongest status."""

from __future__ import annotations

import numpy as np
from openfisca_core.periods import DateUnit

from dajiuzhu.policy.entities import Person
from dajiuzhu.policy.variables.common import Money


class medical_assistance_rate(Money):  # a rate, not money: Money only gives it float64
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    unit = "/1"
    label = "医疗救助比例：特困 > 低保（含渐退、单人保）> 低边 > 支出型 > 0"

    def formula(person, period, parameters):
        rate = parameters(period).medical.rate
        household = person.household
        dibao_like = (
            household("dibao_eligible", period)
            | household("dibao_gradual_exit", period)
            | person("single_person_dibao_eligible", period)
        )
        return np.select(
            [
                person("tekun_eligible", period),
                dibao_like,
                household("dibian_eligible", period),
                household("zhichu_eligible", period),
            ],
            [rate.tekun, rate.dibao, rate.dibian, rate.zhichu],
            default=0.0,
        )
