"""The time-based rules (shared/policy/CARE.md) through `dajiuzhu care replay` and
`dajiuzhu care check --at T`: INACTIVITY, NO_MORNING_ACTIVITY, OFFLINE, LOW_BATTERY, away mode,
one alarm per spell, and the export."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

from dajiuzhu.care.models import Alarm
from dajiuzhu.cli import main
from tests.care.conftest import SH, heartbeats, in_order, message, t


def _alarms(rule: str) -> list[str]:
    return [
        a.raised_at.astimezone(SH).strftime("%m-%d %H:%M")
        for a in Alarm.objects.filter(rule=rule).order_by("raised_at")
    ]


def test_inactivity_after_12_hours_once_per_spell(tn_person, replay, capsys):
    sensor = tn_person.device("MOT-1", "motion")
    lines = heartbeats(sensor, t("03-01 06:00"), t("03-02 12:00"))
    replay.add(*in_order([*lines, message(sensor, "m-1", "motion", t("03-01 07:30"))]))
    replay.run(until=t("03-02 12:00"), check_every=600, capsys=capsys)
    # 07:30 + 12 h, once (checked every 10 minutes through the night)
    assert _alarms("INACTIVITY") == ["03-01 19:30"]
    assert _alarms("OFFLINE") == []
    # checks again, for the same and a later T: nothing new
    for at in ("2024-03-02T12:00:00+08:00", "2024-03-02T12:05:00+08:00"):
        assert main(["care", "check", "--at", at]) == 0
    assert _alarms("INACTIVITY") == ["03-01 19:30"]


def test_a_new_motion_starts_a_new_spell(tn_person, replay, capsys):
    sensor = tn_person.device("MOT-2", "motion")
    lines = heartbeats(sensor, t("03-01 06:00"), t("03-02 23:00"))
    lines += [
        message(sensor, "m-1", "motion", t("03-01 07:00")),
        message(sensor, "m-2", "motion", t("03-02 08:00")),
    ]
    replay.add(*in_order(lines)).run(until=t("03-02 23:00"), check_every=900, capsys=capsys)
    assert _alarms("INACTIVITY") == ["03-01 19:00", "03-02 20:00"]


def test_never_seen_moving_counts_from_midnight_of_the_install_date(tn_person, replay, capsys):
    sensor = tn_person.device("MOT-3", "motion")
    replay.add(*heartbeats(sensor, t("03-01 00:00"), t("03-01 13:00")))
    replay.run(until=t("03-01 13:00"), check_every=3600, capsys=capsys)
    assert _alarms("INACTIVITY") == ["03-01 12:00"]


def test_away_silences_inactivity_and_leaving_it_restarts_the_clock(tn_person, replay, capsys):
    sensor = tn_person.device("MOT-4", "motion")
    button = tn_person.device("BTN-4", "button")
    lines = heartbeats(sensor, t("03-01 06:00"), t("03-02 12:00"))
    lines += heartbeats(button, t("03-01 06:00"), t("03-02 12:00"))
    lines += [
        message(sensor, "m-1", "motion", t("03-01 07:00")),
        message(button, "a-1", "away_on", t("03-01 08:00")),
        message(button, "a-2", "away_off", t("03-01 22:00")),
    ]
    replay.add(*in_order(lines)).run(until=t("03-02 12:00"), check_every=600, capsys=capsys)
    # silent while away (07:00 + 12 h falls in the away spell); 22:00 + 12 h after returning
    assert _alarms("INACTIVITY") == ["03-02 10:00"]


def test_no_morning_activity_once_per_day_and_not_when_away(tn_person, wj_person, replay, capsys):
    quiet = tn_person.device("MOT-5", "motion")
    away = wj_person.device("MOT-6", "motion")
    lines = heartbeats(quiet, t("03-01 00:00"), t("03-03 11:00"), every_minutes=12)
    lines += heartbeats(away, t("03-01 00:00"), t("03-03 11:00"), every_minutes=12)
    lines += [
        # day 1: both move in the morning window
        message(quiet, "q-1", "motion", t("03-01 06:00")),
        message(away, "w-1", "motion", t("03-01 06:30")),
        # day 2: quiet moves only at 10:00 (outside [05:00, 10:00)); away goes out 04:00–05:30
        message(away, "w-2", "away_on", t("03-02 04:00")),
        message(away, "w-3", "away_off", t("03-02 05:30")),
        message(quiet, "q-2", "motion", t("03-02 10:00")),
        # day 3: the away one moves at 09:59
        message(away, "w-4", "motion", t("03-03 09:59")),
        message(quiet, "q-3", "motion", t("03-03 04:59")),
    ]
    replay.add(*in_order(lines)).run(until=t("03-03 11:00"), check_every=1800, capsys=capsys)
    rows = sorted(
        (a.person_id, a.raised_at.astimezone(SH).strftime("%m-%d %H:%M"))
        for a in Alarm.objects.filter(rule="NO_MORNING_ACTIVITY")
    )
    assert rows == [(tn_person.pk, "03-02 10:00"), (tn_person.pk, "03-03 10:00")]


def test_offline_once_per_spell_and_again_after_being_heard(tn_person, replay, capsys):
    smoke = tn_person.device("SMK-5", "smoke")
    replay.add(
        message(smoke, "h-1", "heartbeat", t("03-01 08:00")),
        message(smoke, "h-2", "heartbeat", t("03-01 08:05")),
        # silent from 08:05 to 09:00
        message(smoke, "h-3", "heartbeat", t("03-01 09:00")),
        message(smoke, "h-4", "heartbeat", t("03-01 09:05")),
    )
    replay.run(until=t("03-01 10:00"), check_every=60, capsys=capsys)
    assert _alarms("OFFLINE") == ["03-01 08:20", "03-01 09:20"]
    assert Alarm.objects.filter(rule="OFFLINE").first().technical


def test_never_heard_counts_from_midnight_of_the_install_date(tn_person, capsys):
    tn_person.device("GAS-5", "gas")
    assert main(["care", "check", "--at", "2024-03-01T06:00:00+08:00"]) == 0
    assert _alarms("OFFLINE") == ["03-01 00:15"]


def test_low_battery_once_until_a_report_above_20(tn_person, replay, capsys):
    pendant = tn_person.device("PND-5", "pendant")
    at = t("03-01 08:00")
    replay.add(
        *(
            message(pendant, f"b-{i}", "heartbeat", at + timedelta(minutes=5 * i), battery=b)
            for i, b in enumerate([50, 20, 19, 18, 40, 12])
        )
    )
    replay.run(until=t("03-01 08:30"), check_every=60, capsys=capsys)
    assert sorted(Alarm.objects.filter(rule="LOW_BATTERY").values_list("event_ref", flat=True)) == [
        "b-1",
        "b-5",
    ]


def test_a_persons_own_inactivity_hours_override_the_default(tn_person, replay, capsys):
    from dajiuzhu.care.services import plan_save

    sensor = tn_person.device("MOT-7", "motion")
    plan_save(
        actor=None,
        person=tn_person.person,
        services=["智能设备"],
        visit_schedule="每月上门一次",
        review_date=t("06-01 00:00").date(),
        inactivity_hours=16,
    )
    lines = heartbeats(sensor, t("03-01 06:00"), t("03-02 06:00"))
    replay.add(*in_order([*lines, message(sensor, "m-1", "motion", t("03-01 07:00"))]))
    replay.run(until=t("03-02 06:00"), check_every=600, capsys=capsys)
    assert _alarms("INACTIVITY") == ["03-01 23:00"]


def test_export_as_care_md_specifies(tn_person, replay, capsys, tmp_path):
    sensor = tn_person.device("MOT-8", "motion")
    pendant = tn_person.device("PND-8", "pendant")
    lines = heartbeats(sensor, t("03-01 06:00"), t("03-01 20:00"))
    lines += heartbeats(pendant, t("03-01 06:00"), t("03-01 20:00"))
    lines += [
        message(sensor, "m-1", "motion", t("03-01 07:00")),
        message(pendant, "press-1", "button", t("03-01 09:30")),
        message(pendant, "low-1", "heartbeat", t("03-01 09:31"), battery=10),
    ]
    replay.add(*in_order(lines)).run(until=t("03-01 20:00"), check_every=600, capsys=capsys)
    out = tmp_path / "alarms.csv"
    assert main(["care", "alarms", "export", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["kind", "device_id", "id_number", "raised_at", "event_id"]
    number = tn_person.id_number
    assert rows[1:] == [
        ["BUTTON", pendant, number, "2024-03-01T09:30:00+08:00", "press-1"],
        ["LOW_BATTERY", pendant, number, "2024-03-01T09:31:00+08:00", "low-1"],
        ["INACTIVITY", "", number, "2024-03-01T19:00:00+08:00", ""],
    ]


def test_a_check_of_an_earlier_time_reads_the_history_not_the_devices_last_motion(tn_person):
    """The check narrows people by their devices' last motion; for a T before it (an incident
    investigated afterwards) it reads the events, and finds the same spells a live check did."""
    from dajiuzhu.care.intake import ingest
    from dajiuzhu.care.models import Device
    from dajiuzhu.care.rules import care_check

    sensor = tn_person.device("MOT-EARLIER", "motion")
    msgs = [
        *heartbeats(sensor, t("03-01 06:00"), t("03-02 10:00")),
        message(sensor, "m-1", "motion", t("03-01 07:30")),
        message(sensor, "m-2", "motion", t("03-02 09:00")),
    ]
    for m in in_order(msgs):
        at = datetime.fromisoformat(json.loads(m["payload"])["at"])
        ingest(m["topic"], m["payload"], received_at=at)
    assert Device.objects.get(device_id=sensor).last_motion_at == t("03-02 09:00")
    assert care_check(at=t("03-02 09:30")).raised["INACTIVITY"] == 0  # moved at 09:00
    report = care_check(at=t("03-01 20:00"))  # 07:30 + 12 h passed by then
    assert report.raised["INACTIVITY"] == 1
    assert _alarms("INACTIVITY") == ["03-01 19:30"]
    assert care_check(at=t("03-01 20:00")).raised["INACTIVITY"] == 0  # once per spell


def test_a_morning_is_decided_once_by_the_first_check_after_its_deadline(tn_person):
    """The check does not read a decided morning again (that keeps `care check` over the city
    within its budget): a morning motion taken in after the decision changes nothing."""
    from dajiuzhu.care.intake import ingest
    from dajiuzhu.care.models import MorningDecision
    from dajiuzhu.care.rules import care_check

    sensor = tn_person.device("MOT-ONCE", "motion")
    for m in heartbeats(sensor, t("03-02 08:00"), t("03-02 10:05")):
        ingest(m["topic"], m["payload"], received_at=t("03-02 10:05"))
    assert care_check(at=t("03-02 10:05")).raised["NO_MORNING_ACTIVITY"] == 1
    assert list(MorningDecision.objects.values_list("day", flat=True))[-1].isoformat() == (
        "2024-03-02"
    )
    late = message(sensor, "late-motion", "motion", t("03-02 09:00"))
    ingest(late["topic"], late["payload"], received_at=t("03-02 10:06"))
    assert care_check(at=t("03-02 10:10")).raised["NO_MORNING_ACTIVITY"] == 0
    assert _alarms("NO_MORNING_ACTIVITY") == ["03-02 10:00"]


def test_a_check_raising_many_alarms_writes_them_at_once_and_leaves_out_a_racing_one(
    tn_person, wj_person, monkeypatch
):
    from dajiuzhu.care import alarms
    from dajiuzhu.care.rules import care_check
    from dajiuzhu.core.audit import audit_verify
    from dajiuzhu.core.models import AuditEvent

    sensors = [p.device(f"MANY-{i}", "motion") for i, p in enumerate([tn_person, wj_person])]
    # both never heard since their install: OFFLINE for each at the check
    real = alarms.alarms_raise_many

    def racing(candidates):
        if len(candidates) > 1 and candidates[0].rule == "OFFLINE":
            real(candidates[:1])  # another process raises the first one meanwhile
        return real(candidates)

    monkeypatch.setattr(alarms, "alarms_raise_many", racing)
    report = care_check(at=t("03-02 12:00"))
    offline = Alarm.objects.filter(rule="OFFLINE")
    assert sorted(offline.values_list("device__device_id", flat=True)) == sorted(sensors)
    assert report.raised["OFFLINE"] == 1  # the other was raised by the "other process"
    raised = AuditEvent.objects.filter(action="care.alarm.raise")
    assert sorted(raised.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in Alarm.objects.values_list("pk", flat=True)
    )
    assert audit_verify().ok
    monkeypatch.setattr(alarms, "alarms_raise_many", real)
    again = care_check(at=t("03-02 12:05"))
    assert again.raised["OFFLINE"] == 0 and offline.count() == 2
