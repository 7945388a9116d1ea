"""The portal API (client token, channel portal), the status API, the CLI export, the notice
PDF (text extracted with pypdf)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Application
from dajiuzhu.cli import main
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.services import api_token_create
from tests.cases.conftest import id_number_of, submit_window
from tests.factories.accounts import client_for


def _portal(department="minzheng") -> Client:
    _token, clear = api_token_create(actor=None, department_code=department, name="省政务服务网")
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def _codes(sms_outbox) -> list[str]:
    import re

    return [re.search(r"验证码(\d{6})", m.text).group(1) for m in sms_outbox]


def test_portal_submits_with_a_client_token(
    household, sms_outbox, django_capture_on_commit_callbacks
):
    _h, people = household
    portal = _portal()
    numbers = [id_number_of(p) for p in people]
    for number in numbers:
        with django_capture_on_commit_callbacks(execute=True):
            r = portal.post(
                "/api/v1/cases/signing-codes",
                json.dumps({"id_number": number}),
                content_type="application/json",
            )
        assert r.status_code == 200, r.content
    codes = _codes(sms_outbox)
    body = {
        "client_token": "portal-0001",
        "id_number": numbers[0],
        "programmes": ["dibao", "jiuye_yuanzhu"],
        "authorisations": [
            {"id_number": n, "code": c} for n, c in zip(numbers, codes, strict=True)
        ],
        "commitment": True,
        "missing_documents": ["残疾证复印件"],
    }
    r = portal.post("/api/v1/cases/applications", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["channel"] == "portal" and out["town_code"] == "320402001"
    assert [c["programme"] for c in out["cases"]] == ["dibao", "jiuye_yuanzhu"]
    assert out["cases"][1]["status"] == "deciding"  # the short workflow
    assert out["missing_documents"][0]["name"] == "残疾证复印件"
    again = portal.post(
        "/api/v1/cases/applications", json.dumps(body), content_type="application/json"
    )
    assert again.status_code == 200
    assert again.json()["application_no"] == out["application_no"]
    assert Application.objects.count() == 1
    status = portal.get(f"/api/v1/cases/applications/{out['application_no']}")
    assert status.status_code == 200
    assert status.json()["cases"][0]["steps"][0]["step"] == "accept"
    assert _portal().get(f"/api/v1/cases/applications/{out['application_no']}").status_code == 404
    event = AuditEvent.objects.get(action="case.submit")
    assert event.actor_label.startswith("token:")
    assert numbers[0] not in json.dumps(event.detail)


def test_portal_errors_have_stable_codes(household):
    _h, people = household
    portal = _portal()
    body = {
        "client_token": "p2",
        "id_number": "12345",
        "programmes": ["dibao"],
        "commitment": True,
    }
    r = portal.post("/api/v1/cases/applications", json.dumps(body), content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "id_number.format"
    body["id_number"] = id_number_of(people[0])
    r = portal.post("/api/v1/cases/applications", json.dumps(body), content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "case.authorisation_missing"
    other = _portal("canlian")
    r = other.post("/api/v1/cases/applications", json.dumps(body), content_type="application/json")
    assert r.status_code == 403
    assert Application.objects.count() == 0


def test_cli_export_writes_the_header_and_rows(household, clerk_wj, tmp_path):
    _h, people = household
    app = submit_window(clerk_wj, people, programmes=("dibao", "yiliao"))
    out = tmp_path / "cases.csv"
    assert main(["cases", "export", "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert rows[0] == [
        "application_no",
        "programme",
        "applicant_id_number",
        "town_code",
        "channel",
        "status",
        "accepted_on",
        "due_on",
        "decided_on",
        "amount",
    ]
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["application_no"] == app.application_no
    assert first["applicant_id_number"] == id_number_of(people[0])
    assert first["town_code"] == "320402001" and first["channel"] == "window"
    case = app.cases.get(programme="dibao")
    assert first["accepted_on"] == case.accepted_on.isoformat()
    assert first["due_on"] == case.due_on.isoformat()
    assert first["decided_on"] == "" and first["amount"] == ""
    assert AuditEvent.objects.filter(action="case.export").count() == 1


def _decided(people, clerk, approver, *, approve: bool):
    case = submit_window(clerk, people, programmes=("jiuye_yuanzhu",)).cases.get()
    services.case_decide(
        actor=approver,
        case_id=case.pk,
        approve=approve,
        version=case.version,
        amount="300" if approve else None,
        override_reason="按就业援助标准" if approve else "",
        reasons="" if approve else "家庭成员均有稳定就业,不符合条件",
    )
    case.refresh_from_db()
    return case


def _pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def test_refusal_notice_pdf_states_reasons_and_rights(household, clerk_wj, caseworker):
    from tests.factories.accounts import make_user

    approver = make_user("renshe_ap", "approver", "320402", "renshe")
    _h, people = household
    case = _decided(people, clerk_wj, approver, approve=False)
    response = client_for(caseworker).get(f"/work/cases/{case.pk}/notice.pdf")
    if response.status_code == 302:
        pytest.skip("WeasyPrint is not available here")
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content).replace("\n", "")
    assert "不予批准通知书" in text
    assert "家庭成员均有稳定就业" in text
    assert "60日内依法申请行政复议" in text
    assert "6个月内依法向人民法院提起行政诉讼" in text


def test_approval_notice_for_the_resident(household, clerk_wj):
    from dajiuzhu.core.models import User
    from tests.factories.accounts import make_user

    approver = make_user("renshe_ap2", "approver", "320402", "renshe")
    _h, people = household
    case = _decided(people, clerk_wj, approver, approve=True)
    resident = User.objects.create(
        username="r1", role="resident", phone_index=people[0].phone_index
    )
    no = case.application.application_no
    response = client_for(resident).get(f"/portal/applications/{no}/notice/{case.pk}.pdf")
    if response.status_code == 302:
        pytest.skip("WeasyPrint is not available here")
    text = _pdf_text(response.content).replace("\n", "")
    assert "救助决定书" in text and "予以批准" in text and "300" in text
    assert "行政复议" in text
