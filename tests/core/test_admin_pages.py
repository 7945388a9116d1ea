"""Administration on pages: staff accounts (create, role and scope, password, unlock,
deactivate) and the audit log (search, chain positions, verification) — issue 11."""

from __future__ import annotations

import re

from django.test import Client

from dajiuzhu.core.models import AuditEvent, User
from tests.factories.accounts import PASSWORD, client_for, make_user
from tests.factories.registry import make_household

ACTION = "/work/admin/users/action/"


def _messages(response) -> str:
    return " ".join(
        re.findall(r'<li class="(?:error|success)">(.*?)</li>', response.content.decode())
    )


def test_an_administrator_creates_changes_and_deactivates_an_account(city_admin):
    client = client_for(city_admin)
    created = client.post(
        "/work/admin/users/",
        {
            "username": "tn_new_clerk",
            "display_name": "王晓明",
            "role": "window_clerk",
            "scope": "320402001",
            "password": "Qing-Tian-2023-x",
        },
        follow=True,
    )
    assert "已新建账号 tn_new_clerk" in _messages(created)
    user = User.objects.get(username="tn_new_clerk")
    assert (user.role, user.scope_id, user.display_name) == ("window_clerk", "320402001", "王晓明")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()

    changed = client.post(
        ACTION,
        {
            "user_id": user.pk,
            "action": "update",
            "role": "data_steward",
            "scope": "320402",
            "department": "",
            "display_name": "王晓明",
        },
        follow=True,
    )
    assert "部门数据管理员必须指定所属部门" in _messages(changed)
    client.post(
        ACTION,
        {
            "user_id": user.pk,
            "action": "update",
            "role": "data_steward",
            "scope": "320402",
            "department": "minzheng",
            "display_name": "王晓明",
        },
    )
    user.refresh_from_db()
    assert (user.role, user.scope_id, user.department_id) == ("data_steward", "320402", "minzheng")
    event = AuditEvent.objects.filter(action="user.update").latest("id")
    assert event.detail["changed"]["role"] == ["window_clerk", "data_steward"]
    assert event.purpose == "administration" and event.actor == city_admin

    refused = client.post(
        ACTION,
        {"user_id": user.pk, "action": "update", "role": "admin", "scope": "320402"},
        follow=True,
    )
    assert "系统管理员只设在市级" in _messages(refused)

    client.post(ACTION, {"user_id": user.pk, "action": "deactivate"})
    user.refresh_from_db()
    assert user.is_active is False
    assert (
        Client()
        .post("/login/", {"username": user.username, "password": "Qing-Tian-2023-x"})
        .status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="user.deactivate", object_id=str(user.pk)).exists()
    page = client.get(f"/work/admin/users/{user.pk}/").content.decode()
    assert "已停用" in page and "停用账号" in page and "修改工作人员账号" in page


def test_a_locked_account_is_unlocked_and_a_password_reset_by_the_administrator(
    city_admin, tn_clerk
):
    stranger = Client()
    for _ in range(5):
        stranger.post("/login/", {"username": "tn_clerk", "password": "wrong-one"})
    assert (
        Client().post("/login/", {"username": "tn_clerk", "password": PASSWORD}).status_code == 429
    )

    client = client_for(city_admin)
    listing = client.get("/work/admin/users/", {"q": "tn_clerk"}).content.decode()
    assert "已锁定" in listing
    page = client.get(f"/work/admin/users/{tn_clerk.pk}/").content.decode()
    assert "登录失败次数过多,已锁定" in page
    unlocked = client.post(ACTION, {"user_id": tn_clerk.pk, "action": "unlock"}, follow=True)
    assert "账号已解锁" in _messages(unlocked)
    assert (
        Client().post("/login/", {"username": "tn_clerk", "password": PASSWORD}).status_code == 302
    )
    event = AuditEvent.objects.filter(action="user.unlock").latest("id")
    assert event.detail["was_locked"] is True

    reset = client.post(ACTION, {"user_id": tn_clerk.pk, "action": "password"}, follow=True)
    new = re.search("新密码:(\\S+?)（", _messages(reset)).group(1)
    assert Client().post("/login/", {"username": "tn_clerk", "password": new}).status_code == 302
    event = AuditEvent.objects.filter(action="user.password_reset").latest("id")
    assert new not in str(event.detail)  # the password never reaches the log
    weak = client.post(
        ACTION, {"user_id": tn_clerk.pk, "action": "password", "password": "123"}, follow=True
    )
    assert "密码" in _messages(weak) and "已重置" not in _messages(weak)


def test_account_pages_are_for_administrators_and_bad_ids_get_messages(city_admin, tn_clerk):
    for path in ("/work/admin/users/", f"/work/admin/users/{tn_clerk.pk}/"):
        assert client_for(tn_clerk).get(path).status_code == 403
    assert (
        client_for(tn_clerk)
        .post(ACTION, {"user_id": tn_clerk.pk, "action": "deactivate"})
        .status_code
        == 403
    )
    tn_clerk.refresh_from_db()
    assert tn_clerk.is_active
    client = client_for(city_admin)
    for bad in ("", "abc", "99999999"):
        page = client.post(ACTION, {"user_id": bad, "action": "unlock"}, follow=True)
        assert page.status_code == 200
        assert "未找到该工作人员账号" in _messages(page)
    own = client.post(ACTION, {"user_id": city_admin.pk, "action": "deactivate"}, follow=True)
    assert "不能停用自己的账号" in _messages(own)
    assert client.get("/work/admin/users/99999999/").status_code == 404


ROW = 'data-label="操作">查看一户一档'


def test_the_audit_log_is_searched_and_verified_on_a_page(city_admin, tn_caseworker):
    household, people = make_household("320402001")
    from dajiuzhu.core import crypto
    from dajiuzhu.registry.selectors import household_file

    household_file(user=tn_caseworker, household_id=household.pk, purpose="casework")
    auditor = make_user("tn_auditor", "auditor", "320402")
    client = client_for(auditor)
    page = client.get("/work/audit/", {"staff": "tn_caseworker"}).content.decode()
    assert ROW in page and "业务办理" in page
    first = AuditEvent.objects.filter(actor=tn_caseworker).latest("id")
    assert f">{AuditEvent.objects.filter(id__lte=first.id).count()}<" in page  # chain position
    by_purpose = client.get("/work/audit/", {"purpose": "supervision"}).content.decode()
    assert ROW not in by_purpose
    # by person: the ID number is posted, never put in the URL
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    found = client.post("/work/audit/", {"id_number": number})
    assert found.status_code == 302 and number not in found["Location"]
    page = client.get(found["Location"]).content.decode()
    assert ROW in page and number not in page
    assert AuditEvent.objects.filter(action="audit.search", actor=auditor).exists()
    bad = client.get("/work/audit/", {"start": "2023-13-01"}).content.decode()
    assert "日期格式应为YYYY-MM-DD" in bad

    verified = client.post("/work/audit/verify/").content.decode()
    assert "审计链完好" in verified
    assert AuditEvent.objects.filter(action="audit.verify", actor=auditor).exists()
    # a district auditor sees the staff of their district only
    wj = make_user("wj_auditor", "auditor", "320412")
    assert ROW not in client_for(wj).get("/work/audit/").content.decode()
    assert client_for(tn_caseworker).get("/work/audit/").status_code == 403
    assert client_for(city_admin).get("/work/audit/").status_code == 200
