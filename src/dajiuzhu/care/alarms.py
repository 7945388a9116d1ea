"""Raising an alarm: once per (rule, spell) — the database's unique constraint decides, so two
intakes or a re-run check can never raise the same alarm twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from dajiuzhu.care.models import TECHNICAL_RULES, Alarm, Device, DeviceEvent
from dajiuzhu.core.audit import AuditEntry, audit_record_many
from dajiuzhu.core.roles import Purpose


@dataclass(frozen=True)
class Candidate:
    """An alarm to raise: its rule and spell, whom it is about and since when."""

    rule: str
    spell: str
    person_id: int
    division_code: str
    raised_at: datetime
    device: Device | None = None
    event: DeviceEvent | None = None


def alarm_raise(one: Candidate) -> Alarm | None:
    """The new alarm, or None when this spell already has one: ``alarms_raise_many`` of
    one."""
    if Alarm.objects.filter(rule=one.rule, spell=one.spell).exists():
        return None
    raised = alarms_raise_many([one])
    return raised[0] if raised else None


def alarms_raise_many(candidates: list[Candidate]) -> list[Alarm]:
    """Raise alarms whose spells have none yet (the caller has read which exist): one insert
    for the alarms and one for their audit events. Should another process raise one of them
    meanwhile (the unique constraint decides), they are raised one by one and that one is
    left out."""
    if not candidates:
        return []
    try:
        with transaction.atomic():
            return _insert([_alarm(c) for c in candidates])
    except IntegrityError:
        if len(candidates) == 1:
            return []  # raised concurrently by another process
    raised = []
    for c in candidates:
        try:
            with transaction.atomic():
                raised += _insert([_alarm(c)])
        except IntegrityError:
            continue
    return raised


def _alarm(c: Candidate) -> Alarm:
    return Alarm(
        rule=c.rule,
        spell=c.spell,
        person_id=c.person_id,
        device=c.device,
        event=c.event,
        event_ref=c.event.event_id if c.event is not None else "",
        division_code=c.division_code,
        technical=c.rule in TECHNICAL_RULES,
        raised_at=c.raised_at,
    )


def _insert(new: list[Alarm]) -> list[Alarm]:
    Alarm.objects.bulk_create(new, batch_size=500)
    audit_record_many(
        actor=None,
        label="care",
        entries=[
            AuditEntry(
                "care.alarm.raise",
                "care_alarm",
                alarm.pk,
                Purpose.CARE,
                {"rule": alarm.rule, "device": alarm.device.device_id if alarm.device else ""},
            )
            for alarm in new
        ],
    )
    return new
