"""Raising an alarm: once per (rule, spell) — the database's unique constraint decides, so two
intakes or a re-run check can never raise the same alarm twice."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from dajiuzhu.care.models import TECHNICAL_RULES, Alarm, Device, DeviceEvent
from dajiuzhu.core.audit import AuditEntry, audit_record, audit_record_many
from dajiuzhu.core.roles import Purpose


def alarm_raise(
    *,
    rule: str,
    spell: str,
    person_id: int,
    division_code: str,
    raised_at: datetime,
    device: Device | None = None,
    event: DeviceEvent | None = None,
) -> Alarm | None:
    """The new alarm, or None when this spell already has one."""
    if Alarm.objects.filter(rule=rule, spell=spell).exists():
        return None
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                rule=rule,
                spell=spell,
                person_id=person_id,
                device=device,
                event=event,
                event_ref=event.event_id if event is not None else "",
                division_code=division_code,
                technical=rule in TECHNICAL_RULES,
                raised_at=raised_at,
            )
            audit_record(
                actor=None,
                action="care.alarm.raise",
                object_type="care_alarm",
                object_id=alarm.pk,
                purpose=Purpose.CARE,
                label="care",
                detail={"rule": rule, "device": device.device_id if device else ""},
            )
    except IntegrityError:  # raised concurrently by another process
        return None
    return alarm


def alarms_raise_many(rule: str, candidates: list[dict], devices: dict[int, Device]) -> list[Alarm]:
    """Raise many alarms of one rule whose spells have none yet (the caller has read which
    exist): one insert for the alarms and one for their audit events. ``candidates``: the
    keyword arguments of ``alarm_raise`` with ``device`` a device pk (or absent); ``devices``
    those devices by pk. Should another process raise one of them meanwhile (the unique
    constraint decides), they are raised one by one and that one is left out."""
    if not candidates:
        return []
    new = [
        Alarm(
            rule=rule,
            spell=c["spell"],
            person_id=c["person_id"],
            device=devices.get(c["device"]) if c.get("device") else None,
            event_ref="",
            division_code=c["division_code"],
            technical=rule in TECHNICAL_RULES,
            raised_at=c["raised_at"],
        )
        for c in candidates
    ]
    try:
        with transaction.atomic():
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
                        {"rule": rule, "device": alarm.device.device_id if alarm.device else ""},
                    )
                    for alarm in new
                ],
            )
        return new
    except IntegrityError:
        pass
    raised = []
    for c, alarm in zip(candidates, new, strict=True):
        one = alarm_raise(
            rule=rule,
            spell=c["spell"],
            person_id=c["person_id"],
            division_code=c["division_code"],
            raised_at=c["raised_at"],
            device=alarm.device,
        )
        if one is not None:
            raised.append(one)
    return raised
