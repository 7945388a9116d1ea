"""Real-time push: an event batch published (or retracted) through the exchange re-runs its
rule for the batch's persons on commit; the warning is visible at once (Huey immediate)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.utils import timezone

from dajiuzhu.exchange.services import batch_ingest_rows, batch_retract
from dajiuzhu.warnings.apps import REALTIME_DATASETS
from dajiuzhu.warnings.models import ScanRun, Status, Warning
from dajiuzhu.warnings.rules import REALTIME
from tests.factories.accounts import client_for
from tests.factories.city import City


def recent(days: int = 2) -> date:
    return timezone.localdate() - timedelta(days=days)


def test_the_hooked_datasets_are_the_event_rules_datasets():
    assert set(REALTIME_DATASETS) == set(REALTIME)
    assert REALTIME == {
        "traffic_accidents": "TRAFFIC",
        "incidents": "DISASTER",
        "deaths": "EARNER_DEATH",
        "disability_certificates": "NEW_SEVERE_DISABILITY",
    }


def push(dataset: str, row: dict, callbacks):
    with callbacks(execute=True):
        return batch_ingest_rows(actor=None, token=None, dataset=dataset, rows=[row])


def test_a_pushed_accident_becomes_a_visible_warning_within_a_minute(
    db, django_capture_on_commit_callbacks, tn_clerk
):
    c = City()
    hurt = c.person("hurt")
    other = c.person("other")
    c.accident(other, "AC-OLD", recent(3).isoformat(), "serious")
    c.load()
    started = time.monotonic()
    result = push(
        "traffic_accidents",
        {
            "accident_id": "AC-RT",
            "id_number": hurt.id_number,
            "accident_date": recent().isoformat(),
            "injury": "fatal",
        },
        django_capture_on_commit_callbacks,
    )
    page = client_for(tn_clerk).get("/work/warnings/")
    elapsed = time.monotonic() - started
    assert elapsed < 60
    warning = Warning.objects.get()  # only the new batch's person was scanned
    assert (warning.rule, warning.person_key, warning.event_ref) == ("TRAFFIC", hurt.key, "AC-RT")
    assert warning.year == recent().year
    assert "预警hurt" in page.content.decode()
    run = ScanRun.objects.get()
    assert (run.trigger, run.batch_id, run.rules) == ("realtime", result.batch.pk, ["TRAFFIC"])
    # the batch is retracted: the untouched warning is withdrawn, by the same hook
    with django_capture_on_commit_callbacks(execute=True):
        batch_retract(actor=None, batch_id=result.batch.pk, reason="误报")
    warning.refresh_from_db()
    assert warning.status == Status.WITHDRAWN
    assert "误报" in warning.withdrawn_reason


def test_a_death_push_runs_the_earner_rule_for_that_person(db, django_capture_on_commit_callbacks):
    died = recent()
    c = City()
    earner = c.person("rt_earner", birth=date(died.year - 45, 3, 3), household_no="HRT")
    c.person("rt_spouse", birth=date(died.year - 44, 3, 3), household_no="HRT", relation="spouse")
    first = date(died.year - 1, died.month, 1)  # the 12 months before the month of death
    c.wages(earner, f"{first:%Y-%m}", 12, "6000.00")
    c.load()
    push(
        "deaths",
        {
            "id_number": earner.id_number,
            "death_date": died.isoformat(),
            "reported_at": f"{timezone.localdate().isoformat()} 00:00:00",
        },
        django_capture_on_commit_callbacks,
    )
    warning = Warning.objects.get()
    assert (warning.rule, warning.person_key, warning.household_no) == (
        "EARNER_DEATH",
        earner.key,
        "HRT",
    )
    assert warning.evidence["wages_12_months"] == "72000.00"


def test_a_new_severe_certificate_and_an_incident_warn_in_real_time(
    db, django_capture_on_commit_callbacks
):
    c = City()
    p = c.person("rt_certificate")
    q = c.person("rt_flood")
    c.load()
    push(
        "disability_certificates",
        {
            "certificate_no": "CN-RT",
            "id_number": p.id_number,
            "disability_kind": "psychiatric",
            "grade": "3",
            "issued_date": recent().isoformat(),
            "status": "valid",
        },
        django_capture_on_commit_callbacks,
    )
    push(
        "incidents",
        {
            "incident_id": "IN-RT",
            "id_number": q.id_number,
            "incident_date": recent().isoformat(),
            "kind": "flood",
            "loss_level": "catastrophic",
            "loss_amount": "",
        },
        django_capture_on_commit_callbacks,
    )
    assert sorted(Warning.objects.values_list("rule", "event_ref")) == [
        ("DISASTER", "IN-RT"),
        ("NEW_SEVERE_DISABILITY", "CN-RT"),
    ]


def test_history_re_sent_in_real_time_does_not_warn_about_past_years(
    db, django_capture_on_commit_callbacks
):
    c = City()
    p = c.person("rt_history")
    c.load()
    push(
        "traffic_accidents",
        {
            "accident_id": "AC-2019",
            "id_number": p.id_number,
            "accident_date": "2019-05-05",
            "injury": "fatal",
        },
        django_capture_on_commit_callbacks,
    )
    assert not Warning.objects.exists()
    assert not ScanRun.objects.exists()


def test_other_datasets_do_not_trigger_scans(db, django_capture_on_commit_callbacks):
    c = City()
    p = c.person("claims_only")
    c.claim(p, recent().isoformat(), "50000.00")
    with django_capture_on_commit_callbacks(execute=True):
        c.load()
    assert not ScanRun.objects.exists()


def test_the_nightly_task_scans_the_current_year_and_escalates(db, monkeypatch):

    from dajiuzhu.warnings import services, tasks

    calls = []
    monkeypatch.setattr(
        services, "scan_run", lambda **kw: calls.append(kw) or services.ScanReport(run=None)
    )
    monkeypatch.setattr(services, "warnings_escalate_overdue", lambda: calls.append("escalate"))
    monkeypatch.setattr(services, "summaries_refresh", lambda: calls.append("summaries"))
    tasks.scan_nightly.call_local()
    assert calls == [
        "summaries",
        {"year": timezone.localdate().year, "trigger": "nightly"},
        "escalate",
    ]


def test_the_nightly_scan_runs_even_when_the_summaries_cannot_be_written(db, monkeypatch, caplog):
    from dajiuzhu.warnings import services, tasks

    def disk_full():
        raise OSError(28, "No space left on device")

    calls = []
    monkeypatch.setattr(services, "summaries_refresh", disk_full)
    monkeypatch.setattr(
        services, "scan_run", lambda **kw: calls.append(kw) or services.ScanReport(run=None)
    )
    tasks.scan_nightly.call_local()
    assert len(calls) == 1
    assert "warnings.summaries.failed" in caplog.text


def test_the_nightly_task_logs_a_year_without_data_and_refusals(db, caplog):
    from django.utils import timezone

    from dajiuzhu.warnings import tasks

    tasks.scan_nightly.call_local()  # an empty lake: nothing to scan, no exception
    assert "warnings.scan.skipped" in caplog.text
    c = City()
    p = c.person("nightly")
    c.claim(p, f"{timezone.localdate().year}-01-01", "20000.00")
    c.load()
    caplog.clear()
    tasks.scan_nightly.call_local()  # MED_FALL refused: no disposable income of last year
    assert "warnings.scan.refused" in caplog.text
