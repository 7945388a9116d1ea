"""The pages staff and residents rely on: window entry at another district's window, the case
page with its step actions, the queue's overdue flags, the public 公示 page, the portal."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Application, Case, CaseStatus, StepRecord
from tests.cases.conftest import PDF, id_number_of, submit_window
from tests.factories.accounts import client_for


def _scan(name="auth.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_a_wujin_window_takes_a_tianning_application(household, clerk_wj, caseworker):
    _h, people = household
    client = client_for(clerk_wj)
    number = id_number_of(people[0])
    page = client.post("/work/cases/new/", {"id_number": number, "action": "lookup"})
    html = page.content.decode()
    assert page.status_code == 200
    assert people[1].name in html and "最低生活保障" in html
    assert html.count(number) == 1  # only the clerk's own input; members are masked
    form = {
        "id_number": number,
        "action": "submit",
        "programmes": ["dibao"],
        "commitment": "1",
        "idempotency_key": "dbl-1",
        f"scan_{people[0].pk}": _scan(),
        f"scan_{people[1].pk}": _scan(),
    }
    response = client.post("/work/cases/new/", form)
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/work/cases/{case.pk}/"
    assert number not in response["Location"]
    # the double click: the same key creates nothing new
    form.update({f"scan_{people[0].pk}": _scan(), f"scan_{people[1].pk}": _scan()})
    client.post("/work/cases/new/", form)
    assert Application.objects.count() == 1
    # both windows see it
    assert client.get(f"/work/cases/{case.pk}/").status_code == 200
    assert client_for(caseworker).get(f"/work/cases/{case.pk}/").status_code == 200
    # a second application for the same programme: refused with a pointer
    form.update(
        {
            "idempotency_key": "dbl-2",
            f"scan_{people[0].pk}": _scan(),
            f"scan_{people[1].pk}": _scan(),
        }
    )
    again = client.post("/work/cases/new/", form).content.decode()
    assert case.application.application_no in again and "不能重复申请" in again


def test_bad_upload_is_refused_with_a_message_and_nothing_stored(household, clerk_wj):
    _h, people = household
    number = id_number_of(people[0])
    form = {
        "id_number": number,
        "action": "submit",
        "programmes": ["dibao"],
        "commitment": "1",
        f"scan_{people[0].pk}": _scan("x.pdf", b"MZ\x90\x00not a pdf"),
        f"scan_{people[1].pk}": _scan(),
    }
    html = client_for(clerk_wj).post("/work/cases/new/", form).content.decode()
    assert "只能上传PDF、JPEG或PNG格式的文件" in html
    assert people[1].name in html  # the form is shown again, nothing lost
    assert Application.objects.count() == 0


def test_the_clerk_window_cannot_handle_the_case_only_see_it(household, clerk_wj, grid):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    client = client_for(clerk_wj)
    client.post(f"/work/cases/{case.pk}/investigate/", {"workers": [grid.pk], "findings": "越权"})
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED


def test_case_page_actions_and_the_public_notice(household, clerk_wj, grid, caseworker, approver):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    cw = client_for(caseworker)
    page = cw.get(f"/work/cases/{case.pk}/").content.decode()
    assert "登记入户调查" in page and "入户调查" in page
    cw.post(f"/work/cases/{case.pk}/investigate/", {"workers": [grid.pk], "findings": "家中困难"})
    cw.post(f"/work/cases/{case.pk}/review/", {"opinion": "拟批准"})
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLICITY
    public = client_for(approver).get("/gongshi/").content.decode()
    surname = people[0].name[0]
    assert f"{surname}*" in public
    assert people[0].name not in public
    # the notice period is over (the step's due date moved back): close, decide
    StepRecord.objects.filter(case=case, step="publicity").update(
        due_on=timezone.localdate() - timedelta(days=1)
    )
    cw.post(f"/work/cases/{case.pk}/publicity-close/")
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDING
    ap = client_for(approver)
    response = ap.post(
        f"/work/cases/{case.pk}/decide/",
        {"decision": "refuse", "version": case.version, "reasons": "家庭存款超过规定标准"},
        follow=True,
    )
    assert "已作出决定" in response.content.decode()
    stale = ap.post(
        f"/work/cases/{case.pk}/decide/",
        {"decision": "approve", "version": case.version, "amount": "500"},
        follow=True,
    ).content.decode()
    assert "已由他人作出决定" in stale
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED


def test_queue_flags_overdue_cases(household, clerk_wj, caseworker):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    StepRecord.objects.filter(case=case, step="investigate").update(
        due_on=timezone.localdate() - timedelta(days=2)
    )
    html = client_for(caseworker).get("/work/cases/").content.decode()
    assert case.application.application_no in html and "逾期" in html
    assert services.cases_flag_overdue() == 1
    case.refresh_from_db()
    assert case.escalated
    assert (
        "已上报区级" in client_for(caseworker).get("/work/cases/?status=overdue").content.decode()
    )


def test_outsiders_get_not_found(household, clerk_wj, outsider_ly):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    client = client_for(outsider_ly)
    assert client.get(f"/work/cases/{case.pk}/").status_code == 404
    assert case.application.application_no not in client.get("/work/cases/").content.decode()


def test_declaring_a_relative_shows_only_the_surname(household, caseworker):
    _h, people = household
    client = client_for(caseworker)
    number = id_number_of(people[1])
    client.post("/work/cases/relatives/", {"id_number": number, "relation": "子女"})
    html = client.get("/work/cases/relatives/").content.decode()
    assert f"{people[1].name[0]}*" in html
    assert people[1].name not in html and number not in html
    bad = client.post("/work/cases/relatives/", {"id_number": "123", "relation": "x"})
    assert "身份证号码应为18位" in bad.content.decode()
