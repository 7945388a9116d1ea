from django.apps import AppConfig

from dajiuzhu.analytics.summary_specs import SUMMARIES
from dajiuzhu.warnings.rules import READ_SUMMARIES, REALTIME

# Both from the rules' declarations (reading them loads no analytics stack):
# datasets whose publication (or retraction) re-runs an event rule,
REALTIME_DATASETS = tuple(REALTIME)
# and datasets the scan reads through a lake summary: the worker rewrites their summaries
# after each publication or retraction.
SUMMARY_DATASETS = tuple(dict.fromkeys(SUMMARIES[name].dataset for name in READ_SUMMARIES))


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
        from dajiuzhu.exchange.hooks import on_publish

        for dataset in REALTIME_DATASETS:
            on_publish(dataset, on_event_batch)
        for dataset in SUMMARY_DATASETS:
            on_publish(dataset, on_summarised_batch)
