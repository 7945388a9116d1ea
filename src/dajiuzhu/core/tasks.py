"""Background jobs of the core (Huey).

* ``audit_checkpoint_minutely`` — every minute: the audit chain's head is written as a signed
  checkpoint outside the database when it moved (core/audit.py), so that deleting the newest
  events is noticed by ``audit verify`` whatever their number.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dajiuzhu.core.audit import audit_checkpoint


@db_periodic_task(crontab(minute="*"))
def audit_checkpoint_minutely() -> None:
    audit_checkpoint(by="worker")
