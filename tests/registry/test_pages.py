from dajiuzhu.core import crypto
from tests.factories.accounts import client_for
from tests.factories.registry import make_household


def test_the_household_file_page_masks_id_numbers_for_a_clerk(tn_clerk):
    household, people = make_household("320402001")
    page = client_for(tn_clerk).get(f"/work/households/{household.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    assert number not in html
    assert f"{number[:4]}**********{number[-4:]}" in html
    assert people[0].name in html
    assert "变更记录" in html


def test_a_household_outside_the_scope_is_not_found(tn_clerk):
    household, people = make_household("320412001")
    page = client_for(tn_clerk).get(f"/work/households/{household.pk}/")
    assert page.status_code == 404
    assert people[0].name not in page.content.decode()
    assert "不在您的管辖范围内" in page.content.decode()


def test_search_by_id_number_uses_post_and_finds_the_household(tn_clerk):
    household, people = make_household("320402001")
    number = crypto.decrypt(people[1].id_number_enc, field="person.id_number")
    page = client_for(tn_clerk).post("/work/households/", {"q": number})
    assert page.status_code == 200
    assert household.household_no in page.content.decode()


def test_search_by_name_prefix(tn_clerk):
    household, people = make_household("320402001")
    other, _ = make_household("320402001")
    page = client_for(tn_clerk).post("/work/households/", {"q": people[0].name})
    html = page.content.decode()
    assert household.household_no in html
    assert other.household_no not in html


def test_an_id_number_in_a_page_address_is_refused_with_a_pointer_to_the_form(tn_clerk):
    _household, people = make_household("320402001")
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    for url in ("/work/households/", "/work/verification/", "/work/warnings/"):
        page = client_for(tn_clerk).get(url, {"q": number})
        assert page.status_code == 400, url
        html = page.content.decode()
        assert "请勿在网址中填写身份证号码" in html
        assert "按身份证号码查找请用页面上的查询框提交" in html
        assert number not in html
