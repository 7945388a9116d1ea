"""Publish hooks (exchange.hooks): one mechanism for every reaction to a published batch. The
registry's feeds are in-transaction hooks chosen by the contract; a failing in-transaction hook
undoes the whole publication; after-commit hooks see the batch once it is visible."""

from __future__ import annotations

from pathlib import Path

import pytest

from dajiuzhu.cli import main
from dajiuzhu.exchange import hooks
from dajiuzhu.exchange.contracts import ContractError, _feed, all_contracts
from dajiuzhu.exchange.feeds import FEEDS
from dajiuzhu.exchange.models import Batch, BatchStatus
from tests.factories.exchange import person_id, write_csv


def test_the_registry_feeds_are_declared_by_the_contracts_and_registered_as_hooks():
    declared = {c.dataset: c.feeds_registry for c in all_contracts().values() if c.feeds_registry}
    assert declared == {"hukou": "hukou", "deaths": "deaths"}
    for dataset, feed in declared.items():
        assert hooks.in_transaction_hooks(dataset) == [FEEDS[feed]]


def test_an_unknown_feed_is_refused_when_the_contract_is_read():
    with pytest.raises(ContractError, match="feeds_registry"):
        _feed({"dataset": "x", "feeds_registry": "pensions"})


def test_registering_a_hook_twice_keeps_one(monkeypatch):
    monkeypatch.setattr(hooks, "PUBLISH_HOOKS", {})
    seen = []
    hooks.on_publish("hukou", seen.append)
    hooks.on_publish("hukou", seen.append)
    assert len(hooks.after_commit_hooks("hukou")) == 1


DEATH = {
    "id_number": person_id(1),
    "death_date": "2023-05-01",
    "reported_at": "2023-05-02 09:30:00",
}


def test_a_failing_in_transaction_hook_publishes_nothing(db, files, lake, monkeypatch):
    def broken(published):
        raise RuntimeError("the registry refused")

    monkeypatch.setitem(hooks.IN_TRANSACTION_HOOKS, "deaths", [broken])
    with pytest.raises(RuntimeError):
        main(["ingest", "deaths", str(write_csv(files / "deaths.csv", [DEATH]))])
    assert Batch.objects.get().status == BatchStatus.FAILED
    assert not list(Path(lake).rglob("*.parquet"))


def test_after_commit_hooks_get_the_published_batch(
    db, files, monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[int] = []
    monkeypatch.setitem(hooks.PUBLISH_HOOKS, "deaths", [seen.append])
    with django_capture_on_commit_callbacks(execute=True):
        assert main(["ingest", "deaths", str(write_csv(files / "deaths.csv", [DEATH]))]) == 0
    batch = Batch.objects.get()
    assert (seen, batch.status) == ([batch.pk], BatchStatus.PUBLISHED)
