"""The intake's validation (shared/policy/CARE.md) through `dajiuzhu care replay`: every bad
message is rejected and counted per reason, never alarmed, never a crash; a redelivered
message changes nothing."""

from __future__ import annotations

import json

from dajiuzhu.care.intake import topic_for
from dajiuzhu.care.models import Alarm, Device, DeviceEvent, Rejection
from dajiuzhu.care.services import device_register
from tests.care.conftest import message, t


def _counts() -> dict[str, int]:
    return {r.reason: r.count for r in Rejection.objects.all()}


def test_bad_messages_are_rejected_counted_and_never_alarmed(tn_person, replay, capsys):
    button = tn_person.device("BTN-1", "button")
    removed = tn_person.device("BTN-OLD", "button")
    device_register(
        actor=None,
        device_id=removed,
        kind="button",
        id_number=tn_person.id_number,
        installed_at=Device.objects.get(device_id=removed).installed_at,
        status="removed",
    )
    at = t("03-01 08:00")
    good = json.loads(message(button, "e-1", "button", at)["payload"])
    replay.add(message("NOBODY-7", "x-1", "button", at))  # unknown device
    replay.add(message(removed, "x-2", "button", at))  # removed device
    replay.raw(topic_for(button), '{"event_id": "x-3", "type": "button", ')  # malformed
    replay.raw(topic_for(button), "\xff\xfe not json")
    replay.raw(topic_for(button), "[1, 2]")  # JSON, but not an object
    replay.raw(topic_for(button), json.dumps({**good, "event_id": "x-4", "type": "explode"}))
    replay.raw(topic_for(button), json.dumps({**good, "event_id": "x-5", "at": "yesterday"}))
    replay.raw(
        topic_for(button),
        json.dumps({**good, "event_id": "x-6", "at": "2024-02-30T08:00:00+08:00"}),
    )
    replay.raw(
        topic_for(button), json.dumps({**good, "event_id": "x-7", "at": "2024-03-01T08:00:00"})
    )
    # more than 5 minutes after the replay's end: in the future
    replay.raw(
        topic_for(button),
        json.dumps({**good, "event_id": "x-8", "at": "2024-03-01T09:06:00+08:00"}),
    )
    replay.raw(topic_for(button), json.dumps({**good, "event_id": "x-9", "pad": "x" * 4096}))
    replay.raw(topic_for(button), json.dumps({**good, "event_id": "x-10", "battery": 130}))
    replay.raw("dajiuzhu/v1/devices/BTN-1/status", json.dumps(good))  # not the events topic
    replay.raw(topic_for(button), json.dumps({**good, "event_id": ""}))
    summary = replay.run(until=t("03-01 09:00"), capsys=capsys)

    assert summary["rejected"] == 14
    assert summary["accepted"] == 0
    assert _counts() == {
        "unknown_device": 1,
        "removed_device": 1,
        "malformed": 3,
        "unknown_type": 1,
        "bad_time": 3,
        "future_time": 1,
        "oversized": 1,
        "bad_battery": 1,
        "bad_topic": 1,
        "bad_event_id": 1,
    }
    assert not Alarm.objects.filter(rule="BUTTON").exists()
    assert not DeviceEvent.objects.exists()


def test_a_bad_line_of_the_replay_file_is_reported_and_the_rest_taken_in(tn_person, replay, capsys):
    button = tn_person.device("BTN-2", "button")
    replay.lines.append("this is not a JSON line")
    replay.add(message(button, "e-1", "button", t("03-01 08:00")))
    summary = replay.run(until=t("03-01 08:30"), capsys=capsys)
    assert summary["bad_lines"] == 1
    assert Alarm.objects.filter(rule="BUTTON", device__device_id=button).count() == 1


def test_a_redelivered_message_changes_nothing(tn_person, replay, capsys):
    pendant = tn_person.device("PND-1", "pendant")
    press = message(pendant, "e-1", "button", t("03-01 08:00"), battery=15)
    replay.add(press, press, press)
    summary = replay.run(until=t("03-01 08:10"), capsys=capsys)
    assert (summary["accepted"], summary["duplicate"]) == (1, 2)
    assert Alarm.objects.filter(rule="BUTTON").count() == 1
    assert Alarm.objects.filter(rule="LOW_BATTERY").count() == 1
    assert DeviceEvent.objects.count() == 1
    # and the whole file again, later: still nothing new
    replay.run(until=t("03-01 08:12"))
    assert Alarm.objects.filter(rule__in=["BUTTON", "LOW_BATTERY"]).count() == 2
    assert Rejection.objects.count() == 0


def test_test_presses_raise_nothing_and_immediate_rules_raise_one_each(tn_person, replay, capsys):
    pendant = tn_person.device("PND-2", "pendant")
    smoke = tn_person.device("SMK-1", "smoke")
    gas = tn_person.device("GAS-1", "gas")
    at = t("03-01 08:00")
    replay.add(
        message(pendant, "p-0", "test", at),
        message(pendant, "p-1", "button", at, location={"lat": 31.78, "lon": 119.95}),
        message(pendant, "p-2", "fall", t("03-01 08:01")),
        message(smoke, "s-1", "smoke", t("03-01 08:02")),
        message(gas, "g-1", "gas", t("03-01 08:03")),
    )
    replay.run(until=t("03-01 08:05"), capsys=capsys)
    rules = sorted(Alarm.objects.filter(technical=False).values_list("rule", "event_ref"))
    assert rules == [("BUTTON", "p-1"), ("FALL", "p-2"), ("GAS", "g-1"), ("SMOKE", "s-1")]
    assert DeviceEvent.objects.get(event_id="p-1").lat == 31.78


def test_devices_import_reports_bad_rows_and_loads_the_good(tn_person, tmp_path, capsys):
    from dajiuzhu.cli import main

    path = tmp_path / "devices.csv"
    path.write_text(
        "device_id,kind,id_number,installed_at,status\n"
        f"IMP-1,motion,{tn_person.id_number},2024-03-01,active\n"
        f"IMP-2,toaster,{tn_person.id_number},2024-03-01,active\n"
        "IMP-3,button,320402198001011234,2024-03-01,active\n"
        f"IMP-4,button,{tn_person.id_number},2024-13-01,active\n"
        f"IMP-5,pendant,{tn_person.id_number},2024-03-02,\n",
        encoding="utf-8",
    )
    assert main(["care", "devices", "import", str(path)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1]) == {"loaded": 2, "errors": 3}
    assert "line 3: care.device.kind" in captured.err
    assert "line 4:" in captured.err
    assert "line 5: care.import.date" in captured.err
    assert tn_person.id_number not in captured.err  # no ID number in error texts
    assert sorted(Device.objects.values_list("device_id", flat=True)) == ["IMP-1", "IMP-5"]
