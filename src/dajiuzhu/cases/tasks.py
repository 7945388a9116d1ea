"""Periodic jobs of the case workflow: the daily escalation of overdue cases."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="6", minute="10"))
def flag_overdue_cases() -> int:
    from dajiuzhu.cases.services import cases_flag_overdue

    return cases_flag_overdue()
