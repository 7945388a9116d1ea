"""The catalogue, the parameters page, and the residents' self-check."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from dajiuzhu.core.models import AuditEvent
from dajiuzhu.policy.models import ParameterOverride
from tests.factories.accounts import client_for


def test_staff_and_residents_read_the_catalogue(tn_clerk):
    page = client_for(tn_clerk).get("/work/policy/").content.decode()
    assert "32项救助政策" in page and "最低生活保障" in page and "慈善救助" in page
    detail = client_for(tn_clerk).get("/work/policy/programmes/dibao/").content.decode()
    assert "dibao_eligible" in detail and "57号" in detail
    resident = Client().get("/portal/policies/").content.decode()
    assert "最低生活保障" in resident and "一证一书" in resident
    api = Client().get("/api/v1/policy/programmes").json()
    assert len(api) == 32 and len({p["department"] for p in api}) == 14


def test_an_administrator_adds_a_dated_standard_that_takes_effect(city_admin):
    client = client_for(city_admin)
    body = {"district_code": "320402", "members": [{"age": 40, "wage_income": 1800}]}
    before = client.post(
        "/api/v1/policy/calculate", {**body, "month": "2024-07"}, content_type="application/json"
    ).json()
    assert before["dibao_standard"] == 1070
    client.post(
        "/work/policy/parameters/",
        {
            "name": "dibao.standard.320402",
            "start": "2024-07-01",
            "value": "1130",
            "reference": "常民发〔2024〕示例号",
        },
    )
    assert ParameterOverride.objects.get().value == 1130
    assert AuditEvent.objects.filter(action="policy.parameter.add").exists()
    july = client.post(
        "/api/v1/policy/calculate", {**body, "month": "2024-07"}, content_type="application/json"
    ).json()
    june = client.post(
        "/api/v1/policy/calculate", {**body, "month": "2024-06"}, content_type="application/json"
    ).json()
    assert (july["dibao_standard"], june["dibao_standard"]) == (1130, 1070)
    page = client.get("/work/policy/parameters/").content.decode()
    assert "管理员新增" in page and "1130" in page


def test_overlapping_negative_and_unknown_values_are_refused(city_admin):
    client = client_for(city_admin)
    for data, message in [
        ({"name": "dibao.standard.320402", "start": "2023-01-01", "value": "1100"}, "不能改写"),
        ({"name": "dibao.standard.320402", "start": "2025-01-01", "value": "-5"}, "不能为负数"),
        ({"name": "dibao.nosuch", "start": "2025-01-01", "value": "5"}, "未知参数"),
        ({"name": "dibao.standard.320402", "start": "2025-01-01", "value": "abc"}, "应为数字"),
    ]:
        page = client.post(
            "/work/policy/parameters/", {**data, "reference": "测试"}, follow=True
        ).content.decode()
        assert message in page, data
    assert ParameterOverride.objects.count() == 0


def test_only_administrators_add_values(tn_clerk):
    response = client_for(tn_clerk).post(
        "/work/policy/parameters/",
        {"name": "dibao.standard.320402", "start": "2030-01-01", "value": "2000", "reference": "x"},
    )
    assert response.status_code == 403
    assert ParameterOverride.objects.count() == 0


def test_the_self_check_needs_no_login_and_stores_nothing(db):
    counts = (AuditEvent.objects.count(), ParameterOverride.objects.count())
    page = (
        Client()
        .post(
            "/portal/calculator/",
            {
                "district": "320412",
                "age_0": "67",
                "pension_0": "",
                "age_1": "35",
                "wage_1": "1500",
                "age_2": "10",
                "assets": "5000",
                "vehicles": "0",
                "homes": "1",
                "rigid": "200",
            },
        )
        .content.decode()
    )
    assert "可能</strong>可以申请" in page
    assert "最低生活保障" in page
    assert (AuditEvent.objects.count(), ParameterOverride.objects.count()) == counts


def test_the_self_check_explains_bad_answers(db):
    page = Client().post("/portal/calculator/", {"age_0": "abc", "assets": "-1"}).content.decode()
    assert "年龄应为整数" in page and "金融资产应为不小于0的金额" in page
    empty = Client().post("/portal/calculator/", {}).content.decode()
    assert "请至少填写一位家庭成员的年龄" in empty
    api = Client().post(
        "/api/v1/policy/calculate",
        {"district_code": "999999", "members": []},
        content_type="application/json",
    )
    assert api.status_code == 422


def test_today_has_a_standard(db):
    response = Client().post(
        "/api/v1/policy/calculate",
        {"district_code": "320481", "members": [{"age": 80}]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["month"] == timezone.localdate().strftime("%Y-%m")


def test_programme_pages_and_api_show_the_intake_settings_from_the_parameters(tn_clerk):
    detail = client_for(tn_clerk).get("/work/policy/programmes/dibao/").content.decode()
    assert "<dt>办理时限</dt><dd>30个工作日</dd>" in detail
    assert "<li>乡镇（街道）初审:受理后15个工作日内</li>" in detail
    assert "<li>公示:乡镇（街道）初审后7天内</li>" in detail
    assert "<dt>审核确认</dt><dd>区（市）级(常州市民政局),按法定程序办理</dd>" in detail
    tekun = client_for(tn_clerk).get("/work/policy/programmes/tekun/").content.decode()
    assert "未成年人不公示" in tekun
    linshi = client_for(tn_clerk).get("/work/policy/programmes/linshi/").content.decode()
    assert "可先行救助" in linshi and "公示" not in linshi
    api = Client().get("/api/v1/policy/programmes/dibao").json()
    assert api["deadline_days"] == 30 and api["documents"] == [
        "居民身份证",
        "家庭经济状况核对授权书",
    ]
    intake = api["intake"]
    assert (intake["workflow"], intake["decided_by_level"], intake["whole_case_days"]) == (
        "statutory",
        "district",
        30,
    )
    assert intake["extended_case_days"] == 45 and intake["minors_posted"] is True
    assert [(s["step"], s["limit_days"], s["unit"]) for s in intake["steps"]] == [
        ("accept", None, ""),
        ("investigate", 3, "个工作日"),
        ("check", 3, "个工作日"),
        ("town_review", 15, "个工作日"),
        ("publicity", 7, "天"),
        ("decide", 10, "个工作日"),
        ("notice", 3, "个工作日"),
    ]
    guer = Client().get("/api/v1/policy/programmes/guer").json()
    assert guer["intake"]["workflow"] == "short" and guer["deadline_days"] == 30


def test_the_calculator_does_not_tell_a_working_disabled_man_he_may_qualify_for_tekun(db):
    """A 45-year-old with a grade-1 physical disability earning 1,500 a month cannot work by
    the rules (无劳动能力) but has a means of living: his counted income 1,200 is not below the
    低保 standard 1,070 (民发〔2021〕43号 第六条; 1.3 × the standard is the support, not the
    income test). He may apply for 低边 and 单人保, not for 特困."""
    form = {"district": "320402", "age_0": "45", "grade_0": "1", "kind_0": "physical"}
    page = Client().post("/portal/calculator/", {**form, "wage_0": "1500"}).content.decode()
    may = page.split("可以申请:", 1)[1].split("</ul>", 1)[0]
    assert "<strong>特困人员救助供养</strong>" not in may
    assert "<strong>单人保</strong>" in may and "<strong>低保边缘家庭</strong>" in may
    poorer = Client().post("/portal/calculator/", {**form, "wage_0": "1300"}).content.decode()
    assert "<strong>特困人员救助供养</strong>" in poorer.split("可以申请:", 1)[1].split("</ul>")[0]
