from django.apps import AppConfig


def _cluster_later(batch_id: int) -> None:
    from dajiuzhu.exchange.tasks import cluster

    cluster(batch_id)


class _HueyUploadQueue:
    """The upload queue (exchange.queue) on Huey; the tasks module is imported when used."""

    def enqueue(self, batch_id: int) -> None:
        from dajiuzhu.exchange.tasks import process_upload

        process_upload(batch_id)

    def waiting(self) -> set[int]:
        from dajiuzhu.exchange.tasks import process_upload

        return {
            int(task.args[0])
            for task in process_upload.huey.pending()
            if isinstance(task, process_upload.task_class) and task.args
        }


class ExchangeConfig(AppConfig):
    name = "dajiuzhu.exchange"
    label = "exchange"
    verbose_name = "数据交换"

    def ready(self) -> None:
        from dajiuzhu.exchange import queue

        queue.set_upload_queue(_HueyUploadQueue())
        # Large batches of person-keyed datasets are re-sorted by person_key by the worker
        # after publication (lake.cluster_batch), for fast look-ups of a household.
        from dajiuzhu.exchange.contracts import all_contracts
        from dajiuzhu.exchange.feeds import FEEDS
        from dajiuzhu.exchange.hooks import on_publish

        for contract in all_contracts().values():
            if contract.person_field is not None:
                on_publish(contract.dataset, _cluster_later)
            # The registry's feeds (户籍, 死亡) change the registry in the publishing transaction.
            if contract.feeds_registry:
                on_publish(contract.dataset, FEEDS[contract.feeds_registry], in_transaction=True)
