"""Spot checks: the reproducible draw exactly as SUPERVISION.md says (a known answer computed
here from the documented procedure), third-party auditors who see only their sample, findings
by code, the town's rectification."""

from __future__ import annotations

import json
import math
import random
from datetime import date

import pytest

from dajiuzhu.cli import main
from dajiuzhu.core.roles import Role
from dajiuzhu.supervision.models import SampledCase, SpotCheck
from tests.factories.accounts import client_for, make_user
from tests.factories.city import TN_COMMUNITY, WJ_COMMUNITY
from tests.supervision.conftest import FundCity

QUARTER = "2024Q1"
TN_TOWN, WJ_TOWN = TN_COMMUNITY[:9], WJ_COMMUNITY[:9]
API = "/api/v1/supervision/samples"


@pytest.fixture
def decided(db) -> FundCity:
    """12 cases decided in 2024Q1 in a 天宁区 town, 3 in a 武进区 town, and some that are not."""
    c = FundCity()
    for i in range(12):
        p = c.person(f"tn{i}")
        c.recipient(p, "dibao" if i % 3 else "tekun", f"2024-0{1 + i % 3}-{10 + i:02d}")
    for i in range(3):
        p = c.person(f"wj{i}", division=WJ_COMMUNITY)
        c.recipient(p, "dibian", "2024-02-01")
    p = c.person("before")
    c.recipient(p, "dibao", "2023-12-31")
    p = c.person("after")
    c.recipient(p, "dibao", "2024-04-01")
    p = c.person("no_hukou", hukou=False)
    c.recipient(p, "dibao", "2024-02-02")
    c.recipients_sent = list(c.rows["assistance_recipients"])
    c.load()
    return c


def draw(capsys, *args) -> tuple[int, list[dict], str]:
    capsys.readouterr()
    code = main(["supervision", "sample", *[str(a) for a in args]])
    out = capsys.readouterr()
    return code, [json.loads(x) for x in out.out.splitlines() if x.startswith("{")], out.err


def expected(city: FundCity, town: str, seed: int, share=0.05, minimum=5) -> list[tuple]:
    """SUPERVISION.md's draw, re-done from its description (sampling.py's docstring)."""
    cases = sorted(
        (p.key, r["program_code"], date.fromisoformat(r["start_date"]))
        for label, p in city.people.items()
        for r in city.recipients_sent
        if r["id_number"] == p.id_number
        and p.division[:9] == town
        and "2024-01-01" <= r["start_date"] <= "2024-03-31"
        and label != "no_hukou"
    )
    n = len(cases) if len(cases) <= minimum else max(minimum, math.ceil(share * len(cases)))
    return sorted(random.Random(f"{seed}:{QUARTER}:{town}").sample(cases, n))


def test_the_same_seed_draws_the_same_sample_again(decided, capsys, monkeypatch):
    code, lines, err = draw(capsys, "--quarter", QUARTER, "--seed", 42)
    assert code == 0, err
    *towns, total = lines
    assert towns == [
        {"quarter": QUARTER, "seed": 42, "town": TN_TOWN, "decided": 12, "sampled": 5},
        {"quarter": QUARTER, "seed": 42, "town": WJ_TOWN, "decided": 3, "sampled": 3},
    ]
    assert (total["sampled"], total["drawn_again"]) == (8, False)
    check = SpotCheck.objects.get()
    assert (check.seed, str(check.share), check.minimum) == (42, "0.0500", 5)
    got = {
        town: sorted(
            SampledCase.objects.filter(town_code=town).values_list(
                "person_key", "program_code", "start_date"
            )
        )
        for town in (TN_TOWN, WJ_TOWN)
    }
    assert got[TN_TOWN] == expected(decided, TN_TOWN, 42)
    assert got[WJ_TOWN] == expected(decided, WJ_TOWN, 42)  # fewer than 5: all of them
    # anyone can draw it again
    code, lines, _ = draw(capsys, "--quarter", QUARTER, "--seed", 42)
    assert lines[-1]["drawn_again"] is True
    assert all(t["same"] for t in lines[:-1])
    assert SampledCase.objects.count() == 8
    # another seed, another sample of the same sizes
    _, lines, _ = draw(capsys, "--quarter", QUARTER, "--seed", 7)
    second = SpotCheck.objects.get(seed=7)
    picked = sorted(second.cases.filter(town_code=TN_TOWN).values_list("person_key", flat=True))
    assert len(picked) == 5
    assert sorted(k for k, *_ in expected(decided, TN_TOWN, 7)) == picked


def test_bad_quarters_and_contracts_are_clear_messages(decided, capsys):
    code, _, err = draw(capsys, "--quarter", "2024Q5")
    assert code == 2 and "季度格式不正确" in err
    code, _, err = draw(capsys, "--quarter", "2099Q1")
    assert code == 2 and "只能抽取已开始的季度" in err
    code, _, err = draw(capsys, "--quarter", QUARTER, "--contract", "NOPE")
    assert code == 2 and "未找到第三方评估合同" in err
    assert not SpotCheck.objects.exists()


def test_an_auditor_sees_only_the_cases_sampled_for_its_contract(
    decided, capsys, tn_caseworker, wj_caseworker
):
    auditor = make_user("auditor_a", Role.AUDITOR, "320400")
    other = make_user("auditor_b", Role.AUDITOR, "320400")
    code = main(
        [
            "supervision",
            "contract",
            "--code",
            "TP-2024-01",
            "--organisation",
            "常州某社会工作服务中心",
            "--auditor",
            "auditor_a",
        ]
    )
    assert code == 0
    draw(capsys, "--quarter", QUARTER, "--seed", 42, "--contract", "TP-2024-01")
    mine = client_for(auditor).get(API).json()
    assert len(mine) == 8
    assert client_for(other).get(API).json() == []
    case = SampledCase.objects.filter(town_code=TN_TOWN).first()
    detail = client_for(auditor).get(f"{API}/{case.pk}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["members"][0]["name"].startswith("预警tn")
    assert body["assistance"]["title"] == "救助对象"
    assert client_for(other).get(f"{API}/{case.pk}").status_code == 404
    # nothing else: no findings, no warnings, no household files
    assert client_for(auditor).get("/api/v1/supervision/findings").status_code == 403
    assert client_for(auditor).get("/api/v1/warnings").status_code == 403
    search = client_for(auditor).get("/work/households/", {"q": decided.people["tn0"].name})
    assert search.status_code == 403  # no household files outside the sample
    # the auditor's findings, the town's rectification
    post = client_for(auditor).post
    answer = post(f"{API}/{case.pk}/assess", {"codes": ["nope"]}, content_type="application/json")
    assert answer.json()["code"] == "sample.finding_code"
    answer = post(
        f"{API}/{case.pk}/assess",
        {"codes": ["timeliness", "documents"], "notes": "入户调查记录缺失签字"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["findings"] == ["documents", "timeliness"]  # in the policy's order
    assert answer.json()["status"] == "findings" and answer.json()["due_date"]
    wj = client_for(wj_caseworker).post(
        f"{API}/{case.pk}/rectify", {"notes": "x"}, content_type="application/json"
    )
    assert wj.status_code == 404
    tn = client_for(tn_caseworker).post(
        f"{API}/{case.pk}/rectify", {"notes": "已补齐签字材料"}, content_type="application/json"
    )
    assert tn.json()["status"] == "rectified"
    assert client_for(auditor).get(API, {"quarter": QUARTER}).json()[0]["status"] in {
        "rectified",
        "sampled",
    }


def test_the_auditor_assesses_on_the_page_and_the_town_rectifies(decided, capsys, tn_caseworker):
    auditor = make_user("auditor_a", Role.AUDITOR, "320400")
    main(
        [
            "supervision",
            "contract",
            "--code",
            "TP1",
            "--organisation",
            "受托机构",
            "--auditor",
            "auditor_a",
        ]
    )
    draw(capsys, "--quarter", QUARTER, "--seed", 3, "--contract", "TP1")
    case = SampledCase.objects.filter(town_code=TN_TOWN).first()
    client = client_for(auditor)
    listing = client.get("/work/supervision/samples/").content.decode()
    assert "抽查评估" in listing and f"/work/supervision/samples/{case.pk}/" in listing
    page = client.get(f"/work/supervision/samples/{case.pk}/").content.decode()
    assert "登记评估结果" in page and "家庭成员" in page
    answer = client.post(
        f"/work/supervision/samples/{case.pk}/assess/", {"codes": ["other"]}, follow=True
    )
    assert "选择“其他”时须写明评估意见" in answer.content.decode()
    answer = client.post(
        f"/work/supervision/samples/{case.pk}/assess/",
        {"codes": ["wrong_amount"], "notes": "保障金额计算有误"},
        follow=True,
    )
    html = answer.content.decode()
    assert "评估结果已登记" in html and "救助金额有误" in html
    town = client_for(tn_caseworker)
    answer = town.post(f"/work/supervision/samples/{case.pk}/rectify/", {"notes": ""}, follow=True)
    assert "请写明整改情况" in answer.content.decode()
    answer = town.post(
        f"/work/supervision/samples/{case.pk}/rectify/", {"notes": "已重新核算并补发"}, follow=True
    )
    assert "已整改" in answer.content.decode()
