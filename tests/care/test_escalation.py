"""Escalation routing: an alarm nobody accepts within 60 s goes to the duty supervisor and the
second operator group of its jurisdiction — shown on their consoles (list and stream) from the
moment it is due, recorded and audited by the worker. A controlled clock: ``now=`` is passed in,
or the alarm's arrival is set back; no sleeps."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from dajiuzhu.care import access, selectors, services
from dajiuzhu.care.intake import ingest, topic_for
from dajiuzhu.care.models import Alarm, Escalation
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from tests.factories.accounts import client_for, make_user


def _press(device_id: str, event_id: str) -> Alarm:
    payload = {"event_id": event_id, "type": "button", "at": timezone.now().isoformat()}
    [alarm_id] = ingest(topic_for(device_id), json.dumps(payload)).alarms
    return Alarm.objects.get(pk=alarm_id)


def _join(user, group: str):
    Group.objects.get_or_create(name=group)[0].user_set.add(user)
    return user


def _staff():
    return {
        "duty": _join(make_user("sup_duty", Role.SUPERVISOR, "320400"), access.DUTY_GROUP),
        "off": make_user("sup_off", Role.SUPERVISOR, "320400"),
        "wj_duty": _join(make_user("sup_wj", Role.SUPERVISOR, "320412"), access.DUTY_GROUP),
        "second": _join(make_user("op_second", Role.CALL_OPERATOR, "320400"), access.SECOND_GROUP),
        "first": make_user("op_first", Role.CALL_OPERATOR, "320400"),
    }


def test_an_unaccepted_alarm_goes_to_the_duty_supervisor_and_the_second_group(tn_person):
    staff = _staff()
    alarm = _press(tn_person.device("PND-E1", "pendant"), "e-1")
    at = alarm.created_at

    def shown(who: str, seconds: int) -> list[int]:
        mine = selectors.escalated_to_me(user=staff[who], now=at + timedelta(seconds=seconds))
        return [a.pk for a in mine]

    assert shown("duty", 59) == [] and shown("second", 59) == []
    assert shown("duty", 61) == [alarm.pk] and shown("second", 61) == [alarm.pk]
    assert shown("off", 61) == shown("first", 61) == shown("wj_duty", 61) == []

    assert services.alarms_escalate_due(now=at + timedelta(seconds=59)) == 0
    assert services.alarms_escalate_due(now=at + timedelta(seconds=61)) == 1
    assert services.alarms_escalate_due(now=at + timedelta(seconds=90)) == 0
    assert sorted(Escalation.objects.values_list("user__username", "reason")) == [
        ("op_second", "second_group"),
        ("sup_duty", "supervisor"),
    ]
    event = AuditEvent.objects.filter(action="care.alarm.escalate").get()
    assert event.detail == {"to": ["op_second", "sup_duty"]}
    assert selectors.escalation_targets(Alarm.objects.get(pk=alarm.pk)) == [
        "第二坐席组 op_second",
        "值班主管 sup_duty",
    ]

    services.alarm_accept(actor=staff["second"], alarm_id=alarm.pk)
    assert shown("duty", 120) == []


def test_without_a_duty_roster_every_supervisor_of_the_jurisdiction_is_on_duty(tn_person):
    make_user("sup_a", Role.SUPERVISOR, "320400")
    make_user("sup_tn", Role.SUPERVISOR, "320402")
    make_user("sup_b", Role.SUPERVISOR, "320412")
    alarm = _press(tn_person.device("PND-E2", "pendant"), "e-2")
    assert services.alarms_escalate_due(now=alarm.created_at + timedelta(seconds=61)) == 1
    assert sorted(Escalation.objects.values_list("user__username", flat=True)) == [
        "sup_a",
        "sup_tn",
    ]


def test_the_escalation_is_on_the_recipients_console_and_stream(tn_person):
    staff = _staff()
    alarm = _press(tn_person.device("PND-E3", "pendant"), "e-3")
    fresh = client_for(staff["second"]).get("/work/care/open/").content.decode()
    assert "超时升级给您" not in fresh
    Alarm.objects.filter(pk=alarm.pk).update(created_at=timezone.now() - timedelta(seconds=62))

    second = client_for(staff["second"])
    html = second.get("/work/care/").content.decode()
    assert "超时升级给您(第二坐席组):1 起" in html
    assert f'id="escalated-{alarm.pk}"' in html
    assert html.count(f'action="/work/care/alarms/{alarm.pk}/accept/"') == 2  # box and card
    assert 'hx-trigger="sse:alarm, sse:escalation, every 15s"' in html
    duty = client_for(staff["duty"]).get("/work/care/open/").content.decode()
    assert "超时升级给您(值班主管):1 起" in duty
    assert "超时升级给您" not in client_for(staff["first"]).get("/work/care/open/").content.decode()

    response = second.get(f"/work/care/stream/?after={alarm.pk}")
    body = b"".join(response.streaming_content).decode()
    assert f"event: escalation\ndata: {alarm.pk}\n\n" in body
    first = client_for(staff["first"]).get(f"/work/care/stream/?after={alarm.pk}")
    assert "event: escalation" not in b"".join(first.streaming_content).decode()

    page = second.get(f"/work/care/alarms/{alarm.pk}/").content.decode()
    assert "升级至" in page
    assert "第二坐席组 op_second、值班主管 sup_duty" in page  # due, before the worker's record
