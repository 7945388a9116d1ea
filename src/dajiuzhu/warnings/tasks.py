"""Background jobs of early warning (Huey). A task takes an id or a year and calls a service.

* ``scan_nightly`` — every night at 01:30: all six rules over the current year (MED_FALL is
  reported refused, the other rules still run, while last year's disposable income is missing),
  then overdue warnings are escalated.
* ``scan_event_batch`` — enqueued on commit when a batch of a dataset an event rule declares as
  its real-time trigger (``deaths``, ``traffic_accidents``, ``incidents``,
  ``disability_certificates``) is published or retracted.
* ``refresh_summaries`` — scheduled on commit when a batch of a dataset the scan reads through a
  lake summary (``wages``, ``hukou``) is published or retracted: rewrites those summaries (the
  nightly scan refreshes them first, too).
* ``escalate_overdue`` — every morning at 07:00 (and after each nightly scan).
"""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.warnings import services
from dajiuzhu.warnings.models import Trigger

log = logging.getLogger("dajiuzhu.warnings")


@db_task()
def scan_event_batch(batch_id: int) -> None:
    services.scan_for_batch(batch_id=batch_id)


@db_task()
def refresh_summaries(batch_id: int) -> None:
    services.summaries_refresh(batch_id=batch_id)


@db_periodic_task(crontab(hour="1", minute="30"))
def scan_nightly() -> None:
    year = timezone.localdate().year
    try:
        services.summaries_refresh()
    except Exception:  # the scan still runs: it computes the same rows from the batches
        log.exception("warnings.summaries.failed")
    try:
        report = services.scan_run(year=year, trigger=Trigger.NIGHTLY)
    except ServiceError as exc:  # e.g. no data yet for a new year: nothing to do tonight
        log.info("warnings.scan.skipped", extra={"year": year, "reason": exc.message})
    else:
        for refused in report.refused:
            log.warning(
                "warnings.scan.refused",
                extra={"rule": refused["rule"], "reason": refused["message"]},
            )
    services.warnings_escalate_overdue()


@db_periodic_task(crontab(hour="7", minute="0"))
def escalate_overdue() -> None:
    services.warnings_escalate_overdue()
