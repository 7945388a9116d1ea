"""Raising an alarm: once per (rule, spell) — the database's unique constraint decides, so two
intakes or a re-run check can never raise the same alarm twice."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from dajiuzhu.care.models import TECHNICAL_RULES, Alarm, Device, DeviceEvent
from dajiuzhu.core.audit import audit_record
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
