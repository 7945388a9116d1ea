"""The stewards' and supervisors' pages of the data exchange."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from dajiuzhu.exchange.models import Batch, BatchStatus
from tests.factories.accounts import client_for, make_user
from tests.factories.exchange import claim, write_csv


def test_contracts_are_listed_for_staff(tn_clerk):
    page = client_for(tn_clerk).get("/work/exchange/")
    html = page.content.decode()
    assert page.status_code == 200
    for title in ("户籍人口", "医保结算", "居民人均可支配收入", "救助对象"):
        assert title in html
    detail = client_for(tn_clerk).get("/work/exchange/contracts/medical_claims/").content.decode()
    assert "out_of_pocket" in detail and "个人自负" in detail and "假名化" in detail


def _upload(client, name, content, dataset="medical_claims"):
    return client.post(
        "/work/exchange/batches/", {"dataset": dataset, "file": SimpleUploadedFile(name, content)}
    )


def test_a_steward_uploads_downloads_quarantine_resubmits_and_retracts(
    steward_yibao, files, django_capture_on_commit_callbacks
):
    client = client_for(steward_yibao)
    rows = [claim(1), claim(2, id_number='=HYPERLINK("http://x")'), claim(3, total_cost="abc")]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "c.csv", write_csv(files / "c.csv", rows).read_bytes())
    batch = Batch.objects.get()
    assert response.status_code == 302
    assert (batch.status, batch.accepted, batch.rejected) == (BatchStatus.PUBLISHED, 1, 2)
    page = client.get(f"/work/exchange/batches/{batch.pk}/").content.decode()
    assert "身份证号码格式不正确" in page and "金额格式不正确" in page

    xlsx = client.get(f"/work/exchange/batches/{batch.pk}/quarantine.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["_数据行号", "_问题说明"]
    cells = [c.value for c in sheet[2]]
    assert cells[header.index("id_number")] == '\'=HYPERLINK("http://x")'  # not a formula
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    csv_text = client.get(f"/work/exchange/batches/{batch.pk}/quarantine.csv").content.decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK" in csv_text

    # the steward fixes the rows in the downloaded workbook and sends it back
    id_col, cost_col = header.index("id_number") + 1, header.index("total_cost") + 1
    sheet.cell(row=2, column=id_col, value=claim(2)["id_number"])
    sheet.cell(row=3, column=cost_col, value="1200.50")
    fixed = io.BytesIO()
    sheet.parent.save(fixed)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/work/exchange/batches/{batch.pk}/resubmit/",
            {"file": SimpleUploadedFile("fixed.xlsx", fixed.getvalue())},
        )
    resubmitted = Batch.objects.exclude(pk=batch.pk).get()
    assert (resubmitted.channel, resubmitted.accepted, resubmitted.rejected) == ("resubmit", 2, 0)

    retract = client.post(
        f"/work/exchange/batches/{resubmitted.pk}/retract/", {"reason": ""}, follow=True
    )
    assert "必须说明原因" in retract.content.decode()
    client.post(f"/work/exchange/batches/{resubmitted.pk}/retract/", {"reason": "重复报送"})
    assert Batch.objects.get(pk=resubmitted.pk).status == BatchStatus.RETRACTED


def test_a_bad_header_upload_is_failed_with_the_columns_named(
    steward_yibao, django_capture_on_commit_callbacks
):
    client = client_for(steward_yibao)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, "x.csv", b"claim_id,foo\nC1,2\n")
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.FAILED
    page = client.get(f"/work/exchange/batches/{batch.pk}/").content.decode()
    assert "缺少列" in page and "多余列:foo" in page


def test_another_departments_steward_cannot_upload_or_see(
    steward_yibao, files, django_capture_on_commit_callbacks
):
    other = make_user("steward_canlian", "data_steward", "320400", "canlian")
    page = _upload(client_for(other), "c.csv", write_csv(files / "c.csv", [claim()]).read_bytes())
    assert Batch.objects.count() == 0
    assert page.status_code == 200
    assert "无权报送" in page.content.decode()


def test_quality_pages_show_figures_and_charts(
    steward_yibao, files, django_capture_on_commit_callbacks
):
    client = client_for(steward_yibao)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(
            client,
            "c.csv",
            write_csv(files / "c.csv", [claim(), claim(claim_type="x")]).read_bytes(),
        )
    page = client.get("/work/exchange/quality/?dataset=medical_claims").content.decode()
    assert "<svg" in page and "合法性" in page and "0.500" in page
    assert "户籍人口" not in page  # a steward sees their own department's datasets
    supervisor = make_user("city_sup", "supervisor", "320400")
    city = client_for(supervisor).get("/work/exchange/quality/city/").content.decode()
    assert "<svg" in city and "逾期" in city and "户籍人口" in city
    assert client_for(steward_yibao).get("/work/exchange/quality/city/").status_code == 403


def test_an_administrator_signs_an_agreement_on_the_page(city_admin):
    client = client_for(city_admin)
    client.post(
        "/work/exchange/agreements/",
        {
            "consumer": "minzheng",
            "dataset": "medical_claims",
            "purpose": "warning",
            "fields": "person_key, out_of_pocket",
            "scope": "预警",
            "valid_from": "2023-01-01",
        },
    )
    page = client.get("/work/exchange/agreements/").content.decode()
    assert "person_key, out_of_pocket" in page
    bad = client.post(
        "/work/exchange/agreements/",
        {
            "consumer": "minzheng",
            "dataset": "medical_claims",
            "purpose": "warning",
            "fields": "hospital_code",
            "scope": "x",
        },
        follow=True,
    )
    assert "可读字段必须是约定为该用途开放的字段" in bad.content.decode()
