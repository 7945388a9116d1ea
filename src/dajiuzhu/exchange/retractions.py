"""Why something computed from the lake is gone: the batches of its datasets that were retracted
since it was found. The warning scan and the fund checks withdraw with this reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.exchange.models import Batch, BatchStatus


@dataclass(frozen=True)
class Retracted:
    id: int
    dataset: str
    retracted_at: datetime | None
    reason: str


def retracted_batches(datasets: Iterable[str]) -> list[Retracted]:
    """The retracted batches of ``datasets``, oldest first."""
    return [
        Retracted(pk, dataset, at, reason)
        for pk, dataset, at, reason in Batch.objects.filter(
            dataset__in=list(datasets), status=BatchStatus.RETRACTED
        )
        .order_by("id")
        .values_list("id", "dataset", "retracted_at", "retract_reason")
    ]


def withdrawal_reason(base: str, since: datetime, retracted: list[Retracted]) -> str:
    """``base``, preceded by each batch retracted at or after ``since`` with its reason (at
    most 500 characters)."""
    parts = [
        f"数据批次#{b.id}({get_contract(b.dataset).title})已撤回:{b.reason}"
        for b in retracted
        if b.retracted_at and b.retracted_at >= since
    ]
    parts.append(base)
    return ";".join(parts)[:500]
