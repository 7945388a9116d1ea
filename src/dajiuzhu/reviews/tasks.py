"""The worker's 复核 jobs: each morning, schedule the reviews falling due this month and run
the pending ones' checks in batches (one huey task per batch)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

BATCH = 200


@db_task()
def run_review_batch(ids: list[int]) -> dict:
    from dajiuzhu.reviews.services import reviews_run_pending

    return reviews_run_pending(ids=ids)


@db_periodic_task(crontab(hour="5", minute="40"))
def schedule_reviews() -> dict:
    from dajiuzhu.reviews.models import Review, ReviewStatus
    from dajiuzhu.reviews.services import reviews_schedule

    summary = reviews_schedule(actor=None)
    ids = list(
        Review.objects.filter(status=ReviewStatus.PENDING)
        .order_by("due_month", "id")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), BATCH):
        run_review_batch(ids[start : start + BATCH])
    summary["batches"] = -(-len(ids) // BATCH)
    return summary
