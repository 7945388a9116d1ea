"""Quarantine downloads: every cell through the one formula guard, in XLSX and CSV, and the
guard undone when the steward sends the download back."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from dajiuzhu.exchange.models import Batch, QuarantineRow
from dajiuzhu.exchange.selectors import quarantine_rows
from tests.factories.accounts import client_for
from tests.factories.exchange import claim, write_csv
from tests.spreadsheets import EVIL_CELLS, assert_csv_safe, assert_xlsx_safe


def _evil_rows() -> list[dict]:
    # total_cost "abc" sends every row to quarantine with its original values
    return [
        claim(100 + i, claim_id=f"Q{i}", hospital_code=value, total_cost="abc")
        for i, value in enumerate(EVIL_CELLS)
    ] + [claim(200, claim_id=EVIL_CELLS[0], total_cost="abc")]


def _upload(client, path):
    return client.post(
        "/work/exchange/batches/",
        {"dataset": "medical_claims", "file": SimpleUploadedFile(path.name, path.read_bytes())},
    )


def test_quarantine_downloads_hold_no_formula(
    steward_yibao, files, django_capture_on_commit_callbacks
):
    client = client_for(steward_yibao)
    rows = _evil_rows()
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, write_csv(files / "c.csv", rows))
    batch = Batch.objects.get()
    assert batch.rejected == len(rows)

    xlsx = client.get(f"/work/exchange/batches/{batch.pk}/quarantine.xlsx")
    assert assert_xlsx_safe(xlsx.content) >= len(rows) * 12
    text = client.get(f"/work/exchange/batches/{batch.pk}/quarantine.csv").content.decode(
        "utf-8-sig"
    )
    assert assert_csv_safe(text) == (len(rows) + 1) * 13


def test_a_download_sent_back_unchanged_restores_the_original_values(
    steward_yibao, files, django_capture_on_commit_callbacks
):
    client = client_for(steward_yibao)
    rows = _evil_rows()
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, write_csv(files / "c.csv", rows))
    first = Batch.objects.get()

    def values(batch):
        rows = quarantine_rows(user=steward_yibao, batch_id=batch.pk, with_values=True)
        return [r.values for r in rows]

    original = values(first)
    for fmt in ("csv", "xlsx"):
        download = client.get(f"/work/exchange/batches/{first.pk}/quarantine.{fmt}").content
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"/work/exchange/batches/{first.pk}/resubmit/",
                {"file": SimpleUploadedFile(f"back.{fmt}", download)},
            )
        again = Batch.objects.exclude(pk=first.pk).order_by("-id").first()
        assert (again.status, again.rejected) == ("published", len(rows)), again.error
        if fmt == "xlsx":  # XML turns a carriage return into a line feed
            assert values(again) == [
                {k: v.replace("\r\n", "\n").replace("\r", "\n") if v else v for k, v in r.items()}
                for r in original
            ]
        else:
            assert values(again) == original
    assert QuarantineRow.objects.count() == 3 * len(rows)


def test_the_warnings_statistics_workbook_holds_no_formula():
    from dajiuzhu.warnings import exports
    from dajiuzhu.warnings.selectors import StatRow, Stats

    evil = [StatRow(f"x{i}", value, pushed=1) for i, value in enumerate(EVIL_CELLS)]
    stats = Stats(None, evil, evil, evil, {}, StatRow("t", "合计"), {}, [])
    assert assert_xlsx_safe(exports.stats_xlsx(stats)) >= 3 * len(EVIL_CELLS)
