"""`POST /api/v1/care/events` with a device token goes through the intake's one code path;
the console's API for staff."""

from __future__ import annotations

import json

from django.test import Client

from dajiuzhu.care.models import Alarm, Rejection
from dajiuzhu.cli import main
from dajiuzhu.core.roles import Role
from tests.care.conftest import t
from tests.factories.accounts import client_for, make_user


def _token(device_id: str, capsys) -> str:
    capsys.readouterr()
    assert main(["care", "devices", "token", device_id]) == 0
    return capsys.readouterr().out.strip()


def _post(token: str, body: str | bytes) -> object:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post("/api/v1/care/events", data=body, content_type="application/json")


def test_a_device_posts_an_event_with_its_token(tn_person, capsys):
    pendant = tn_person.device("PND-API", "pendant")
    token = _token(pendant, capsys)
    body = json.dumps({"event_id": "api-1", "type": "fall", "at": t("03-01 08:00").isoformat()})
    first = _post(token, body)
    assert first.status_code == 202
    assert first.json()["status"] == "accepted"
    [alarm_id] = first.json()["alarms"]
    assert Alarm.objects.get(pk=alarm_id).rule == "FALL"
    again = _post(token, body)
    assert (again.status_code, again.json()["status"], again.json()["alarms"]) == (
        200,
        "duplicate",
        [],
    )
    assert Alarm.objects.filter(rule="FALL").count() == 1


def test_bad_events_are_refused_with_a_stable_code_and_counted(tn_person, capsys):
    pendant = tn_person.device("PND-API2", "pendant")
    token = _token(pendant, capsys)
    for body, code in (
        ("{not json", "care.malformed"),
        (
            json.dumps({"event_id": "a", "type": "sing", "at": "2024-03-01T08:00:00+08:00"}),
            "care.unknown_type",
        ),
        (
            json.dumps({"event_id": "b", "type": "button", "at": "2999-01-01T00:00:00+08:00"}),
            "care.future_time",
        ),
        ("{" + " " * 5000 + "}", "care.oversized"),
    ):
        response = _post(token, body)
        assert response.status_code == 400
        assert response.json()["code"] == code
        assert "拒收" in response.json()["message"]
    assert not Alarm.objects.filter(technical=False).exists()
    assert sum(r.count for r in Rejection.objects.all()) == 4


def test_a_wrong_or_missing_token_is_401(tn_person):
    tn_person.device("PND-API3", "pendant")
    body = json.dumps({"event_id": "x", "type": "button", "at": "2024-03-01T08:00:00+08:00"})
    assert _post("djd_wrong", body).status_code == 401
    assert (
        Client().post("/api/v1/care/events", body, content_type="application/json").status_code
        == 401
    )
    assert not Alarm.objects.exists()


def test_operators_accept_through_the_api_and_only_one_wins(tn_person, capsys):
    pendant = tn_person.device("PND-API4", "pendant")
    token = _token(pendant, capsys)
    body = json.dumps({"event_id": "api-9", "type": "button", "at": t("03-01 08:00").isoformat()})
    [alarm_id] = _post(token, body).json()["alarms"]
    one = client_for(make_user("op_one", Role.CALL_OPERATOR, "320400"))
    two = client_for(make_user("op_two", Role.CALL_OPERATOR, "320400"))
    assert [a["id"] for a in one.get("/api/v1/care/alarms").json()] == [alarm_id]
    first = one.post(f"/api/v1/care/alarms/{alarm_id}/accept")
    assert first.status_code == 200
    assert first.json()["accepted_by"] == "op_one"
    second = two.post(f"/api/v1/care/alarms/{alarm_id}/accept")
    assert second.status_code == 400
    assert second.json()["code"] == "care.alarm.taken"
    assert Alarm.objects.get(pk=alarm_id).accepted_by.username == "op_one"
    # a Wujin operator does not see a Tianning alarm
    wj = client_for(make_user("wj_op", Role.CALL_OPERATOR, "320412"))
    assert wj.get("/api/v1/care/alarms").json() == []
    assert (
        wj.post(
            f"/api/v1/care/alarms/{alarm_id}/outcome",
            {"outcome": "phone"},
            content_type="application/json",
        ).status_code
        == 404
    )
