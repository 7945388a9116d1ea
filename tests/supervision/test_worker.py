"""The worker: a published (or retracted) payments batch runs the month's checks on commit."""

from __future__ import annotations

from dajiuzhu.exchange.hooks import after_commit_hooks
from dajiuzhu.exchange.services import batch_ingest_rows, batch_retract
from dajiuzhu.supervision.apps import PAYMENTS, on_payments_batch
from dajiuzhu.supervision.models import CheckRun, Finding, Status, Trigger
from tests.supervision.conftest import MONTH, FundCity


def test_the_payments_dataset_is_hooked():
    assert after_commit_hooks(PAYMENTS).count(on_payments_batch) == 1


def test_published_payments_are_checked_and_a_retraction_withdraws(
    db, django_capture_on_commit_callbacks
):
    c = FundCity()
    p = c.person("unapproved")
    c.load()
    row = c.pay(p, "dibian", "400.00", pid="W-1")
    c.rows = {}
    with django_capture_on_commit_callbacks(execute=True):
        result = batch_ingest_rows(actor=None, token=None, dataset=PAYMENTS, rows=[row])
    run = CheckRun.objects.get()
    assert (run.month, run.trigger, run.batch_id) == (MONTH, Trigger.PUBLISH, result.batch.pk)
    finding = Finding.objects.get()
    assert (finding.check_code, finding.payment_id, finding.status) == (
        "NO_APPROVAL",
        "W-1",
        Status.OPEN,
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch_retract(actor=None, batch_id=result.batch.pk, reason="发放文件重复报送")
    finding.refresh_from_db()
    assert finding.status == Status.WITHDRAWN
    assert "发放文件重复报送" in finding.withdrawn_reason


def test_the_nightly_recheck_withdraws_a_finding_whose_basis_arrived_late(db):
    from dajiuzhu.supervision.running import check_run, recheck_recent

    c = FundCity()
    p = c.person("late_record")
    c.pay(p, "dibao", pid="LATE-1")
    c.load()
    check_run(month=MONTH)
    assert Finding.objects.get().status == Status.OPEN  # no approval record yet
    c.recipient(p, "dibao", "2024-01-01")
    c.load()
    reports = recheck_recent()
    assert MONTH in {r.run.month for r in reports}
    finding = Finding.objects.get()
    assert finding.status == Status.WITHDRAWN
    assert "救助对象记录已补录" in finding.withdrawn_reason
