"""Complaints and reports (投诉举报): the public form and the phone portal, the tracking code,
the competent district's queue, the handler-only reporter identity (audited), links, the
written outcome and the escalation of overdue reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dajiuzhu.cli import main
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.models import AuditEvent, User
from dajiuzhu.core.roles import Role
from dajiuzhu.supervision.models import Complaint, Finding
from dajiuzhu.supervision.running import check_run
from tests.factories.accounts import client_for, make_user
from tests.factories.city import TN_TOWN
from tests.supervision.conftest import MONTH

PUBLIC = "/jubao/"
API = "/api/v1/supervision/complaints"
CONTENT = "某某村的张某家里开着小汽车,还一直领着低保,请核实。"


@pytest.fixture
def tn_supervisor(db):
    return make_user("tn_supervisor", Role.SUPERVISOR, "320402")


@pytest.fixture
def tn_supervisor2(db):
    return make_user("tn_supervisor2", Role.SUPERVISOR, "320402")


@pytest.fixture
def wj_supervisor(db):
    return make_user("wj_supervisor", Role.SUPERVISOR, "320412")


@pytest.fixture
def city_supervisor(db):
    return make_user("city_supervisor", Role.SUPERVISOR, "320400")


def report(client: Client, **fields) -> object:
    body = {"category": "ineligible_recipient", "division": TN_TOWN, "content": CONTENT}
    body.update(fields)
    return client.post(PUBLIC, body)


def submitted(client: Client, **fields) -> Complaint:
    answer = report(client, **fields)
    assert answer.status_code == 302 and answer["Location"] == "/jubao/done/"
    return Complaint.objects.order_by("-pk").first()


def test_an_anonymous_report_gets_a_code_and_lands_in_the_district_queue(
    db, tn_supervisor, wj_supervisor
):
    client = Client()
    assert "投诉举报" in client.get(PUBLIC).content.decode()
    c = submitted(client, subject="张某 低保")
    assert c.channel == "public" and c.anonymous and c.district_code == "320402"
    assert c.division_code == TN_TOWN and c.status == "received"
    today = timezone.localdate()
    assert c.due_date == add_working_days(today, 15)
    assert c.tracking_code.startswith("JB") and len(c.tracking_code) == 14
    done = client.get("/jubao/done/").content.decode()
    assert c.tracking_code in done
    # the district's supervisors see it; the other district's do not
    assert [r["id"] for r in client_for(tn_supervisor).get(API).json()] == [c.pk]
    assert client_for(wj_supervisor).get(API).json() == []
    assert client_for(wj_supervisor).get(f"/work/supervision/complaints/{c.pk}/").status_code == 404
    page = client_for(tn_supervisor).get(f"/work/supervision/complaints/{c.pk}/").content.decode()
    assert CONTENT in page and "匿名举报,未留身份信息" in page


def test_the_tracking_code_alone_shows_only_status_and_outcome(db, tn_supervisor):
    client = Client()
    c = submitted(client, subject="张某 低保", name="李四", phone="13900001111")
    stranger = Client()
    code = c.tracking_code.lower()[:6] + "-" + c.tracking_code.lower()[6:]  # as typed by hand
    html = stranger.get("/jubao/track/", {"code": code}).content.decode()
    assert "已受理,待办理" in html and "尚在办理中" in html
    for secret in (CONTENT, "张某", "李四", "13900001111", "雕庄"):
        assert secret not in html
    client_for(tn_supervisor).post(f"/work/supervision/complaints/{c.pk}/take/")
    client_for(tn_supervisor).post(
        f"/work/supervision/complaints/{c.pk}/close/",
        {"outcome": "经核查,该户车辆已过户,低保继续享受。"},
    )
    html = stranger.get("/jubao/track/", {"code": c.tracking_code}).content.decode()
    assert "已办结" in html and "经核查,该户车辆已过户,低保继续享受。" in html
    assert CONTENT not in html
    missing = stranger.get("/jubao/track/", {"code": "JBAAAAAAAAAAAA"}).content.decode()
    assert "没有找到该查询码" in missing


def test_only_the_handler_reads_the_reporter_and_every_read_is_audited(
    db, tn_supervisor, tn_supervisor2, city_supervisor, city_admin
):
    c = submitted(Client(), name="李四", phone="139 0000 1111")
    assert c.reporter_name_enc and b"\xe6\x9d\x8e" not in bytes(c.reporter_name_enc)  # encrypted
    handler = client_for(tn_supervisor)
    url = f"/work/supervision/complaints/{c.pk}/"
    before = handler.get(url).content.decode()
    assert "李四" not in before and "仅承办人可以查看" in before
    # before anyone takes it, nobody reads the reporter
    assert handler.post(url + "reporter/").status_code == 403
    assert "李四" not in handler.get(url).content.decode()
    assert handler.post(url + "take/", follow=True).status_code == 200
    shown = handler.post(url + "reporter/").content.decode()
    assert "李四" in shown and "13900001111" in shown
    assert "李四" not in handler.get(url).content.decode()  # shown on that answer only
    reads = AuditEvent.objects.filter(
        action="supervision.complaint.reporter", object_id=str(c.pk), actor=tn_supervisor
    )
    assert reads.count() == 1 and reads.get().purpose == "supervision"
    assert "李四" not in json.dumps(reads.get().detail, ensure_ascii=False)
    for other in (tn_supervisor2, city_supervisor, city_admin):
        answer = client_for(other).post(url + "reporter/", follow=True).content.decode()
        assert "李四" not in answer and "13900001111" not in answer
    assert client_for(tn_supervisor2).get(f"{API}/{c.pk}/reporter").status_code == 403
    assert client_for(tn_supervisor).get(f"{API}/{c.pk}/reporter").json() == {
        "name": "李四",
        "phone": "13900001111",
        "account_phone": "",
        "channel_label": "公开网页",
    }
    assert reads.count() == 2


def test_the_form_refuses_bad_input_in_chinese(db):
    client = Client()
    cases = [
        ({"category": ""}, "请选择举报类别"),
        ({"content": "太短"}, "反映内容请至少写10个字"),
        ({"content": "长" * 2001}, "反映内容不能超过2000字"),
        ({"content": CONTENT + "\x07"}, "控制字符"),
        ({"division": "110101"}, "请选择所反映问题发生地"),
        ({"phone": "12345"}, "联系电话应为11位手机号码"),
        ({"subject": "象" * 101}, "反映对象或事项不能超过100字"),
    ]
    for fields, message in cases:
        answer = report(client, **fields)
        assert answer.status_code == 200, fields
        assert message in answer.content.decode(), fields
    assert Complaint.objects.count() == 0


def test_the_public_form_needs_its_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    assert report(client).status_code == 403
    page = client.get(PUBLIC)
    token = page.cookies["csrftoken"].value
    answer = report(client, csrfmiddlewaretoken=token)
    assert answer.status_code == 302
    assert Complaint.objects.count() == 1


def test_the_public_form_is_throttled_per_session_and_per_address(db, settings):
    settings.COMPLAINT_MAX_PER_SESSION = 2
    settings.COMPLAINT_MAX_PER_IP = 3
    one = Client(REMOTE_ADDR="10.0.0.1")
    submitted(one)
    submitted(one)
    third = report(one)
    assert third.status_code == 200 and "本设备一小时内已提交多件举报" in third.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.1")  # another browser on the same network
    submitted(other)
    refused = report(other)
    assert refused.status_code == 200 and "当前网络提交举报过于频繁" in refused.content.decode()
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    submitted(elsewhere)
    assert Complaint.objects.count() == 4
    assert not Complaint.objects.filter(client_ip_index__contains="10.0.0").exists()


def test_a_resident_reports_on_the_phone_and_follows_it(db, tn_supervisor):
    anonymous = Client().get("/portal/jubao/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/portal/login/")
    from dajiuzhu.core import crypto

    resident = User.objects.create(
        username="r_test",
        role=Role.RESIDENT,
        phone_index=crypto.phone_index("13800009999"),
        phone_enc=crypto.encrypt("13800009999", field="user.phone"),
    )
    client = client_for(resident)
    assert "投诉举报" in client.get("/portal/").content.decode()
    answer = client.post(
        "/portal/jubao/",
        {
            "category": "staff_favour",
            "division": "320402",
            "content": "社区工作人员让我请客才给办低保。",
        },
    )
    assert answer.status_code == 302
    c = Complaint.objects.get()
    assert c.channel == "portal" and c.reporter == resident and c.division_code == "320402"
    mine = client.get("/portal/jubao/").content.decode()
    assert c.tracking_code in mine and "已受理,待办理" in mine
    staff = client_for(tn_supervisor)
    staff.post(f"/work/supervision/complaints/{c.pk}/take/")
    shown = staff.post(f"/work/supervision/complaints/{c.pk}/reporter/").content.decode()
    assert "13800009999" in shown
    # a staff account on the portal is told to use the public page
    assert (
        "居民服务仅供居民本人使用"
        in client_for(tn_supervisor).get("/portal/jubao/").content.decode()
    )


def test_the_handler_links_and_closes_within_the_district(
    fund_city, tn_supervisor, tn_supervisor2, tn_household, wj_household
):
    tn_home, wj_home = tn_household[0], wj_household[0]
    check_run(month=MONTH)
    vehicle = Finding.objects.get(check_code="VEHICLE")  # a 天宁区 payee
    business = Finding.objects.get(check_code="BUSINESS")  # a 武进区 payee
    c = submitted(Client())
    handler = client_for(tn_supervisor)
    url = f"/work/supervision/complaints/{c.pk}/"
    refused = handler.post(url + "link/", {"finding_id": vehicle.pk}, follow=True).content.decode()
    assert "仅承办该举报的监督人员可以办理" in refused or "由其他监督人员承办" in refused
    handler.post(url + "take/")
    second = client_for(tn_supervisor2).post(url + "take/", follow=True).content.decode()
    assert "该举报已由其他监督人员承办" in second
    wrong = handler.post(url + "link/", {"finding_id": business.pk}, follow=True).content.decode()
    assert "本辖区没有该资金核查问题编号" in wrong
    wrong = handler.post(url + "link/", {"household_no": wj_home.household_no}, follow=True)
    assert "本辖区没有该户号" in wrong.content.decode()
    wrong = handler.post(url + "link/", {"case_id": "99999"}, follow=True).content.decode()
    assert "本辖区没有该案件编号" in wrong
    handler.post(url + "link/", {"finding_id": vehicle.pk, "household_no": tn_home.household_no})
    c.refresh_from_db()
    assert c.finding == vehicle and c.household == tn_home
    empty = handler.post(url + "close/", {"outcome": "  "}, follow=True).content.decode()
    assert "办理结果请至少写1个字" in empty
    handler.post(url + "close/", {"outcome": "已并入资金核查问题整改,追回3个月低保金。"})
    c.refresh_from_db()
    assert c.status == "closed" and c.closed_by == tn_supervisor
    again = handler.post(url + "close/", {"outcome": "再次"}, follow=True).content.decode()
    assert "该举报已办结" in again
    actions = list(
        AuditEvent.objects.filter(object_type="complaint", object_id=str(c.pk))
        .exclude(action__in=["supervision.complaint.view", "supervision.complaint.list"])
        .order_by("at")
        .values_list("action", flat=True)
    )
    assert actions == [
        "supervision.complaint.submit",
        "supervision.complaint.take",
        "supervision.complaint.link",
        "supervision.complaint.close",
    ]


def test_overdue_reports_are_escalated_and_the_city_may_take_them_over(
    db, tn_supervisor, city_supervisor, capsys
):
    late = submitted(Client())
    fresh = submitted(Client())
    client_for(tn_supervisor).post(f"/work/supervision/complaints/{late.pk}/take/")
    Complaint.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    capsys.readouterr()
    assert main(["supervision", "escalate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"escalated": 0, "complaints_escalated": 1}
    late.refresh_from_db()
    assert late.escalated and late.escalated_at is not None
    rows = client_for(city_supervisor).get(API).json()
    assert [r["id"] for r in rows] == [late.pk, fresh.pk]
    assert rows[0]["overdue"] and rows[0]["escalated"]
    city = client_for(city_supervisor)
    assert (
        "已承办"
        in city.post(f"/work/supervision/complaints/{late.pk}/take/", follow=True).content.decode()
    )
    late.refresh_from_db()
    assert late.handler == city_supervisor
    assert main(["supervision", "escalate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"escalated": 0, "complaints_escalated": 0}


def test_the_api_lists_and_closes_within_scope(db, tn_supervisor, wj_supervisor):
    c = submitted(Client(), subject="某社区")
    one = client_for(tn_supervisor).get(f"{API}/{c.pk}").json()
    assert one["content"] == CONTENT and one["subject"] == "某社区" and one["has_identity"] is False
    assert client_for(wj_supervisor).get(f"{API}/{c.pk}").status_code == 404
    handler = client_for(tn_supervisor)
    taken = handler.post(f"{API}/{c.pk}/take", content_type="application/json")
    assert taken.status_code == 200 and taken.json()["status"] == "handling"
    linked = handler.post(
        f"{API}/{c.pk}/link", {"household_no": "H-NONE"}, content_type="application/json"
    )
    assert linked.status_code == 400 and linked.json()["code"] == "complaint.household"
    closed = handler.post(
        f"{API}/{c.pk}/close", {"outcome": "查无实据。"}, content_type="application/json"
    )
    assert closed.json()["status"] == "closed"
    again = handler.post(f"{API}/{c.pk}/close", {"outcome": "x"}, content_type="application/json")
    assert again.status_code == 400 and again.json()["code"] == "complaint.closed"
