"""The six rules through the `dajiuzhu scan` command and the scan service, on a small lake
loaded through the real ingestion path."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from dajiuzhu.cli import main
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.exchange.services import batch_ingest_rows, batch_retract
from dajiuzhu.warnings import scanning, services
from dajiuzhu.warnings.models import ScanRun, Status, Warning
from dajiuzhu.warnings.rules import RULE_CODES
from tests.factories.city import (
    EXPECTED,
    TN_COMMUNITY,
    WJ_COMMUNITY,
    YEAR,
    City,
    build_city,
    found,
)


def scan(capsys, *args) -> tuple[int, list[dict], str]:
    capsys.readouterr()
    code = main(["scan", *[str(a) for a in args]])
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.strip().splitlines() if line.startswith("{")]
    return code, lines, out.err


def test_each_rule_finds_exactly_its_cases(city, capsys):
    code, summaries, err = scan(capsys, "--year", YEAR)
    assert code == 0, err
    assert [s["rule"] for s in summaries] == list(RULE_CODES)
    assert {s["rule"]: s["created"] for s in summaries} == {
        "MED_RETURN": 2,
        "MED_FALL": 1,
        "TRAFFIC": 3,
        "DISASTER": 1,
        "EARNER_DEATH": 1,
        "NEW_SEVERE_DISABILITY": 2,
    }
    assert found(city, Warning.objects.all()) == EXPECTED
    by = {(w.rule, w.person_key): w for w in Warning.objects.all()}
    people = city.people
    assert by["MED_RETURN", people["med_return"].key].amount == Decimal("12000.00")
    assert by["MED_RETURN", people["med_return"].key].evidence == {
        "out_of_pocket": "12000.00",
        "threshold": "10000.00",
        "programmes": ["dibao"],
    }
    assert by["MED_RETURN", people["both_rules"].key].amount == Decimal("70000.00")
    assert by["MED_FALL", people["med_fall"].key].amount == Decimal("60000.00")
    assert by["TRAFFIC", people["traffic"].key].amount is None
    earner = by["EARNER_DEATH", people["earner"].key]
    assert (earner.household_no, earner.division_code, earner.town_id) == (
        "HE1",
        TN_COMMUNITY,
        "320402001",
    )
    assert earner.evidence["age"] == 44
    assert earner.evidence["remaining_members"] == 1
    assert earner.evidence["wages_12_months"] == "96000.00"
    disaster = by["DISASTER", people["disaster"].key]
    assert (disaster.division_code, disaster.town_id) == (WJ_COMMUNITY, "320412001")
    unrouted = by["TRAFFIC", people["no_hukou"].key]
    assert (unrouted.household_no, unrouted.division_code, unrouted.town_id) == ("", "", None)
    for w in Warning.objects.all():
        assert w.status == Status.PUSHED
        assert w.due_date > w.pushed_at.date()
        assert w.year == YEAR
        for p in people.values():
            assert p.id_number not in json.dumps(w.evidence)


def test_rerunning_creates_no_duplicate(city, capsys):
    scan(capsys, "--year", YEAR)
    before = list(Warning.objects.order_by("id").values_list("id", "status", "pushed_at"))
    code, summaries, _ = scan(capsys, "--year", YEAR)
    assert code == 0
    assert sum(s["created"] for s in summaries) == 0
    assert sum(s["unchanged"] for s in summaries) == len(EXPECTED)
    assert list(Warning.objects.order_by("id").values_list("id", "status", "pushed_at")) == before
    assert ScanRun.objects.filter(status="done").count() == 2


def test_one_rule_at_a_time(city, capsys):
    code, summaries, _ = scan(capsys, "--year", YEAR, "--rule", "traffic", "--rule", "DISASTER")
    assert code == 0
    assert [s["rule"] for s in summaries] == ["TRAFFIC", "DISASTER"]
    assert set(Warning.objects.values_list("rule", flat=True)) == {"TRAFFIC", "DISASTER"}


def test_unknown_rules_and_years_without_data_get_clear_messages(city, capsys):
    code, summaries, err = scan(capsys, "--year", YEAR, "--rule", "MED_RETRUN")
    assert code == 2
    assert summaries == []
    assert "未知的预警规则:MED_RETRUN" in err
    code, summaries, err = scan(capsys, "--year", 2021)
    assert code == 2
    assert "2021年没有可扫描的数据" in err
    code, _, err = scan(capsys, "--year", 1999)
    assert code == 2
    assert "扫描年度" in err
    code, _, err = scan(capsys, "--year", YEAR, "--engine", "oracle")
    assert code == 2
    assert "未知的计算引擎" in err
    assert not Warning.objects.exists()


def test_med_fall_refuses_without_last_years_income_and_never_assumes_zero(db, capsys):
    c = build_city()
    c.rows.pop("disposable_income")
    c.load()
    code, summaries, err = scan(capsys, "--year", YEAR, "--rule", "MED_FALL")
    assert code == 1
    assert summaries == [
        {
            "rule": "MED_FALL",
            "year": YEAR,
            "engine": "duckdb",
            "status": "refused",
            "message": summaries[0]["message"],
        }
    ]
    assert f"未导入{YEAR - 1}年居民人均可支配收入" in summaries[0]["message"]
    assert "refused: MED_FALL" in err
    assert not Warning.objects.exists()
    # the other rules still run in a full scan
    code, summaries, _ = scan(capsys, "--year", YEAR)
    assert code == 1
    assert {s["rule"]: s["status"] for s in summaries}["TRAFFIC"] == "ok"
    assert not Warning.objects.filter(rule="MED_FALL").exists()
    assert Warning.objects.filter(rule="MED_RETURN").count() == 2


def test_a_corrected_claim_withdraws_an_untouched_warning_and_keeps_an_acted_one(
    city, capsys, tn_clerk
):
    from tests.factories.accounts import make_user

    scan(capsys, "--year", YEAR)
    people = city.people
    acted = Warning.objects.get(rule="MED_RETURN", person_key=people["both_rules"].key)
    worker = make_user("tn_grid", "grid_worker", "320402001")
    services.warning_assign(actor=tn_clerk, warning_id=acted.pk, assignee_id=worker.pk)
    # 医保 corrects both persons' claims (same claim ids, lower amounts)
    corrected = City()
    for label, amount in (("med_return", "2000.00"), ("both_rules", "3000.00")):
        p = people[label]
        corrected.claim(p, f"{YEAR}-02-03", amount, claim_id=city.claim_ids[p.id_number][0])
    corrected.load()
    code, summaries, _ = scan(capsys, "--year", YEAR, "--rule", "MED_RETURN")
    assert code == 0
    assert summaries[0]["withdrawn"] == 1
    assert summaries[0]["basis_gone"] == 1
    gone = Warning.objects.get(rule="MED_RETURN", person_key=people["med_return"].key)
    assert gone.status == Status.WITHDRAWN
    assert "7,000.00元,未超过10,000.00元" in gone.withdrawn_reason
    acted.refresh_from_db()
    assert acted.status == Status.ASSIGNED
    assert "3,000.00元" in acted.basis_note
    event = AuditEvent.objects.filter(action="warning.scan").last()
    assert event.detail["withdrawn_ids"] == [gone.pk]
    # corrected back above the threshold: the same warning is reinstated, not duplicated
    again = City()
    p = people["med_return"]
    again.claim(p, f"{YEAR}-02-03", "9000.00", claim_id=city.claim_ids[p.id_number][0])
    again.load()
    _code, summaries, _ = scan(capsys, "--year", YEAR, "--rule", "MED_RETURN")
    assert summaries[0]["reinstated"] == 1
    gone.refresh_from_db()
    assert (gone.status, gone.withdrawn_reason, gone.amount) == ("pushed", "", Decimal("14000.00"))
    assert Warning.objects.filter(rule="MED_RETURN").count() == 2


def test_a_retracted_batch_withdraws_its_warnings_with_the_reason(db, capsys):
    c = build_city()
    batches = c.load()
    scan(capsys, "--year", YEAR)
    batch_retract(actor=None, batch_id=batches["traffic_accidents"], reason="事故编号重复报送")
    code, summaries, _ = scan(capsys, "--year", YEAR, "--rule", "TRAFFIC")
    assert code == 0
    assert summaries[0]["withdrawn"] == 3
    for w in Warning.objects.filter(rule="TRAFFIC"):
        assert w.status == Status.WITHDRAWN
        assert f"数据批次#{batches['traffic_accidents']}" in w.withdrawn_reason
        assert "事故编号重复报送" in w.withdrawn_reason
    assert Warning.objects.filter(rule="DISASTER", status=Status.PUSHED).count() == 1


def test_a_scan_that_fails_while_applying_leaves_warnings_as_they_were(city, capsys, monkeypatch):
    scan(capsys, "--year", YEAR)
    before = sorted(Warning.objects.values_list("id", "status", "amount", "withdrawn_reason"))
    corrected = City()
    p = city.people["med_return"]
    corrected.claim(p, f"{YEAR}-02-03", "1.00", claim_id=city.claim_ids[p.id_number][0])
    corrected.load()
    real = scanning._apply_rule
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(scanning, "_apply_rule", failing)
    with pytest.raises(RuntimeError):
        services.scan_run(year=YEAR)
    assert sorted(Warning.objects.values_list("id", "status", "amount", "withdrawn_reason")) == (
        before
    )
    failed = ScanRun.objects.order_by("-id").first()
    assert (failed.status, failed.error) == ("failed", "RuntimeError")


def test_quarantined_rows_never_feed_a_rule(db, capsys):
    c = City()
    p = c.person("good")
    bad = c.person("bad")
    c.accident(p, "AC-Q1", f"{YEAR}-02-02", "serious")
    row = c.accident(bad, "AC-Q2", f"{YEAR}-02-02", "serious")
    row["id_number"] = bad.id_number[:17] + ("0" if bad.id_number[17] != "0" else "1")
    c.accident(p, "AC-Q3", f"{YEAR + 5}-02-02", "serious")  # a date in the future
    batch_ingest_rows(actor=None, token=None, dataset="hukou", rows=c.rows.pop("hukou"))
    result = batch_ingest_rows(
        actor=None, token=None, dataset="traffic_accidents", rows=c.rows.pop("traffic_accidents")
    )
    assert (result.batch.accepted, result.batch.rejected) == (1, 2)
    code, _summaries, _ = scan(capsys, "--year", YEAR, "--rule", "TRAFFIC")
    assert code == 0
    assert list(Warning.objects.values_list("event_ref", flat=True)) == ["AC-Q1"]
