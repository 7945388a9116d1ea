"""The registry is the only place a person_key becomes a person again: re-identification for
exports is limited to administrators and the roles that see full ID numbers, and audited."""

from __future__ import annotations

import pytest

from dajiuzhu.core import crypto
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry.selectors import id_numbers_for_keys


def test_an_administrator_re_identifies_known_persons_and_the_read_is_audited(
    city_admin, tn_household
):
    person = tn_household[1][0]
    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    numbers = id_numbers_for_keys(
        actor=city_admin, keys=[person.person_key, 12345], purpose=Purpose.WARNING, reason="test"
    )
    assert numbers == {person.person_key: number}
    event = AuditEvent.objects.get(action="person.reidentify")
    assert (event.actor_id, event.purpose) == (city_admin.pk, Purpose.WARNING)
    assert event.detail == {"reason": "test", "asked": 2, "found": 1}
    assert number not in str(event.detail)


def test_a_clerk_may_not_re_identify(tn_clerk, tn_household):
    person = tn_household[1][0]
    with pytest.raises(AccessDenied):
        id_numbers_for_keys(
            actor=tn_clerk, keys=[person.person_key], purpose=Purpose.WARNING, reason="test"
        )
    assert not AuditEvent.objects.filter(action="person.reidentify").exists()
