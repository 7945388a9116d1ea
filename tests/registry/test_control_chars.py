"""NUL and other control characters never reach the registry: the clerk's own writes are
refused with a message (the value is not repeated); 户籍 rows holding them are quarantined
per row by the ingestion (tests/exchange/test_malformed.py)."""

from __future__ import annotations

import pytest

from dajiuzhu.registry.models import Household, Person
from tests.factories.accounts import client_for
from tests.factories.registry import make_household, new_id_number


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize("name", ["王\x00五", "王\x1b五", "王\n五", "王\x7f五"])
def test_a_name_with_a_control_character_is_refused(tn_clerk, name):
    make_household("320402001")
    before = Person.objects.count()
    response = _post(
        client_for(tn_clerk),
        "/api/v1/persons",
        {"id_number": new_id_number("320402"), "name": name, "hukou_division": "320402001001"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "name.control_chars",
        "message": "姓名含有控制字符(如 NUL、换行),请删除后重试",
        "field": "name",
    }
    assert Person.objects.count() == before  # (PostgreSQL could not even be asked for NUL)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"household_no": "TN-\x00-1", "address": ""}, "household_no.control_chars"),
        ({"household_no": "TN-NUL-2", "address": "地址\x00尾"}, "address.control_chars"),
        ({"household_no": "TN-NUL-3", "address": "地址\x0c尾"}, "address.control_chars"),
    ],
)
def test_a_household_with_a_control_character_is_refused(tn_clerk, body, code):
    make_household("320402001")
    before = Household.objects.count()
    response = _post(
        client_for(tn_clerk), "/api/v1/households", {**body, "division": "320402001001"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "\x00" not in response.content.decode()
    assert Household.objects.count() == before


def test_an_address_may_hold_a_line_break(tn_clerk):
    make_household("320402001")
    response = _post(
        client_for(tn_clerk),
        "/api/v1/households",
        {"household_no": "TN-LB-1", "division": "320402001001", "address": "红梅新村\n3幢"},
    )
    assert response.status_code == 201
    assert Household.objects.get(household_no="TN-LB-1").address == "红梅新村\n3幢"
