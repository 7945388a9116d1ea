"""The console and the pages around it: live stream, accept (one wins), escalation, outcome
with a visit on the grid worker's phone, closing, the maintenance list with rejection counts,
the person's care file (audited) and its versioned plan, and scope."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from dajiuzhu.care import services
from dajiuzhu.care.intake import ingest, topic_for
from dajiuzhu.care.models import Alarm, Device, Plan, Visit
from dajiuzhu.care.rules import care_check
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from tests.care.conftest import t
from tests.factories.accounts import client_for, make_user


def _press(device_id: str, event_id: str, type_: str = "button") -> int:
    payload = {"event_id": event_id, "type": type_, "at": timezone.now().isoformat()}
    result = ingest(topic_for(device_id), json.dumps(payload))
    return result.alarms[0]


def _stream(client, after: int = 0) -> str:
    response = client.get(f"/work/care/stream/?after={after}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    return b"".join(response.streaming_content).decode()


def test_the_console_shows_new_alarms_through_the_stream(tn_person):
    operator = client_for(make_user("op", Role.CALL_OPERATOR, "320400"))
    page = operator.get("/work/care/")
    assert page.status_code == 200
    assert 'sse-connect="/work/care/stream/?after=0"' in page.content.decode()
    pendant = tn_person.device("PND-P1", "pendant")
    alarm_id = _press(pendant, "p-1")
    body = _stream(operator)
    assert f"id: {alarm_id}\nevent: alarm\n" in body
    assert tn_person.person.name in body
    assert "event: alarm" not in _stream(operator, after=alarm_id)
    fragment = operator.get("/work/care/open/").content.decode()
    assert f'action="/work/care/alarms/{alarm_id}/accept/"' in fragment


def test_two_operators_cannot_both_take_an_alarm(tn_person):
    alarm_id = _press(tn_person.device("PND-P2", "pendant"), "p-2")
    one = client_for(make_user("op1", Role.CALL_OPERATOR, "320400"))
    two = client_for(make_user("op2", Role.CALL_OPERATOR, "320400"))
    assert one.post(f"/work/care/alarms/{alarm_id}/accept/").status_code == 302
    page = two.post(f"/work/care/alarms/{alarm_id}/accept/", follow=True).content.decode()
    assert "该报警已由op1接警" in page
    assert Alarm.objects.get(pk=alarm_id).accepted_by.username == "op1"


def test_an_alarm_not_accepted_in_60_seconds_escalates(tn_person):
    alarm_id = _press(tn_person.device("PND-P3", "pendant"), "p-3")
    now = Alarm.objects.get(pk=alarm_id).created_at
    assert services.alarms_escalate_due(now=now + timedelta(seconds=59)) == 0
    assert services.alarms_escalate_due(now=now + timedelta(seconds=61)) == 1
    assert services.alarms_escalate_due(now=now + timedelta(seconds=120)) == 0
    alarm = Alarm.objects.get(pk=alarm_id)
    assert alarm.escalated
    supervisor = client_for(make_user("sup", Role.SUPERVISOR, "320400"))
    assert "超时未接,已升级" in supervisor.get("/work/care/").content.decode()


def test_outcome_visit_reaches_the_grid_workers_phone_and_closes(tn_person):
    grid = make_user("grid_tn", Role.GRID_WORKER, "320402001001")
    alarm_id = _press(tn_person.device("PND-P4", "pendant"), "p-4", "fall")
    operator = client_for(make_user("op4", Role.CALL_OPERATOR, "320400"))
    operator.post(f"/work/care/alarms/{alarm_id}/accept/")
    early = operator.post(
        f"/work/care/alarms/{alarm_id}/close/", {"closure_code": "safe"}, follow=True
    )
    assert "请先记录处置结果" in early.content.decode()
    operator.post(
        f"/work/care/alarms/{alarm_id}/outcome/",
        {"outcome": "visit", "note": "老人称摔倒,无法起身"},
    )
    visit = Visit.objects.get(alarm_id=alarm_id)
    assert visit.assignee == grid
    phone = client_for(grid)
    tasks = phone.get("/work/care/visits/").content.decode()
    assert tn_person.person.name in tasks
    phone.post(f"/work/care/visits/{visit.pk}/arrive/", {"findings": "已扶起,无外伤"})
    visit.refresh_from_db()
    assert (visit.status, visit.findings) == ("done", "已扶起,无外伤")
    operator.post(f"/work/care/alarms/{alarm_id}/close/", {"closure_code": "helped"})
    alarm = Alarm.objects.get(pk=alarm_id)
    assert (alarm.status, alarm.outcome, alarm.closure_code) == ("closed", "visit", "helped")


def test_maintenance_lists_technical_alarms_and_rejections_per_reason(tn_person):
    tn_person.device("SMK-P5", "smoke")
    ingest("dajiuzhu/v1/devices/NOBODY/events", "{}")
    ingest(topic_for("SMK-P5"), "{broken")
    care_check(at=timezone.now())
    operator = client_for(make_user("op5", Role.CALL_OPERATOR, "320400"))
    page = operator.get("/work/care/maintenance/").content.decode()
    assert "设备离线" in page and "SMK-P5" in page
    assert "未登记设备" in page and "JSON 格式错误" in page
    console = operator.get("/work/care/").content.decode()
    assert "设备离线" not in console  # technical alarms stay off the console


def test_the_care_file_is_audited_and_the_plan_is_versioned(tn_person):
    make_user("grid_tn2", Role.GRID_WORKER, "320402001001")
    caseworker = make_user("cw", Role.CASEWORKER, "320402")
    client = client_for(caseworker)
    url = f"/work/care/people/{tn_person.pk}/"
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(
        action="care.person.view", object_id=str(tn_person.pk), purpose="care", actor=caseworker
    ).exists()
    form = {
        "services": ["上门走访", "助餐"],
        "visit_schedule": "每月上门一次",
        "review_date": "2024-12-31",
        "contact_name": "王小明",
        "contact_relation": "儿子",
        "contact_phone": "13900001111",
        "inactivity_hours": "14",
    }
    client.post(f"{url}plan/", form)
    client.post(f"{url}plan/", {**form, "visit_schedule": "每周上门一次"})
    plans = list(Plan.objects.filter(person=tn_person.person).order_by("version"))
    assert [(p.version, p.visit_schedule) for p in plans] == [
        (1, "每月上门一次"),
        (2, "每周上门一次"),
    ]
    assert b"13900001111" not in bytes(plans[0].contacts_enc)  # encrypted
    page = client.get(url).content.decode()
    assert "王小明" in page and "每周上门一次" in page
    bad = client.post(f"{url}plan/", {**form, "inactivity_hours": "99"}, follow=True)
    assert "4至48" in bad.content.decode()


def test_a_town_sees_its_own_people_and_an_operator_the_city(tn_person, wj_person):
    tn_alarm = _press(tn_person.device("PND-TN", "pendant"), "tn-1")
    wj_alarm = _press(wj_person.device("PND-WJ", "pendant"), "wj-1")
    city = client_for(make_user("city_op", Role.CALL_OPERATOR, "320400")).get("/work/care/")
    town = client_for(make_user("tn_cw", Role.CASEWORKER, "320402"))
    assert tn_person.person.name in city.content.decode()
    assert wj_person.person.name in city.content.decode()
    own = town.get("/work/care/").content.decode()
    assert tn_person.person.name in own and wj_person.person.name not in own
    assert town.get(f"/work/care/alarms/{wj_alarm}/").status_code == 404
    assert town.get(f"/work/care/alarms/{tn_alarm}/").status_code == 200
    assert town.get(f"/work/care/people/{wj_person.pk}/").status_code == 404
    assert "event: alarm" not in _stream(town, after=tn_alarm)
    steward = client_for(make_user("st", Role.DATA_STEWARD, "320400", "yibao"))
    assert steward.get("/work/care/").status_code == 403


def test_replayed_days_do_not_escalate_at_once_for_their_raised_time(tn_person):
    """Escalation counts from the alarm's arrival on the console, not from the device's
    clock: an alarm of a replayed morning is not escalated the moment it is recorded."""
    payload = {"event_id": "old-1", "type": "button", "at": t("03-01 08:00").isoformat()}
    [alarm_id] = ingest(
        topic_for(tn_person.device("PND-OLD", "pendant")), json.dumps(payload)
    ).alarms
    assert services.alarms_escalate_due(now=timezone.now()) == 0
    assert not Alarm.objects.get(pk=alarm_id).escalated


def test_a_plan_puts_its_visits_on_the_grid_workers_phone_and_flags_a_missed_one(tn_person):
    grid = make_user("grid_plan", Role.GRID_WORKER, "320402001001")
    caseworker = client_for(make_user("cw_plan", Role.CASEWORKER, "320402"))
    form = {
        "services": ["上门走访"],
        "visit_schedule": "每周上门一次",
        "visit_every_days": "7",
        "grid_worker": str(grid.pk),
        "review_date": "2030-12-31",
    }
    caseworker.post(f"/work/care/people/{tn_person.pk}/plan/", form)
    visit = Visit.objects.get(person=tn_person.person, alarm__isnull=True)
    assert (visit.assignee, visit.due_date) == (grid, timezone.localdate() + timedelta(days=7))
    phone = client_for(grid)
    assert "逾期" not in phone.get("/work/care/visits/").content.decode()
    Visit.objects.filter(pk=visit.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    assert "逾期" in phone.get("/work/care/visits/").content.decode()
    phone.post(f"/work/care/visits/{visit.pk}/arrive/", {"findings": "状况良好"})
    upcoming = Visit.objects.get(person=tn_person.person, status="open")
    assert upcoming.due_date == timezone.localdate() + timedelta(days=7)


def test_devices_are_registered_on_the_page_within_scope(tn_person, wj_person):
    caseworker = client_for(make_user("cw_dev", Role.CASEWORKER, "320402"))
    form = {
        "device_id": "PAGE-1",
        "kind": "motion",
        "id_number": tn_person.id_number,
        "installed_at": "2024-03-01",
        "status": "active",
    }
    assert caseworker.post("/work/care/devices/", form).status_code == 302
    page = caseworker.get("/work/care/devices/").content.decode()
    assert "PAGE-1" in page and tn_person.person.name in page
    # a person of 武进区 is answered as an unknown one
    other = caseworker.post(
        "/work/care/devices/", {**form, "device_id": "PAGE-2", "id_number": wj_person.id_number}
    )
    assert other.status_code == 200
    assert "不在人口库中或不在您的辖区" in other.content.decode()
    assert not Device.objects.filter(device_id="PAGE-2").exists()
    bad = caseworker.post("/work/care/devices/", {**form, "device_id": "PAGE-3", "kind": "toaster"})
    assert "未知设备类型" in bad.content.decode()


def test_a_caseworker_sets_away_and_inactivity_is_silent(tn_person):
    sensor = tn_person.device("MOT-AWAY", "motion")
    caseworker = client_for(make_user("cw_away", Role.CASEWORKER, "320402"))
    caseworker.post(f"/work/care/people/{tn_person.pk}/away/", {"away": "on"})
    assert "外出中" in caseworker.get(f"/work/care/people/{tn_person.pk}/").content.decode()
    ingest(
        topic_for(sensor),
        json.dumps({"event_id": "hb", "type": "heartbeat", "at": timezone.now().isoformat()}),
    )
    care_check(at=timezone.now() + timedelta(minutes=1))
    assert not Alarm.objects.filter(rule="INACTIVITY").exists()
    caseworker.post(f"/work/care/people/{tn_person.pk}/away/", {"away": "off"})
    assert "在家" in caseworker.get(f"/work/care/people/{tn_person.pk}/").content.decode()
