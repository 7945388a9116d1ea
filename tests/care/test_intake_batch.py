"""The intake takes a batch (what arrived together over MQTT) in one transaction with a
handful of statements: results in order, the same answers as one message at a time, and a
race with another intake still stores every event once."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dajiuzhu.care import intake
from dajiuzhu.care.intake import ingest_many, topic_for
from dajiuzhu.care.models import Alarm, Device, DeviceEvent, Rejection
from dajiuzhu.core.audit import audit_verify
from tests.care.conftest import message, t


def _item(device_id: str, event_id: str, type_: str, at, **extra):
    m = message(device_id, event_id, type_, at, **extra)
    return (m["topic"], m["payload"], at)


def test_a_batch_gives_one_result_each_in_order(tn_person):
    sensor = tn_person.device("B-MOT", "motion")
    pendant = tn_person.device("B-PEN", "pendant")
    batch = [
        _item(sensor, "h-1", "heartbeat", t("03-01 08:00"), battery=80),
        _item(pendant, "p-1", "button", t("03-01 08:00")),
        _item("NOBODY-1", "x-1", "button", t("03-01 08:00")),
        _item(sensor, "m-1", "motion", t("03-01 08:01")),
        (topic_for(pendant), '{"event_id": "x-2", ', t("03-01 08:01")),
        _item(pendant, "p-1", "button", t("03-01 08:00")),  # the same message again
        _item(sensor, "h-2", "heartbeat", t("03-01 07:59"), battery=15),  # late and low
        _item(pendant, "h-3", "heartbeat", t("03-01 08:02"), battery=10),
    ]
    results = ingest_many(batch)
    assert [(r.status, r.reason) for r in results] == [
        ("accepted", ""),
        ("accepted", ""),
        ("rejected", "unknown_device"),
        ("accepted", ""),
        ("rejected", "malformed"),
        ("duplicate", ""),
        ("accepted", ""),
        ("accepted", ""),
    ]
    button = Alarm.objects.get(rule="BUTTON")
    assert results[1].alarms == [button.pk] and button.event.event_id == "p-1"
    low = Alarm.objects.get(rule="LOW_BATTERY")
    assert results[7].alarms == [low.pk] and low.device.device_id == pendant
    assert Alarm.objects.count() == 2  # the late low report is not the sensor's latest
    assert DeviceEvent.objects.count() == 5
    s = Device.objects.get(device_id=sensor)
    assert (s.last_heard_at, s.last_motion_at, s.last_battery, s.battery_low) == (
        t("03-01 08:01"),
        t("03-01 08:01"),
        80,
        False,
    )
    p = Device.objects.get(device_id=pendant)
    assert (p.last_heard_at, p.last_battery, p.battery_low) == (t("03-01 08:02"), 10, True)
    assert {r.reason: r.count for r in Rejection.objects.all()} == {
        "unknown_device": 1,
        "malformed": 1,
    }
    assert audit_verify().ok


def test_a_batch_of_heartbeats_costs_a_handful_of_statements_not_several_a_message(tn_person):
    devices = [tn_person.device(f"B-H{i}", "motion") for i in range(40)]
    batch = [_item(d, "h", "heartbeat", t("03-01 08:00")) for d in devices]
    with CaptureQueriesContext(connection) as queries:
        results = ingest_many(batch)
    assert {r.status for r in results} == {"accepted"}
    assert DeviceEvent.objects.count() == 40
    assert len(queries) < 12  # devices, known events, one insert, one update (+ savepoints)
    assert set(
        Device.objects.filter(device_id__in=devices).values_list("last_heard_at", flat=True)
    ) == {t("03-01 08:00")}


def test_an_event_another_intake_stored_meanwhile_counts_once(tn_person, monkeypatch):
    pendant = tn_person.device("B-RACE", "pendant")
    first = ingest_many([_item(pendant, "p-1", "button", t("03-01 08:00"))])
    assert first[0].status == "accepted"
    # as if another intake had stored p-1 between this batch's read and its insert
    monkeypatch.setattr(intake, "_known_events", lambda keys: set())
    results = ingest_many(
        [
            _item(pendant, "p-1", "button", t("03-01 08:00")),
            _item(pendant, "p-2", "button", t("03-01 08:05")),
        ]
    )
    assert [r.status for r in results] == ["duplicate", "accepted"]
    assert sorted(DeviceEvent.objects.values_list("event_id", flat=True)) == ["p-1", "p-2"]
    assert sorted(Alarm.objects.values_list("event_ref", flat=True)) == ["p-1", "p-2"]


def test_one_message_and_a_batch_give_the_same_answers(tn_person, wj_person):
    def run(person, prefix, one_by_one):
        sensor = person.device(f"{prefix}-MOT", "motion")
        pendant = person.device(f"{prefix}-PEN", "pendant")
        batch = [
            _item(sensor, "a", "heartbeat", t("03-01 08:00"), battery=50),
            _item(pendant, "b", "fall", t("03-01 08:01")),
            _item(pendant, "c", "away_on", t("03-01 08:02")),
            _item(sensor, "a", "heartbeat", t("03-01 08:00"), battery=50),
            _item(sensor, "d", "motion", t("03-01 08:03"), battery=19),
        ]
        results = [intake.ingest(*item) for item in batch] if one_by_one else ingest_many(batch)
        return [(r.status, r.reason, len(r.alarms)) for r in results], json.dumps(
            list(
                Device.objects.filter(device_id__in=[sensor, pendant])
                .order_by("device_id")
                .values_list("last_heard_at", "last_motion_at", "last_battery", "battery_low")
            ),
            default=str,
        )

    assert run(tn_person, "ONE", True) == run(wj_person, "MANY", False)
