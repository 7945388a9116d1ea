"""Background jobs of supervision (Huey). A task takes an id and calls a service.

* ``check_payments_batch`` — enqueued on commit when a batch of ``assistance_payments`` is
  published or retracted: the fund checks of the months it covers.
* ``recheck_nightly`` — every night at 02:30: this month, last month and every month with an
  open finding are checked again (a basis changed in another dataset withdraws its finding).
* ``monthly_notice`` — on the 3rd of each month at 06:00: last month's 通报 (PDF).
* ``escalate_overdue`` — every morning at 07:10: overdue findings and complaints are escalated
  to the city.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dajiuzhu.supervision import complaints, rectification, running


@db_task()
def check_payments_batch(batch_id: int) -> None:
    running.check_for_batch(batch_id=batch_id)


@db_periodic_task(crontab(hour="7", minute="10"))
def escalate_overdue() -> None:
    rectification.findings_escalate_overdue()
    complaints.complaints_escalate_overdue()


@db_periodic_task(crontab(hour="2", minute="30"))
def recheck_nightly() -> None:
    running.recheck_recent()
    rectification.findings_escalate_overdue()


@db_periodic_task(crontab(day="3", hour="6", minute="0"))
def monthly_notice() -> None:
    from dajiuzhu.supervision.notice import notice_previous_month

    notice_previous_month()


@db_task()
def generate_notice(month: str) -> None:
    from dajiuzhu.supervision.models import Trigger
    from dajiuzhu.supervision.notice import notice_generate

    notice_generate(actor=None, month=month, trigger=Trigger.MANUAL)
