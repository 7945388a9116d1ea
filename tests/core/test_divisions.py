from dajiuzhu.core.models import Department, Division
from tests.factories.accounts import client_for


def test_the_city_its_districts_and_towns_are_loaded(db):
    assert Division.objects.get(code="320400").name == "常州市"
    assert Division.objects.filter(level="district").count() == 6
    assert Division.objects.filter(level="town").count() == 67
    assert Division.objects.get(code="320402001").parent_id == "320402"
    assert Division.objects.get(code="320481").name == "溧阳市"


def test_departments_are_marked_provider_owner_or_both(db):
    owners = Department.objects.filter(kind__in=["owner", "both"])
    assert owners.count() == 14
    for code in [
        "gongan",
        "jiaojing",
        "canlian",
        "yibao",
        "renshe",
        "ziranziyuan",
        "shichang",
        "gongjijin",
        "jinrong",
        "yingji",
        "minzheng",
        "tongji",
    ]:
        assert Department.objects.get(code=code).provides_data


def test_an_administrator_adds_a_community_and_a_grid(city_admin):
    client = client_for(city_admin)
    response = client.post(
        "/work/admin/divisions/",
        {"parent_code": "320402001", "code": "320402001901", "name": "新村社区"},
    )
    assert response.status_code == 302
    assert Division.objects.get(code="320402001901").level == "community"
    api = client.post(
        "/api/v1/divisions",
        {"parent_code": "320402001901", "code": "320402001901001", "name": "第一网格"},
        content_type="application/json",
    )
    assert api.status_code == 201
    assert Division.objects.get(code="320402001901001").level == "grid"


def test_bad_division_codes_get_clear_messages(city_admin):
    client = client_for(city_admin)
    wrong_prefix = client.post(
        "/api/v1/divisions",
        {"parent_code": "320402001", "code": "320412001901", "name": "错"},
        content_type="application/json",
    )
    assert wrong_prefix.status_code == 400
    assert wrong_prefix.json()["code"] == "division.code"
    page = client.post(
        "/work/admin/divisions/",
        {"parent_code": "320402", "code": "320402999", "name": "不能在区下建"},
        follow=True,
    )
    assert "只能在镇(街道)下新建村(社区)" in page.content.decode()
    assert not Division.objects.filter(code="320402999").exists()


def test_only_administrators_add_divisions(tn_clerk):
    response = client_for(tn_clerk).post(
        "/api/v1/divisions",
        {"parent_code": "320402001", "code": "320402001902", "name": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Division.objects.filter(code="320402001902").exists()
