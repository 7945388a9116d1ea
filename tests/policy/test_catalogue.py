"""The programme catalogue (救助政策库): the 32 programmes, complete, and every department,
OpenFisca variable and parameter it names exists. No database."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
import yaml
from openfisca_core.parameters import Parameter

from dajiuzhu.policy import catalogue
from dajiuzhu.policy.catalogue import (
    CATEGORIES,
    Programme,
    by_department,
    load_catalogue,
    programme,
)
from dajiuzhu.policy.engine import build_system

COMPUTABLE = ("dibao", "dibian", "tekun", "zhichu", "yiliao")
INCOME_TESTED = ("dibao", "dibian", "tekun", "zhichu", "linshi", "yiliao")
ONE_ID_ONE_AUTHORISATION = ("居民身份证", "家庭经济状况核对授权书")
STATUTORY = ("dibao", "tekun", "linshi", "zhichu", "yiliao")
# The 32 programmes of the seed, in the catalogue's order: (code, name, owner department).
EXPECTED = [
    ("dibao", "最低生活保障", "minzheng"),
    ("dibian", "低保边缘家庭生活救助", "minzheng"),
    ("tekun", "特困人员救助供养", "minzheng"),
    ("linshi", "临时救助(急难型)", "minzheng"),
    ("zhichu", "支出型困难家庭临时救助", "minzheng"),
    ("guer", "孤儿基本生活保障", "minzheng"),
    ("wurenfuyang", "事实无人抚养儿童基本生活保障", "minzheng"),
    ("liulang", "流浪乞讨人员救助", "minzheng"),
    ("xueqian_zizhu", "学前教育家庭经济困难儿童资助", "jiaoyu"),
    ("yiwu_zizhu", "义务教育家庭经济困难学生生活补助", "jiaoyu"),
    ("gaozhong_zizhu", "普通高中和中职学校家庭经济困难学生资助", "jiaoyu"),
    ("jiuye_yuanzhu", "就业困难人员就业援助", "renshe"),
    ("shebao_butie", "就业困难人员社会保险补贴", "renshe"),
    ("yanglao_daijiao", "困难群体城乡居民养老保险保费代缴", "renshe"),
    ("gongzu", "公共租赁住房保障", "zhujian"),
    ("weigai", "农村低收入群体危房改造", "zhujian"),
    ("jisheng_teshu", "计划生育特殊家庭扶助", "weijian"),
    ("jingshen_jiuzhi", "严重精神障碍患者救治救助", "weijian"),
    ("yiliao", "医疗救助", "yibao"),
    ("canbao_zizhu", "困难人员参加基本医疗保险资助", "yibao"),
    ("shouzai", "受灾人员生活救助", "yingji"),
    ("dongchun", "冬春生活困难救助", "yingji"),
    ("falv_yuanzhu", "法律援助", "sifa"),
    ("anzhi_bangjiao", "刑满释放人员过渡期救助", "sifa"),
    ("kunnan_canji", "困难残疾人生活补贴", "canlian"),
    ("zhongdu_huli", "重度残疾人护理补贴", "canlian"),
    ("kangfu_jiuzhu", "残疾儿童康复救助", "canlian"),
    ("kunnan_zhigong", "困难职工帮扶", "zonggonghui"),
    ("xiwang_gongcheng", "希望工程助学", "tuanshiwei"),
    ("liangai_jiuzhu", "困难妇女“两癌”救助", "fulian"),
    ("boai_jiuzhu", "红十字博爱救助", "hongshizi"),
    ("cishan_jiuzhu", "慈善救助", "cishan"),
]


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("dajiuzhu.core").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def system():
    return build_system()


def test_yaml_is_plain_safe_yaml():
    text = resources.files("dajiuzhu.policy").joinpath("data", "programmes.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)
    assert isinstance(entries, list)
    assert len(entries) == 32


def test_exactly_the_32_programmes_in_order():
    catalogue_ = load_catalogue()
    assert [(p.code, p.name, p.department) for p in catalogue_] == EXPECTED
    assert all(isinstance(p, Programme) for p in catalogue_)
    assert catalogue.codes() == tuple(code for code, _, _ in EXPECTED)
    assert catalogue.names()["yiliao"] == "医疗救助"


def test_every_owning_department_runs_a_programme():
    owners = [r["code"] for r in _csv("departments.csv") if r["kind"] in ("owner", "both")]
    assert len(owners) == 14
    grouped = by_department()
    assert sorted(grouped) == sorted(owners)
    assert sum(len(ps) for ps in grouped.values()) == 32
    assert all(p.department == code for code, ps in grouped.items() for p in ps)


def test_every_deciding_department_exists_and_owns_programmes():
    owners = {r["code"] for r in _csv("departments.csv") if r["kind"] in ("owner", "both")}
    for p in load_catalogue():
        assert p.intake.decided_by.department in owners, p.code


def test_by_department_keeps_catalogue_order_and_is_a_fresh_copy():
    grouped = by_department()
    assert [p.code for p in grouped["minzheng"]][:3] == ["dibao", "dibian", "tekun"]
    grouped["minzheng"].clear()
    assert by_department()["minzheng"]


def test_programme_lookup():
    assert programme("dibao").name == "最低生活保障"
    assert programme("yiliao").department == "yibao"
    assert programme("dibao") is load_catalogue()[0]
    with pytest.raises(KeyError):
        programme("no_such_programme")


def test_variables_are_real_openfisca_variables_of_the_right_entity(system):
    for p in load_catalogue():
        unknown = [v for v in p.variables if v not in system.variables]
        assert not unknown, f"{p.code}: unknown variables {unknown}"
        for result in p.results:
            for name in result.variables:
                assert system.variables[name].entity.key == result.entity, (p.code, name)


def test_the_rules_results_programme_by_programme():
    assert [(r.code, r.entity) for r in catalogue.results()] == [
        ("dibao", "household"),
        ("dibao_gradual_exit", "household"),
        ("single_person_dibao", "person"),
        ("dibian", "household"),
        ("tekun", "person"),
        ("zhichu", "household"),
        ("yiliao", "person"),
    ]


def test_every_parameter_path_exists_with_a_value_and_a_unit(system):
    for p in load_catalogue():
        intake = p.intake
        assert intake.parameters, p.code
        for path in intake.parameters:
            node = system.parameters
            for part in path.split("."):
                assert part in node.children, f"{p.code}: no parameter {path}"
                node = node.children[part]
            assert isinstance(node, Parameter), f"{p.code}: {path} is a group"
            assert node.metadata["unit"] in ("working-day", "day", "month"), path
            value = catalogue.limit_value(system.parameters("2023-12-01"), path)
            assert isinstance(value, int) and value > 0, path


def test_limits_have_the_units_their_use_needs(system):
    def unit(path):
        node = system.parameters
        for part in path.split("."):
            node = node.children[part]
        return node.metadata["unit"]

    for p in load_catalogue():
        intake = p.intake
        for s in intake.steps:
            if s.limit is not None:
                wanted = "day" if s.step == "publicity" else "working-day"
                assert unit(s.limit) == wanted, (p.code, s.step)
        assert unit(intake.whole_case) == "working-day", p.code
        if intake.review is not None:
            assert unit(intake.review.stable) == "month", p.code


def test_computable_programmes_name_their_variables():
    for code in COMPUTABLE:
        assert programme(code).variables, code
    assert {"dibao_eligible", "dibao_gradual_exit", "dibao_amount"} <= set(
        programme("dibao").variables
    )
    assert "medical_assistance_rate" in programme("yiliao").variables
    assert programme("linshi").variables == ()


def test_every_programme_is_described():
    for p in load_catalogue():
        for field in ("target", "benefit", "legal_basis", "plain", "how_to_apply"):
            value = getattr(p, field)
            assert isinstance(value, str) and value.strip(), f"{p.code}: empty {field}"
        assert p.category in CATEGORIES, p.code
        assert isinstance(p.intake.commitment, bool), p.code
        assert isinstance(p.intake.documents, tuple) and isinstance(p.variables, tuple), p.code


def test_income_tested_programmes_ask_for_one_id_one_authorisation():
    for code in INCOME_TESTED:
        documents = programme(code).intake.documents
        for document in ONE_ID_ONE_AUTHORISATION:
            assert document in documents, f"{code}: {document} missing"


def test_the_statutory_workflows_and_the_short_one():
    assert [p.code for p in load_catalogue() if p.intake.workflow == "statutory"] == list(STATUTORY)
    dibao = programme("dibao").intake
    assert [s.step for s in dibao.steps] == [
        "accept",
        "investigate",
        "check",
        "town_review",
        "publicity",
        "decide",
        "notice",
    ]
    assert dibao.decided_by.level == "district"
    assert dibao.publicity is not None and dibao.publicity.minors is True
    assert programme("tekun").intake.publicity.minors is False  # minors are not posted
    assert programme("linshi").intake.advance_payment == "handling.linshi.advance_file"
    assert programme("linshi").intake.publicity is None  # no 公示 for 急难型
    guer = programme("guer").intake
    assert [(s.step, s.limit) for s in guer.steps] == [
        ("accept", None),
        ("decide", "handling.short.decision.guer"),
        ("notice", "handling.short.notice"),
    ]
    assert guer.whole_case == "handling.short.decision.guer"


def test_the_limits_of_57_and_43(system):
    on = system.parameters("2023-12-01")
    assert catalogue.limit_value(on, programme("dibao").intake.whole_case) == 30
    assert catalogue.limit_value(on, programme("dibao").intake.extended_case) == 45
    assert catalogue.limit_value(on, "handling.dibao.town_review") == 15
    assert catalogue.limit_value(on, "handling.dibao.decision") == 10
    assert catalogue.limit_value(on, "handling.dibao.publicity") == 7
    assert catalogue.limit_value(on, "handling.tekun.reinvestigation") == 15
    assert catalogue.limit_value(on, "handling.linshi.advance_file") == 5
    assert catalogue.limit_value(on, programme("zhichu").intake.whole_case) == 15  # 支出型
    assert catalogue.limit_value(on, "handling.dibao.review.irregular") == 6


def test_a_malformed_entry_is_refused_with_its_code():
    entry = yaml.safe_load(
        resources.files("dajiuzhu.policy").joinpath("data", "programmes.yaml").read_text("utf-8")
    )[0]
    bad = {**entry, "intake": {**entry["intake"], "commitment": "yes"}}
    with pytest.raises(ValueError, match="commitment"):
        Programme.model_validate(bad)
    steps = entry["intake"]["steps"]
    bad = {**entry, "intake": {**entry["intake"], "steps": steps[1:]}}
    with pytest.raises(ValueError, match="start with accept"):
        Programme.model_validate(bad)
    with pytest.raises(ValueError, match="category"):
        Programme.model_validate({**entry, "category": "其他"})


def test_catalogue_is_cached():
    assert load_catalogue() is load_catalogue()
