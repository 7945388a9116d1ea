"""The resident's phone portal: apply with every adult's signing code, see every step, upload a
document still owed; another resident sees nothing."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from dajiuzhu.cases.models import Application, MissingDocument
from dajiuzhu.core.models import User
from tests.cases.conftest import PNG, id_number_of
from tests.factories.accounts import client_for


def _resident(person) -> User:
    return User.objects.create(
        username=f"r_{person.pk}", role="resident", phone_index=person.phone_index
    )


def test_resident_applies_on_the_phone_and_follows_it(
    household, sms_outbox, django_capture_on_commit_callbacks
):
    _h, people = household
    client = client_for(_resident(people[0]))
    page = client.get("/portal/apply/").content.decode()
    assert people[1].name in page and "发送验证码" in page
    for p in people:
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/work/cases/signing-code/", {"member": p.pk})
        assert "验证码已发送" in r.content.decode()
    codes = [re.search(r"验证码(\d{6})", m.text).group(1) for m in sms_outbox]
    form = {
        "id_number": id_number_of(people[0]),
        "programmes": ["dibao"],
        "commitment": "1",
        "missing_documents": "医疗费用发票",
        "idempotency_key": "phone-1",
        **{f"code_{p.pk}": c for p, c in zip(people, codes, strict=True)},
    }
    r = client.post("/portal/apply/", form)
    app = Application.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/portal/applications/{app.application_no}/"
    assert app.channel == "phone"
    status = client.get(r["Location"]).content.decode()
    for label in ("受理", "入户调查", "乡镇（街道）初审", "公示", "医疗费用发票", "全案办结期限"):
        assert label in status
    missing = MissingDocument.objects.get()
    bad = SimpleUploadedFile("x.png", b"GIF89a" + b"0" * 10)
    r = client.post(r["Location"], {"missing": missing.pk, "file": bad})
    assert "只能上传PDF、JPEG或PNG格式的文件" in r.content.decode()
    good = SimpleUploadedFile("fp.png", PNG)
    url = f"/portal/applications/{app.application_no}/"
    client.post(url, {"missing": missing.pk, "file": good})
    missing.refresh_from_db()
    assert missing.received_at is not None
    # another resident: nothing
    stranger = client_for(User.objects.create(username="r_x", role="resident"))
    assert stranger.get(f"/portal/applications/{app.application_no}/").status_code == 404


def test_a_wrong_code_is_refused_and_the_form_kept(household):
    _h, people = household
    client = client_for(_resident(people[0]))
    form = {
        "id_number": id_number_of(people[0]),
        "programmes": ["dibao"],
        "commitment": "1",
        **{f"code_{p.pk}": "000000" for p in people},
    }
    html = client.post("/portal/apply/", form).content.decode()
    assert "验证码不正确或已失效" in html
    assert 'value="dibao" checked' in html
    assert Application.objects.count() == 0


def test_the_portal_asks_for_login_first(db):
    from django.test import Client

    r = Client().get("/portal/apply/")
    assert r.status_code == 302 and r["Location"].startswith("/portal/login/?next=")
