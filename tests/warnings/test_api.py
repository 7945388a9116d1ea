"""The warnings API as the workbench's scripts and other systems use it (staff sessions)."""

from __future__ import annotations

import pytest

from dajiuzhu.core.models import AuditEvent
from dajiuzhu.warnings import services
from dajiuzhu.warnings.models import Warning
from tests.factories.accounts import client_for, make_user
from tests.factories.city import TN_COMMUNITY, YEAR


@pytest.fixture
def scanned(city):
    services.scan_run(year=YEAR)
    return city


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_the_queue_lists_the_callers_warnings(scanned, tn_clerk, wj_caseworker):
    rows = client_for(tn_clerk).get("/api/v1/warnings").json()
    assert len(rows) == 8
    assert {r["rule"] for r in rows} == {
        "MED_RETURN",
        "MED_FALL",
        "TRAFFIC",
        "EARNER_DEATH",
        "NEW_SEVERE_DISABILITY",
    }
    med = next(r for r in rows if r["person_name"] == "预警med_return")
    assert (med["amount"], med["town"], med["household_no"], med["status"]) == (
        "12000.00",
        "雕庄街道",
        scanned.people["med_return"].household_no,
        "pushed",
    )
    rows = client_for(wj_caseworker).get("/api/v1/warnings", {"rule": "DISASTER"}).json()
    assert [r["person_name"] for r in rows] == ["预警disaster"]
    assert client_for(tn_clerk).get("/api/v1/warnings", {"limit": 0}).status_code == 422


def test_one_warning_with_its_evidence(scanned, tn_clerk, wj_caseworker):
    w = Warning.objects.get(rule="MED_RETURN", person_key=scanned.people["med_return"].key)
    body = client_for(tn_clerk).get(f"/api/v1/warnings/{w.pk}").json()
    assert body["evidence"]["out_of_pocket"] == "12000.00"
    assert [(m["month"], m["claim_type"], m["out_of_pocket"]) for m in body["monthly"]] == [
        ("2024-02", "住院", "7000.00"),
        ("2024-05", "门诊", "5000.00"),
    ]
    assert body["assistance"][0]["programme"] == "最低生活保障"
    assert "*" in body["person_id_number"]
    assert client_for(wj_caseworker).get(f"/api/v1/warnings/{w.pk}").status_code == 404


def test_assign_outcome_and_close_through_the_api(scanned, tn_clerk):
    w = Warning.objects.get(rule="TRAFFIC", event_ref="AC-1")
    grid = make_user("api_grid", "grid_worker", TN_COMMUNITY)
    clerk = client_for(tn_clerk)
    response = post(clerk, f"/api/v1/warnings/{w.pk}/assign", {"assignee": grid.pk})
    assert response.json() == {"id": w.pk, "status": "assigned", "assignee": grid.pk, "outcome": ""}
    worker = client_for(grid)
    assert (
        post(worker, f"/api/v1/warnings/{w.pk}/outcome", {"outcome": "x", "notes": "n"}).json()[
            "code"
        ]
        == "invalid_input"
    )
    response = post(worker, f"/api/v1/warnings/{w.pk}/outcome", {"outcome": "unreachable"})
    assert response.status_code == 422  # notes are required
    response = post(
        worker, f"/api/v1/warnings/{w.pk}/outcome", {"outcome": "unreachable", "notes": "三次未遇"}
    )
    assert response.json()["status"] == "investigated"
    assert post(worker, f"/api/v1/warnings/{w.pk}/close", {}).status_code == 403
    assert post(clerk, f"/api/v1/warnings/{w.pk}/close", {}).json()["status"] == "closed"
    response = post(clerk, f"/api/v1/warnings/{w.pk}/assign", {"assignee": grid.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "warning.not_assignable"
    assert AuditEvent.objects.filter(object_type="warning", object_id=str(w.pk)).count() == 3


def test_statistics_hold_no_personal_data(scanned, tn_clerk):
    body = client_for(tn_clerk).get("/api/v1/warnings/stats", {"year": YEAR}).json()
    assert body["total"]["pushed"] == 8
    assert {r["key"]: r["pushed"] for r in body["by_rule"]}["TRAFFIC"] == 2
    text = str(body)
    for p in scanned.people.values():
        assert p.name not in text and p.id_number not in text
