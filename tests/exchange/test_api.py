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
from tests.factories.exchange import claim, person_id, write_csv


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


def _hukou_row(n: int, division: str) -> dict:
    number = person_id(n)
    return {
        "id_number": number,
        "name": f"共享{n}",
        "sex": "M" if int(number[16]) % 2 else "F",
        "birth_date": "1975-06-01",
        "household_no": f"HS{n:04d}",
        "relation_to_head": "head",
        "division_code": division,
        "address": "",
        "status": "normal",
    }


def _claims_in_two_districts():
    """Claims of three persons: 户籍 in two towns of 天宁区 and in 武进区."""
    from dajiuzhu.exchange.services import batch_ingest_rows

    hukou = [
        _hukou_row(1, "320402001001"),
        _hukou_row(2, "320402002001"),
        _hukou_row(3, "320412001001"),
    ]
    batch_ingest_rows(actor=None, token=None, dataset="hukou", rows=hukou)
    push(token_client("yibao"), "medical_claims", [claim(1), claim(2), claim(3)])
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="medical_claims",
        purpose="verification",
        fields=["claim_id", "person_key", "out_of_pocket"],
        scope="家庭经济状况核对",
    )


def _session(username, role, scope, department=None) -> Client:
    from tests.factories.accounts import client_for, make_user

    return client_for(make_user(username, role, scope, department))


ROWS = "/api/v1/exchange/medical_claims/rows"


def _claim_ids(client) -> list[str]:
    response = client.get(f"{ROWS}?purpose=verification")
    assert response.status_code == 200, response.content
    return [r["claim_id"] for r in response.json()["rows"]]


def test_residents_never_read_shared_rows_even_with_a_department(db):
    _claims_in_two_districts()
    resident = _session("resident_mz", "resident", None, "minzheng")
    assert resident.get(f"{ROWS}?purpose=verification").status_code == 403
    search = resident.post(
        f"{ROWS}/search",
        {"purpose": "verification", "id_numbers": [person_id(3)]},
        content_type="application/json",
    )
    assert search.status_code == 403
    assert not AuditEvent.objects.filter(action="exchange.rows.read").exists()


def test_staff_read_shared_rows_only_within_their_division_scope(db):
    _claims_in_two_districts()
    town = _session("town_caseworker", "caseworker", "320402001", "minzheng")
    assert _claim_ids(town) == ["C00000001"]
    district = _session("tn_caseworker_mz", "caseworker", "320402", "minzheng")
    assert _claim_ids(district) == ["C00000001", "C00000002"]
    outside = town.post(
        f"{ROWS}/search",
        {"purpose": "verification", "id_numbers": [person_id(3)]},
        content_type="application/json",
    ).json()
    assert (outside["total"], outside["rows"]) == (0, [])
    key = crypto.person_key(person_id(3))
    by_key = town.get(f"{ROWS}?purpose=verification&person={key}").json()
    assert (by_key["total"], by_key["rows"]) == (0, [])
    event = AuditEvent.objects.filter(action="exchange.rows.read").latest("id")
    assert (event.actor.username, event.detail["scope"]) == ("town_caseworker", "320402001")
    # the department's own system (its token) is not limited to a division
    assert len(_claim_ids(token_client("minzheng"))) == 3


def test_a_district_steward_reads_only_their_districts_rows_of_their_own_dataset(db):
    _claims_in_two_districts()
    steward = _session("tn_steward_yibao", "data_steward", "320402", "yibao")
    assert _claim_ids(steward) == ["C00000001", "C00000002"]
    other = _session("tn_steward_canlian", "data_steward", "320402", "canlian")
    refused = other.get(f"{ROWS}?purpose=verification")
    assert refused.status_code == 403
    assert refused.json()["message"] == "部门数据管理员只能读取本部门报送的数据集"


def test_only_roles_that_need_the_purpose_read_shared_rows(db, city_admin):
    _claims_in_two_districts()
    from tests.factories.accounts import client_for

    assert client_for(city_admin).get(f"{ROWS}?purpose=verification").status_code == 403
    call = _session("mz_call", "call_operator", "320400", "minzheng")
    assert call.get(f"{ROWS}?purpose=verification").status_code == 403
    caseworker = _session("mz_caseworker", "caseworker", "320400", "minzheng")
    assert caseworker.get(f"{ROWS}?purpose=supervision").status_code == 403
    assert len(_claim_ids(caseworker)) == 3
    no_department = _session("cw_no_department", "caseworker", "320400")
    refused = no_department.get(f"{ROWS}?purpose=verification")
    assert refused.status_code == 403
    assert "未设所属部门" in refused.json()["message"]


def test_a_district_steward_neither_delivers_nor_opens_the_citys_batches(db):
    """Deliveries are city-wide: a 户籍 push could rename a person of any district, a batch's
    quarantine holds the whole city's rejected rows. Stewards below city level do neither."""
    batch_id = push(token_client("yibao"), "medical_claims", [claim(1), claim(2)]).json()["batch"]
    steward = _session("tn_steward_yibao", "data_steward", "320402", "yibao")
    gongan = _session("tn_steward_gongan", "data_steward", "320402", "gongan")
    refused = push(steward, "medical_claims", [claim(3)])
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "数据由部门的市级数据管理员报送;区(市)级数据管理员只能查看本辖区的共享数据和数据质量"
    )
    assert push(gongan, "hukou", [_hukou_row(5, "320412001001")]).status_code == 403
    assert steward.get(f"/api/v1/exchange/batches/{batch_id}/quarantine").status_code == 404
    assert steward.get(f"/api/v1/exchange/batches/{batch_id}").status_code == 404
    retract = steward.post(
        f"/api/v1/exchange/batches/{batch_id}/retract",
        {"reason": "x"},
        content_type="application/json",
    )
    assert retract.status_code == 404
    assert steward.get(f"/work/exchange/batches/{batch_id}/quarantine.csv").status_code == 404
    assert Batch.objects.count() == 1
    assert Batch.objects.get(pk=batch_id).status == BatchStatus.PUBLISHED
    city = _session("steward_yibao_city", "data_steward", "320400", "yibao")
    assert city.get(f"/api/v1/exchange/batches/{batch_id}/quarantine").status_code == 200
