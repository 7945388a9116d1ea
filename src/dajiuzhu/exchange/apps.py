from django.apps import AppConfig


def _cluster_later(batch_id: int) -> None:
    from dajiuzhu.exchange.tasks import cluster

    cluster(batch_id)


class ExchangeConfig(AppConfig):
    name = "dajiuzhu.exchange"
    label = "exchange"
    verbose_name = "数据交换"

    def ready(self) -> None:
        # Large batches of person-keyed datasets are re-sorted by person_key by the worker
        # after publication (lake.cluster_batch), for fast look-ups of a household.
        from dajiuzhu.exchange.contracts import all_contracts
        from dajiuzhu.exchange.ingest import PUBLISH_HOOKS, on_publish

        for contract in all_contracts().values():
            if contract.person_field is not None and _cluster_later not in PUBLISH_HOOKS.get(
                contract.dataset, []
            ):
                on_publish(contract.dataset, _cluster_later)
