from dajiuzhu.core import crypto
from dajiuzhu.core.idnumber import check_char
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.registry.models import Household, Person
from tests.factories.accounts import client_for
from tests.factories.registry import make_household, new_id_number


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_a_clerk_registers_a_person_and_sees_the_number_masked(tn_clerk):
    make_household("320402001")
    number = new_id_number("320402")
    response = _post(
        client_for(tn_clerk),
        "/api/v1/persons",
        {
            "id_number": number,
            "name": "赵敏",
            "hukou_division": "320402001001",
            "phone": "13912340000",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert body["phone"] == "139****0000"
    person = Person.objects.get(pk=body["id"])
    assert number.encode() not in bytes(person.id_number_enc)
    assert person.id_index == crypto.id_index(number)
    assert person.sex in ("M", "F")


def test_a_caseworker_sees_the_whole_number(tn_caseworker):
    household, people = make_household("320402001")
    response = client_for(tn_caseworker).get(f"/api/v1/households/{household.pk}")
    assert response.status_code == 200
    body = response.json()
    numbers = [m["id_number"] for m in body["members"]]
    assert numbers == [crypto.decrypt(p.id_number_enc, field="person.id_number") for p in people]
    assert body["id_numbers_masked"] is False


def test_bad_id_numbers_get_stable_codes_and_nothing_is_written(tn_clerk):
    make_household("320402001")
    client = client_for(tn_clerk)
    good = new_id_number("320402")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    impossible = "32040219810230" + "123"
    impossible += check_char(impossible)
    cases = {
        "id_number.format": "1234",
        "id_number.checksum": wrong_check,
        "id_number.birth_date": impossible,
    }
    before = Person.objects.count()
    for code, number in cases.items():
        response = _post(
            client,
            "/api/v1/persons",
            {"id_number": number, "name": "错误", "hukou_division": "320402001001"},
        )
        assert response.status_code == 400, number
        assert response.json()["code"] == code
        assert response.json()["field"] == "id_number"
    assert Person.objects.count() == before


def test_oversized_and_malformed_fields_get_422_with_a_code(tn_clerk):
    client = client_for(tn_clerk)
    response = _post(
        client,
        "/api/v1/persons",
        {"id_number": "3" * 40, "name": "名" * 51, "hukou_division": "320402001001"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    garbage = client.post("/api/v1/persons", "{not json", content_type="application/json")
    assert garbage.status_code in (400, 422)
    assert "code" in garbage.json()


def test_a_duplicate_person_is_refused(tn_clerk):
    _household, people = make_household("320402001")
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    response = _post(
        client_for(tn_clerk),
        "/api/v1/persons",
        {"id_number": number, "name": "重复", "hukou_division": "320402001001"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "person.duplicate"


def test_lookup_by_id_number_goes_in_the_body_and_is_audited(tn_clerk):
    _household, people = make_household("320402001")
    number = crypto.decrypt(people[1].id_number_enc, field="person.id_number")
    response = _post(
        client_for(tn_clerk),
        "/api/v1/persons/lookup",
        {"id_number": number, "purpose": "verification"},
    )
    assert response.status_code == 200
    assert response.json()["id"] == people[1].pk
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.purpose, event.object_id) == (
        "person.lookup",
        "verification",
        str(people[1].pk),
    )
    assert number not in str(event.detail)


def test_household_file_lists_members_categories_and_history(tn_clerk):
    from datetime import date

    from dajiuzhu.registry.services import category_add

    household, people = make_household("320402001")
    category_add(actor=None, person=people[0], category="dibao", start_date=date(2023, 3, 1))
    body = client_for(tn_clerk).get(f"/api/v1/households/{household.pk}?purpose=casework").json()
    assert [m["name"] for m in body["members"]] == [p.name for p in people]
    assert body["members"][0]["relation"] == "户主"
    assert body["members"][0]["categories"][0]["label"] == "低保"
    assert body["members"][0]["categories"][0]["start_date"] == "2023-03-01"
    assert body["id_numbers_masked"] is True


def test_a_clerk_creates_a_household_and_adds_a_member(tn_clerk):
    _household, people = make_household("320402001")
    client = client_for(tn_clerk)
    created = _post(
        client, "/api/v1/households", {"household_no": "TN-NEW-1", "division": "320402001001"}
    )
    assert created.status_code == 201
    added = _post(
        client,
        f"/api/v1/households/{created.json()['id']}/members",
        {"person_id": people[1].pk, "relation": "head", "start_date": "2024-01-01"},
    )
    assert added.status_code == 201
    assert added.json()["members"] == 1
    assert Household.objects.get(household_no="TN-NEW-1").memberships.get().person == people[1]
    # the move ended the old membership
    assert people[1].memberships.filter(end_date__isnull=True).count() == 1


def test_an_unknown_purpose_is_refused(tn_clerk):
    household, _ = make_household("320402001")
    response = client_for(tn_clerk).get(f"/api/v1/households/{household.pk}?purpose=curiosity")
    assert response.status_code == 422


def test_creating_a_person_registered_elsewhere_answers_as_the_lookup_does(tn_clerk):
    """No existence oracle: a 天宁区 clerk registering the ID number of a 武进区 person gets
    exactly the lookup's answer for a person outside the scope — the same as for a number
    nobody holds that cannot be registered here either."""
    make_household("320402001")
    _household, wj_people = make_household("320412001")
    wj_number = crypto.decrypt(wj_people[0].id_number_enc, field="person.id_number")
    client = client_for(tn_clerk)
    lookup = _post(client, "/api/v1/persons/lookup", {"id_number": wj_number})
    create = _post(
        client,
        "/api/v1/persons",
        {"id_number": wj_number, "name": "探查", "hukou_division": "320402001001"},
    )
    out_of_scope_division = _post(
        client,
        "/api/v1/persons",
        {"id_number": new_id_number("320412"), "name": "探查", "hukou_division": "320412001001"},
    )
    expected = (404, {"code": "not_found", "message": "未找到该记录,或该记录不在您的管辖范围内"})
    assert (lookup.status_code, lookup.json()) == expected
    assert (create.status_code, create.json()) == expected
    assert (out_of_scope_division.status_code, out_of_scope_division.json()) == expected
    assert not Person.objects.filter(name="探查").exists()


def test_a_household_number_used_elsewhere_is_not_revealed_either(tn_clerk):
    make_household("320402001")
    wj_household, _ = make_household("320412001")
    response = _post(
        client_for(tn_clerk),
        "/api/v1/households",
        {"household_no": wj_household.household_no, "division": "320402001001"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Household.objects.filter(household_no=wj_household.household_no).count() == 1


ID_IN_URL = (
    "网址中不能含有身份证号码。按身份证号码查找请用页面上的查询框提交,"
    "或调用 POST /api/v1/persons/lookup(号码放在请求体中)"
)


def test_id_numbers_are_refused_in_search_urls(tn_clerk):
    household, people = make_household("320402001")
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    client = client_for(tn_clerk)
    for value in (number, number[:15], number[:14], f"{number[:6]} {number[6:14]}", number.lower()):
        response = client.get("/api/v1/households", {"q": value})
        assert response.status_code == 400, value
        assert response.json() == {"code": "query.id_number", "message": ID_IN_URL, "field": "q"}
    assert not AuditEvent.objects.filter(action="household.search").exists()
    fine = client.get("/api/v1/households", {"q": household.household_no[:13]})
    assert fine.status_code == 200
    assert client.get("/api/v1/households", {"q": "1234567890123"}).status_code == 200
    # division codes (15 digits for a grid) are no ID numbers where a division is asked for
    assert client.get("/api/v1/divisions", {"parent": "320402001001001"}).status_code == 200
