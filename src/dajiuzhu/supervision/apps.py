from django.apps import AppConfig

PAYMENTS = "assistance_payments"


def on_payments_batch(batch_id: int) -> None:
    """The exchange's publish hook (runs on commit): queue the month's checks."""
    from dajiuzhu.supervision.tasks import check_payments_batch

    check_payments_batch(batch_id)


class SupervisionConfig(AppConfig):
    name = "dajiuzhu.supervision"
    label = "supervision"
    verbose_name = "监督检查"

    def ready(self) -> None:
        from dajiuzhu.exchange.hooks import on_publish

        on_publish(PAYMENTS, on_payments_batch)
