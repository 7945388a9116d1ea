"""The exchange API as departments' systems use it: bearer tokens, JSON rows, files, shared
reads under agreements."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dajiuzhu.core import crypto
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.services import api_token_create
from dajiuzhu.exchange.models import Batch, BatchStatus
from dajiuzhu.exchange.services import agreement_create
from tests.exchange.conftest import claim, person_id, write_csv


def token_client(department: str) -> Client:
    _token, clear = api_token_create(actor=None, department_code=department, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def push(client, dataset, rows):
    return client.post(
        f"/api/v1/exchange/{dataset}/rows", {"rows": rows}, content_type="application/json"
    )


def test_the_owner_pushes_rows_and_sees_what_was_quarantined(db):
    yibao = token_client("yibao")
    rows = [claim(1), claim(2), claim(3, claim_type="dental")]
    response = push(yibao, "medical_claims", rows)
    assert response.status_code == 200
    body = response.json()
    assert (body["rows"], body["accepted"], body["rejected"], body["status"]) == (
        3,
        2,
        1,
        "published",
    )
    assert body["quarantine"] == [
        {
            "row_number": 3,
            "problems": [
                {
                    "field": "claim_type",
                    "title": "就诊类型",
                    "code": "enum",
                    "message": "代码不在允许的取值范围内",
                }
            ],
            "values": {},
        }
    ]
    detail = yibao.get(f"/api/v1/exchange/batches/{body['batch']}/quarantine").json()
    assert detail[0]["values"]["claim_type"] == "dental"
    assert AuditEvent.objects.filter(action="exchange.quarantine.read").exists()


def test_only_the_owner_may_deliver_a_dataset(db):
    response = push(token_client("canlian"), "medical_claims", [claim()])
    assert response.status_code == 403
    assert "无权报送" in response.json()["message"]
    assert Batch.objects.count() == 0


def test_pushes_are_limited_and_checked(db):
    yibao = token_client("yibao")
    too_many = push(yibao, "medical_claims", [claim(1)] * 10_001)
    assert too_many.status_code == 422
    unexpected = push(yibao, "medical_claims", [{**claim(), "patient": "x"}])
    assert unexpected.status_code == 400
    assert unexpected.json()["code"] == "contract.columns"
    assert "patient" in unexpected.json()["message"]
    unknown = push(yibao, "no_such", [claim()])
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "dataset.unknown"
    nobody = Client().post(
        "/api/v1/exchange/medical_claims/rows", {"rows": [claim()]}, content_type="application/json"
    )
    assert nobody.status_code == 401


def test_a_file_upload_is_queued_and_processed(db, files, django_capture_on_commit_callbacks):
    yibao = token_client("yibao")
    path = write_csv(files / "c.csv", [claim() for _ in range(3)])
    with django_capture_on_commit_callbacks(execute=True):
        response = yibao.post(
            "/api/v1/exchange/medical_claims/files",
            {"file": SimpleUploadedFile("c.csv", path.read_bytes())},
        )
    assert response.status_code == 202
    batch = Batch.objects.get(pk=response.json()["batch"])
    assert (batch.status, batch.accepted) == (BatchStatus.PUBLISHED, 3)
    status = yibao.get(f"/api/v1/exchange/batches/{batch.pk}").json()
    assert status["status"] == "published"
    assert token_client("canlian").get(f"/api/v1/exchange/batches/{batch.pk}").status_code == 404


def test_no_agreement_no_data_and_only_the_agreed_fields(db):
    push(token_client("yibao"), "medical_claims", [claim(1), claim(2)])
    minzheng = token_client("minzheng")
    refused = minzheng.get("/api/v1/exchange/medical_claims/rows?purpose=warning")
    assert refused.status_code == 403
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="medical_claims",
        purpose="warning",
        fields=["person_key", "settlement_date", "out_of_pocket"],
        scope="因病返贫、因病致贫预警",
    )
    body = minzheng.get("/api/v1/exchange/medical_claims/rows?purpose=warning").json()
    assert body["fields"] == ["person_key", "settlement_date", "out_of_pocket"]
    assert body["total"] == 2
    assert set(body["rows"][0]) == {"person_key", "settlement_date", "out_of_pocket"}
    other_purpose = minzheng.get("/api/v1/exchange/medical_claims/rows?purpose=supervision")
    assert other_purpose.status_code == 403
    event = AuditEvent.objects.filter(action="exchange.rows.read").latest("id")
    assert (event.purpose, event.detail["department"]) == ("warning", "minzheng")


def test_reads_filter_by_person_through_the_body(db):
    push(token_client("yibao"), "medical_claims", [claim(n) for n in range(1, 6)])
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="medical_claims",
        purpose="verification",
        fields=["claim_id", "person_key", "out_of_pocket"],
        scope="家庭经济状况核对",
    )
    minzheng = token_client("minzheng")
    body = minzheng.post(
        "/api/v1/exchange/medical_claims/rows/search",
        {"purpose": "verification", "id_numbers": [person_id(2)]},
        content_type="application/json",
    ).json()
    assert [r["claim_id"] for r in body["rows"]] == ["C00000002"]
    key = crypto.person_key(person_id(2))
    by_key = minzheng.get(f"/api/v1/exchange/medical_claims/rows?purpose=verification&person={key}")
    assert by_key.json()["total"] == 1
    bad = minzheng.post(
        "/api/v1/exchange/medical_claims/rows/search",
        {"purpose": "verification", "id_numbers": ["123"]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "id_number.format"


def test_agreements_only_grant_fields_open_to_the_purpose(db):
    import pytest

    from dajiuzhu.core.services import ServiceError

    with pytest.raises(ServiceError) as info:
        agreement_create(
            actor=None,
            consumer_code="minzheng",
            dataset="medical_claims",
            purpose="verification",
            fields=["hospital_code"],
            scope="x",
        )
    assert info.value.code == "agreement.fields"
    with pytest.raises(ServiceError) as info:
        agreement_create(
            actor=None,
            consumer_code="minzheng",
            dataset="traffic_accidents",
            purpose="verification",
            fields=["person_key"],
            scope="x",
        )
    assert info.value.code == "agreement.purpose_not_allowed"
