"""Request-level safeguards (core.middleware, api error handlers): a NUL character in a query
string or a body is a caller's error, answered 400 with a stable code on both databases —
never a 404 (PostgreSQL's DataError) or an empty answer as though the value were fine."""

from django.test import Client

from dajiuzhu.core.middleware import CONTROL_IN_URL_CODE
from dajiuzhu.registry.models import Person
from tests.factories.accounts import client_for
from tests.factories.registry import make_household, new_id_number


def test_a_nul_in_a_public_query_is_refused_with_a_code(db):
    response = Client().get("/api/v1/divisions", {"level": "town\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == CONTROL_IN_URL_CODE


def test_a_nul_in_a_query_parameter_name_is_refused(tn_clerk):
    response = client_for(tn_clerk).get("/api/v1/households?q\x00=1")
    assert response.status_code == 400
    assert response.json()["code"] == CONTROL_IN_URL_CODE


def test_a_page_with_a_nul_in_its_query_answers_the_chinese_error_page(tn_clerk):
    response = client_for(tn_clerk).get("/work/households/", {"q": "张\x00"})
    assert response.status_code == 400
    assert "控制字符" in response.content.decode()


def test_a_nul_in_a_body_field_is_refused_and_nothing_is_written(tn_clerk):
    make_household("320402001")
    before = Person.objects.count()
    response = client_for(tn_clerk).post(
        "/api/v1/persons",
        {
            "id_number": new_id_number("320402"),
            "name": "赵\x00敏",
            "hukou_division": "320402001001",
        },
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert response.json()["code"] == "name.control_chars"
    assert Person.objects.count() == before
