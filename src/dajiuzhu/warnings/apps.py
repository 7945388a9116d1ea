from django.apps import AppConfig

# Datasets whose publication (or retraction) re-runs an event rule: see rules.REALTIME (kept
# literal here so that starting Django does not import the analytics stack).
REALTIME_DATASETS = ("deaths", "traffic_accidents", "incidents", "disability_certificates")
# Datasets the rules read through a lake summary (analytics.summaries.SUMMARIES): the worker
# rewrites their summaries after each publication or retraction.
SUMMARY_DATASETS = ("wages", "hukou")


def on_event_batch(batch_id: int) -> None:
    """The exchange's publish hook (runs on commit): queue the real-time scan."""
    from dajiuzhu.warnings.tasks import scan_event_batch

    scan_event_batch(batch_id)


def on_summarised_batch(batch_id: int) -> None:
    """The exchange's publish hook for summarised datasets: rewrite the summaries a little
    later (``SUMMARY_REFRESH_DELAY``), so that a burst of pushes costs one rewrite — the first
    task to run writes the file for every batch published by then, the others find it there."""
    from django.conf import settings

    from dajiuzhu.warnings.tasks import refresh_summaries

    delay = settings.SUMMARY_REFRESH_DELAY
    if delay > 0:
        refresh_summaries.schedule((batch_id,), delay=delay)
    else:
        refresh_summaries(batch_id)


class WarningsConfig(AppConfig):
    name = "dajiuzhu.warnings"
    label = "warnings"
    verbose_name = "主动预警"

    def ready(self) -> None:
        from dajiuzhu.exchange.ingest import PUBLISH_HOOKS, on_publish

        for dataset in REALTIME_DATASETS:
            if on_event_batch not in PUBLISH_HOOKS.get(dataset, []):
                on_publish(dataset, on_event_batch)
        for dataset in SUMMARY_DATASETS:
            if on_summarised_batch not in PUBLISH_HOOKS.get(dataset, []):
                on_publish(dataset, on_summarised_batch)
