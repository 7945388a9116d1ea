"""The programme catalogue (救助政策库): the 32 programmes of programmes.csv, complete and
consistent with the departments and the OpenFisca variables. No database."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
import yaml

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


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("dajiuzhu.core").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_yaml_is_plain_safe_yaml():
    text = resources.files("dajiuzhu.policy").joinpath("data", "programmes.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)
    assert isinstance(entries, list)
    assert len(entries) == 32


def test_exactly_the_programmes_of_the_csv_in_order():
    rows = _csv("programmes.csv")
    catalogue = load_catalogue()
    assert len(catalogue) == 32
    assert [(p.code, p.name, p.department) for p in catalogue] == [
        (r["code"], r["name"], r["department"]) for r in rows
    ]
    assert all(isinstance(p, Programme) for p in catalogue)


def test_every_owning_department_runs_a_programme():
    owners = [r["code"] for r in _csv("departments.csv") if r["kind"] in ("owner", "both")]
    assert len(owners) == 14
    grouped = by_department()
    assert sorted(grouped) == sorted(owners)
    assert sum(len(ps) for ps in grouped.values()) == 32
    assert all(p.department == code for code, ps in grouped.items() for p in ps)


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


def test_variables_are_real_openfisca_variables():
    known = build_system().variables
    for p in load_catalogue():
        unknown = [v for v in p.variables if v not in known]
        assert not unknown, f"{p.code}: unknown variables {unknown}"


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
        assert isinstance(p.deadline_days, int) and p.deadline_days > 0, p.code
        assert isinstance(p.commitment, bool), p.code
        assert isinstance(p.documents, tuple) and isinstance(p.variables, tuple), p.code


def test_income_tested_programmes_ask_for_one_id_one_authorisation():
    for code in INCOME_TESTED:
        documents = programme(code).documents
        for document in ONE_ID_ONE_AUTHORISATION:
            assert document in documents, f"{code}: {document} missing"


def test_dibao_deadline_within_57():
    assert programme("dibao").deadline_days <= 45


def test_catalogue_is_cached():
    assert load_catalogue() is load_catalogue()
