"""Background jobs of the care centre (Huey).

* ``care_minutely`` — every minute: the time-based alarm rules at T = now, then the escalation
  of people's alarms nobody accepted within ``care.escalation_seconds``.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dajiuzhu.care import services
from dajiuzhu.care.rules import care_check


@db_periodic_task(crontab(minute="*"))
def care_minutely() -> None:
    now = timezone.now()
    care_check(at=now)
    services.alarms_escalate_due(now=now)
