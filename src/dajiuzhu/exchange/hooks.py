"""What reacts to a published batch: one mechanism for every reaction (docs/decisions/0007).

Two kinds of hook, registered per dataset by the apps that react (``AppConfig.ready``):

* **in the transaction** (``in_transaction=True``) — called with a :class:`PublishedBatch`
  while the batch is being published; an error undoes the whole publication. The registry's
  feeds (户籍, 死亡) are these: the registry changes exactly when the batch becomes visible.
* **after commit** (the default) — called with the batch id once the batch is visible, and again
  when a batch is retracted (the hook reads the lake as it now is). Warnings' real-time rules,
  the lake summaries and the re-sort by person_key are these; they usually enqueue a task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.models import Batch


@dataclass(frozen=True)
class PublishedBatch:
    """A batch being published: its staged part file and the open DuckDB connection whose view
    ``v`` holds the validated rows (``fields`` maps contract fields to their expressions)."""

    batch: Batch
    contract: Contract
    con: Any
    part: Path
    fields: Any


AfterCommit = Callable[[int], None]
InTransaction = Callable[[PublishedBatch], None]

PUBLISH_HOOKS: dict[str, list[AfterCommit]] = {}
IN_TRANSACTION_HOOKS: dict[str, list[InTransaction]] = {}


def on_publish(dataset: str, hook: Callable, *, in_transaction: bool = False) -> None:
    """Register ``hook`` for ``dataset`` (idempotent: registering twice keeps one)."""
    registry: dict[str, list] = IN_TRANSACTION_HOOKS if in_transaction else PUBLISH_HOOKS
    hooks = registry.setdefault(dataset, [])
    if hook not in hooks:
        hooks.append(hook)


def after_commit_hooks(dataset: str) -> list[AfterCommit]:
    return list(PUBLISH_HOOKS.get(dataset, []))


def in_transaction_hooks(dataset: str) -> list[InTransaction]:
    return list(IN_TRANSACTION_HOOKS.get(dataset, []))


def run_in_transaction(published: PublishedBatch) -> None:
    for hook in in_transaction_hooks(published.contract.dataset):
        hook(published)


def batch_changed(batch: Batch) -> None:
    """Schedule the after-commit hooks of a batch that was published or retracted."""
    for hook in after_commit_hooks(batch.dataset):
        transaction.on_commit(functools.partial(hook, batch.pk))
