"""The seven fund checks through `dajiuzhu supervision check`, on a small lake loaded through the
real ingestion path: each check's known answer, re-runs, withdrawals, bad input."""

from __future__ import annotations

import json

from dajiuzhu.cli import main
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.exchange.services import batch_ingest_rows, batch_retract
from dajiuzhu.supervision.checks import CHECK_CODES
from dajiuzhu.supervision.models import CheckRun, Finding, Status
from tests.supervision.conftest import EXPECTED, MONTH, FundCity, build_fund_city, found


def check(capsys, *args) -> tuple[int, list[dict], str]:
    capsys.readouterr()
    code = main(["supervision", "check", *[str(a) for a in args]])
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.strip().splitlines() if line.startswith("{")]
    return code, lines, out.err


def test_each_check_finds_exactly_its_cases(fund_city, capsys):
    code, summaries, err = check(capsys, "--month", MONTH)
    assert code == 0, err
    assert [s["check"] for s in summaries] == list(CHECK_CODES)
    assert {s["check"]: s["created"] for s in summaries} == {
        "PAID_AFTER_DEATH": 1,
        "DUPLICATE_PAYMENT": 1,
        "EXCLUSIVE": 1,
        "NO_APPROVAL": 4,
        "VEHICLE": 1,
        "PROPERTY": 1,
        "BUSINESS": 1,
    }
    assert found(fund_city, Finding.objects.all()) == EXPECTED
    people = fund_city.people
    by = {(f.check_code, f.person_key): f for f in Finding.objects.all()}
    dead = by["PAID_AFTER_DEATH", people["dead_before"].key]
    assert dead.evidence == {"death_date": "2024-02-20"}
    assert dead.district_code == "320402"
    assert by["DUPLICATE_PAYMENT", people["duplicate"].key].evidence == {
        "payments": "2",
        "total": "1550.50",
    }
    assert by["EXCLUSIVE", people["exclusive"].key].evidence == {
        "tekun": "1200.00",
        "dibao": "800.00",
    }
    assert by["VEHICLE", people["vehicle"].key].evidence == {"vehicles": "1"}
    assert by["PROPERTY", people["property"].key].evidence == {"properties": "2"}
    business = by["BUSINESS", people["business"].key]
    assert business.district_code == "320412"
    assert business.household_no == "HB1"
    unrouted = by["NO_APPROVAL", people["no_hukou"].key]
    assert (unrouted.division_code, unrouted.district_code) == ("", "")
    assert all(f.status == Status.OPEN for f in Finding.objects.all())
    assert AuditEvent.objects.filter(action="supervision.check").count() == len(CHECK_CODES)


def test_rerunning_never_duplicates(fund_city, capsys):
    check(capsys, "--month", MONTH)
    code, summaries, _ = check(capsys, "--month", MONTH)
    assert code == 0
    assert sum(s["created"] for s in summaries) == 0
    assert sum(s["unchanged"] for s in summaries) == len(EXPECTED)
    assert Finding.objects.count() == len(EXPECTED)


def test_one_check_at_a_time(fund_city, capsys):
    code, summaries, _ = check(
        capsys, "--month", MONTH, "--check", "vehicle", "--check", "EXCLUSIVE"
    )
    assert code == 0
    assert [s["check"] for s in summaries] == ["EXCLUSIVE", "VEHICLE"]
    assert set(Finding.objects.values_list("check_code", flat=True)) == {"EXCLUSIVE", "VEHICLE"}


def test_bad_input_gets_clear_messages(fund_city, capsys):
    code, _, err = check(capsys, "--month", MONTH, "--check", "NOPE")
    assert code == 2
    assert "supervision.unknown_check" in err and "NOPE" in err
    code, _, err = check(capsys, "--month", "2024-13")
    assert code == 2
    assert "月份格式不正确" in err
    code, _, err = check(capsys, "--month", "2023-07")
    assert code == 2
    assert "supervision.no_payments" in err
    assert "2023-07没有救助金发放记录" in err
    assert not Finding.objects.exists()
    assert CheckRun.objects.filter(status="failed").count() == 1  # only the month with no payments


def test_a_retracted_batch_withdraws_untouched_findings_with_the_reason(db, capsys):
    c = build_fund_city()
    batches = c.load()
    check(capsys, "--month", MONTH)
    batch_retract(actor=None, batch_id=batches["deaths"], reason="死亡登记误报")
    code, summaries, _ = check(capsys, "--month", MONTH, "--check", "PAID_AFTER_DEATH")
    assert code == 0
    assert summaries[0]["withdrawn"] == 1
    f = Finding.objects.get(check_code="PAID_AFTER_DEATH")
    assert f.status == Status.WITHDRAWN
    assert f"数据批次#{batches['deaths']}(死亡登记)已撤回:死亡登记误报" in f.withdrawn_reason
    # the death is sent again: the finding comes back
    c.death(c.people["dead_before"], "2024-02-20")
    c.load()
    _, summaries, _ = check(capsys, "--month", MONTH, "--check", "PAID_AFTER_DEATH")
    assert summaries[0]["reinstated"] == 1
    assert Finding.objects.get(check_code="PAID_AFTER_DEATH").status == Status.OPEN


def test_a_corrected_payment_withdraws_and_an_acted_finding_keeps_a_note(fund_city, capsys):
    check(capsys, "--month", MONTH)
    acted = Finding.objects.get(check_code="VEHICLE")
    Finding.objects.filter(pk=acted.pk).update(status=Status.EXPLAINED, notes="车辆已过户")
    corrected = FundCity()
    corrected.people = fund_city.people
    # DU-2 re-sent as February's payment; the vehicle transferred
    corrected.pay(fund_city.people["duplicate"], "dibao", "750.50", month="2024-02", pid="DU-2")
    corrected.vehicle(
        fund_city.people["vehicle_spouse"], "苏D12345", "car", "2020-05-01", "transferred"
    )
    corrected.load()
    _, summaries, _ = check(capsys, "--month", MONTH)
    by = {s["check"]: s for s in summaries}
    assert by["DUPLICATE_PAYMENT"]["withdrawn"] == 1
    assert by["VEHICLE"]["basis_gone"] == 1
    dup = Finding.objects.get(check_code="DUPLICATE_PAYMENT")
    assert dup.status == Status.WITHDRAWN
    assert "重复的发放记录已更正或撤回" in dup.withdrawn_reason
    acted.refresh_from_db()
    assert acted.status == Status.EXPLAINED
    assert "车辆登记或户籍已更正" in acted.basis_note


def test_quarantined_payment_rows_never_feed_a_check(db, capsys):
    c = FundCity()
    ok = c.person("approved")
    c.recipient(ok, "dibian", "2023-01-01")
    bad = c.person("unapproved")
    c.load()
    good = c.pay(ok, "dibian", "400.00", pid="Q-1")
    negative = c.pay(bad, "dibian", "-5.00", pid="Q-2")
    wrong_digit = c.pay(bad, "dibian", "400.00", pid="Q-3")
    wrong_digit["id_number"] = bad.id_number[:17] + ("0" if bad.id_number[17] != "0" else "1")
    c.rows = {}
    result = batch_ingest_rows(
        actor=None, token=None, dataset="assistance_payments", rows=[good, negative, wrong_digit]
    )
    assert (result.batch.accepted, result.batch.rejected) == (1, 2)
    code, summaries, err = check(capsys, "--month", MONTH)
    assert code == 0, err
    assert sum(s["found"] for s in summaries) == 0
    assert not Finding.objects.exists()
