"""The paying district's queue through the API and the pages: scope, evidence within the 监督
purpose, rectification (confirmed, explained, wrong data), escalation, the export."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dajiuzhu.cli import main
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from dajiuzhu.supervision.checks import CHECK_CODES
from dajiuzhu.supervision.models import Finding, Status
from dajiuzhu.supervision.running import check_run
from tests.factories.accounts import client_for, make_user
from tests.supervision.conftest import EXPECTED, MONTH

API = "/api/v1/supervision/findings"


@pytest.fixture
def checked(fund_city):
    check_run(month=MONTH)
    return fund_city


@pytest.fixture
def city_supervisor(db):
    return make_user("city_supervisor", Role.SUPERVISOR, "320400")


@pytest.fixture
def tn_supervisor(db):
    return make_user("tn_supervisor", Role.SUPERVISOR, "320402")


def finding(check: str, city, label: str) -> Finding:
    return Finding.objects.get(check_code=check, person_key=city.people[label].key)


def test_each_district_sees_its_own_payees_and_the_city_sees_all(
    checked, tn_caseworker, wj_caseworker, city_supervisor, outsider
):
    tn = client_for(tn_caseworker).get(API).json()
    assert {r["check"] for r in tn} == {c for c, *_ in EXPECTED} - {"BUSINESS"}
    assert all(r["district_code"] == "320402" for r in tn)
    wj = client_for(wj_caseworker).get(API).json()
    assert [(r["check"], r["person_name"]) for r in wj] == [("BUSINESS", "预警business")]
    everything = client_for(city_supervisor).get(API, {"limit": 500}).json()
    assert len(everything) == len(EXPECTED)  # the unrouted payee included, at city level
    assert client_for(outsider).get(API).status_code == 403  # a clerk: not a reading role
    one = client_for(city_supervisor).get(API, {"check": "VEHICLE"}).json()
    assert [(r["payment_id"], r["amount"], r["status"]) for r in one] == [
        ("VE-1", "800.00", "open")
    ]


def test_the_page_shows_lake_evidence_only_within_the_supervision_purpose(
    checked, tn_caseworker, tn_supervisor
):
    f = finding("PAID_AFTER_DEATH", checked, "dead_before")
    as_supervisor = client_for(tn_supervisor).get(f"{API}/{f.pk}").json()
    assert as_supervisor["lake_evidence"] is True
    assert as_supervisor["evidence"] == [{"label": "死亡日期", "value": "2024-02-20"}]
    tables = {t["title"]: t for t in as_supervisor["lake_tables"]}
    assert set(tables) == {"救助金发放", "死亡登记"}
    assert tables["死亡登记"]["columns"] == ["人员", "死亡日期", "登记时间"]
    assert tables["死亡登记"]["rows"][0][:2] == ["预警dead_before", "2024-02-20"]
    assert tables["救助金发放"]["rows"][0][1] == "PD-1"
    number = checked.people["dead_before"].id_number
    assert as_supervisor["person_id_number"] != number  # masked for a supervisor
    assert as_supervisor["person_id_number"][:4] == number[:4]
    as_caseworker = client_for(tn_caseworker).get(f"{API}/{f.pk}").json()
    assert as_caseworker["lake_evidence"] is False
    assert as_caseworker["lake_tables"] == []
    assert as_caseworker["person_id_number"] == number  # the caseworker acts on the case
    views = AuditEvent.objects.filter(action="supervision.finding.view", object_id=str(f.pk))
    assert views.count() == 2
    assert {e.purpose for e in views} == {"supervision"}
    # the household's vehicles: the spouse's car, 监督 fields only
    v = finding("VEHICLE", checked, "vehicle")
    page = client_for(tn_supervisor).get(f"/work/supervision/findings/{v.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "苏D12345" in html and "预警vehicle_spouse" in html
    page = client_for(tn_caseworker).get(f"/work/supervision/findings/{v.pk}/")
    assert "苏D12345" not in page.content.decode()
    assert "仅向具有“监督检查”用途权限的人员展示" in page.content.decode()


def rectify(client, f: Finding, **body):
    return client.post(f"{API}/{f.pk}/rectify", json.dumps(body), content_type="application/json")


def test_confirmed_means_recovered_and_stopped(checked, tn_caseworker, tn_supervisor):
    f = finding("DUPLICATE_PAYMENT", checked, "duplicate")
    client = client_for(tn_caseworker)
    answer = rectify(client, f, resolution="confirmed", recovered_amount="750.50")
    assert answer.status_code == 400
    assert answer.json()["code"] == "finding.payment_stopped"
    answer = rectify(
        client, f, resolution="confirmed", recovered_amount="2000", payment_stopped=True
    )
    assert answer.json()["message"] == "追回金额不能超过问题金额1550.50元"
    answer = rectify(
        client, f, resolution="confirmed", recovered_amount="abc", payment_stopped=True
    )
    assert answer.json()["code"] == "finding.recovered_amount"
    f.refresh_from_db()
    assert f.status == Status.OPEN  # nothing changed by the refusals
    answer = rectify(
        client, f, resolution="confirmed", recovered_amount="750.50", payment_stopped=True
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "id": f.pk,
        "status": "confirmed",
        "returned_to": "",
        "recovered_amount": "750.50",
    }
    again = rectify(client, f, resolution="explained", notes="再次提交")
    assert again.json()["code"] == "finding.not_open"
    # a supervisor watches, the district rectifies
    other = finding("VEHICLE", checked, "vehicle")
    assert (
        rectify(client_for(tn_supervisor), other, resolution="explained", notes="x").status_code
        == 403
    )
    event = AuditEvent.objects.get(action="supervision.finding.rectify")
    assert event.detail["resolution"] == "confirmed" and event.purpose == "supervision"


def test_explained_needs_the_evidence_and_wrong_data_goes_back_to_its_owner(checked, tn_caseworker):
    client = client_for(tn_caseworker)
    f = finding("VEHICLE", checked, "vehicle")
    assert rectify(client, f, resolution="explained").json()["code"] == "finding.notes"
    ok = rectify(client, f, resolution="explained", notes="车辆系残疾人代步车,附行驶证复印件")
    assert ok.json()["status"] == "explained"
    dead = finding("PAID_AFTER_DEATH", checked, "dead_before")
    refused = rectify(client, dead, resolution="wrong_data", dataset="vehicles")
    assert refused.json()["code"] == "finding.dataset"
    assert "死亡登记" in refused.json()["message"]
    sent = rectify(client, dead, resolution="wrong_data", dataset="deaths", notes="本人在世")
    assert sent.json()["returned_to"] == "gongan"
    dead.refresh_from_db()
    assert (dead.status, dead.returned_dataset) == (Status.WRONG_DATA, "deaths")


def test_the_rectification_form_answers_in_chinese(checked, tn_caseworker):
    f = finding("PROPERTY", checked, "property")
    client = client_for(tn_caseworker)
    page = client.get(f"/work/supervision/findings/{f.pk}/")
    assert "登记整改" in page.content.decode()
    answer = client.post(
        f"/work/supervision/findings/{f.pk}/rectify/", {"resolution": "explained"}, follow=True
    )
    assert "说明情况须写明理由和证据" in answer.content.decode()
    answer = client.post(
        f"/work/supervision/findings/{f.pk}/rectify/",
        {"resolution": "explained", "notes": "两套住房中一套为危房,已核实"},
        follow=True,
    )
    html = answer.content.decode()
    assert "整改情况已登记" in html and "已说明情况" in html
    assert "登记整改</h2>" not in html  # the form is gone once rectified
    queue = client.get("/work/supervision/findings/", {"status": "explained"})
    assert "家庭多套住房" in queue.content.decode()


def test_overdue_findings_are_escalated_and_listed_first(checked, city_supervisor, capsys):
    late = finding("EXCLUSIVE", checked, "exclusive")
    Finding.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    capsys.readouterr()
    assert main(["supervision", "escalate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"escalated": 1, "complaints_escalated": 0}
    late.refresh_from_db()
    assert late.escalated
    rows = client_for(city_supervisor).get(API).json()
    assert rows[0]["id"] == late.pk and rows[0]["overdue"] and rows[0]["escalated"]
    assert main(["supervision", "escalate"]) == 0  # nothing new to escalate
    assert json.loads(capsys.readouterr().out) == {"escalated": 0, "complaints_escalated": 0}


def test_the_export_writes_the_specified_csv(checked, tmp_path, capsys):
    Finding.objects.filter(check_code="EXCLUSIVE").update(status=Status.WITHDRAWN)
    out = tmp_path / "findings.csv"
    capsys.readouterr()
    assert main(["supervision", "findings", "export", "--month", MONTH, "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == len(EXPECTED) - 1
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["check", "id_number", "program_code", "month", "payment_id", "amount"]
    people = checked.people
    assert [
        "DUPLICATE_PAYMENT",
        people["duplicate"].id_number,
        "dibao",
        MONTH,
        "",
        "1550.50",
    ] in rows
    assert ["NO_APPROVAL", "", "dibao", MONTH, "NH-1", "800.00"] in rows  # not in the registry
    assert not any(r[0] == "EXCLUSIVE" for r in rows)
    order = [r[0] for r in rows[1:]]
    assert order == sorted(order, key=CHECK_CODES.index)  # in the order of SUPERVISION.md
    assert (out.stat().st_mode & 0o777) == 0o600
    assert AuditEvent.objects.filter(action="supervision.findings.export").count() == 1
    assert main(["supervision", "findings", "export", "--month", "2024-3", "--out", str(out)]) == 2


def test_the_sections_own_address_leads_to_the_findings_queue(db):
    supervisor = make_user("tn_supervisor", Role.SUPERVISOR, "320402")
    answer = client_for(supervisor).get("/work/supervision/")
    assert answer.status_code == 302 and answer["Location"] == "/work/supervision/findings/"
