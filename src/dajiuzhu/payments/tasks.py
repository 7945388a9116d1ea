"""Background jobs of payments: publish a released roster into the lake (queued on commit of
the release), and a daily retry of any released roster still unpublished."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=3, retry_delay=30)
def publish_roster(roster_id: int) -> int:
    from dajiuzhu.payments.publication import roster_publish

    return roster_publish(roster_id=roster_id).lake_batch or 0


@db_periodic_task(crontab(hour="5", minute="40"))
def publish_pending_rosters() -> int:
    from dajiuzhu.payments.publication import publish_pending

    return len(publish_pending())
