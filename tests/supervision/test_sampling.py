"""Spot checks: the reproducible draw exactly as SUPERVISION.md says (a known answer computed
here from the documented procedure) over the cases the intake decided, staff relatives always
drawn, third-party auditors who see only their sample, findings by code, the town's
rectification."""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from dajiuzhu.cases.models import CaseStatus, StaffRelative
from dajiuzhu.cli import main
from dajiuzhu.core.roles import Role
from dajiuzhu.demo.history import approved_case_write
from dajiuzhu.registry.models import Membership
from dajiuzhu.supervision.models import SampledCase, SpotCheck
from tests.factories.accounts import client_for, make_user
from tests.factories.city import TN_COMMUNITY, WJ_COMMUNITY
from tests.factories.registry import make_household

QUARTER = "2024Q1"
TN_TOWN, WJ_TOWN = TN_COMMUNITY[:9], WJ_COMMUNITY[:9]
API = "/api/v1/supervision/samples"


_numbers = itertools.count(1)


def _decide(town: str, programme: str, decided_on: date, *, refused: bool = False):
    household, people = make_household(town)
    case = approved_case_write(
        household=household,
        applicant=people[0],
        town=town,
        programme=programme,
        amount=None if refused else "800.00",
        start_month=f"{decided_on.year}-{decided_on.month:02d}",
        application_no=f"S{next(_numbers):07d}",
        submitted_at=datetime(2023, 12, 1, 2, 0, tzinfo=UTC),
        decided_on=decided_on,
    )
    if refused:
        case.status = CaseStatus.REFUSED
        case.save()
    return case


@pytest.fixture
def decided(db) -> dict[str, list]:
    """12 cases decided in 2024Q1 in a 天宁区 town (two refused), 3 in a 武进区 town, and
    some that are not in the sample's population (decided before or after, still open)."""
    out: dict[str, list] = {"tn": [], "wj": []}
    for i in range(12):
        programme = "dibao" if i % 3 else "tekun"
        day = date(2024, 1 + i % 3, 10 + i)
        out["tn"].append(_decide(TN_TOWN, programme, day, refused=i in (4, 9)))
    for _ in range(3):
        out["wj"].append(_decide(WJ_TOWN, "dibian", date(2024, 2, 1)))
    _decide(TN_TOWN, "dibao", date(2023, 12, 31))
    _decide(TN_TOWN, "dibao", date(2024, 4, 1))
    still_open = _decide(TN_TOWN, "dibao", date(2024, 2, 2))
    still_open.status, still_open.decided_on = CaseStatus.INVESTIGATING, None
    still_open.save()
    return out


def draw(capsys, *args) -> tuple[int, list[dict], str]:
    capsys.readouterr()
    code = main(["supervision", "sample", *[str(a) for a in args]])
    out = capsys.readouterr()
    return code, [json.loads(x) for x in out.out.splitlines() if x.startswith("{")], out.err


def expected(cases: list, town: str, seed: int, share=0.05, minimum=5, always=()) -> list[int]:
    """SUPERVISION.md's draw, re-done from its description (sampling.py's docstring): the
    case ids drawn, relatives added."""
    keys = sorted((c.application.application_no, c.programme, c.pk) for c in cases)
    n = len(keys) if len(keys) <= minimum else max(minimum, math.ceil(share * len(keys)))
    drawn = random.Random(f"{seed}:{QUARTER}:{town}").sample([k[:2] for k in keys], n)
    ids = {k[2] for k in keys if k[:2] in drawn}
    return sorted(ids | set(always))


def test_the_same_seed_draws_the_same_sample_again(decided, capsys, monkeypatch):
    code, lines, err = draw(capsys, "--quarter", QUARTER, "--seed", 42)
    assert code == 0, err
    *towns, total = lines
    assert towns == [
        {"quarter": QUARTER, "seed": 42, "town": TN_TOWN, "decided": 12, "sampled": 5,
         "relatives": 0},
        {"quarter": QUARTER, "seed": 42, "town": WJ_TOWN, "decided": 3, "sampled": 3,
         "relatives": 0},
    ]  # fmt: skip
    assert (total["sampled"], total["drawn_again"]) == (8, False)
    check = SpotCheck.objects.get()
    assert (check.seed, str(check.share), check.minimum) == (42, "0.0500", 5)
    got = {
        town: sorted(SampledCase.objects.filter(town_code=town).values_list("case_id", flat=True))
        for town in (TN_TOWN, WJ_TOWN)
    }
    assert got[TN_TOWN] == expected(decided["tn"], TN_TOWN, 42)
    assert got[WJ_TOWN] == sorted(c.pk for c in decided["wj"])  # fewer than 5: all of them
    sampled = SampledCase.objects.filter(town_code=WJ_TOWN).first()
    assert sampled.program_code == "dibian" and sampled.start_date == date(2024, 2, 1)
    assert sampled.division_code == WJ_COMMUNITY[:9] + "001"
    # anyone can draw it again
    code, lines, _ = draw(capsys, "--quarter", QUARTER, "--seed", 42)
    assert lines[-1]["drawn_again"] is True
    assert all(t["same"] for t in lines[:-1])
    assert SampledCase.objects.count() == 8
    # another seed, another sample of the same sizes
    _, lines, _ = draw(capsys, "--quarter", QUARTER, "--seed", 7)
    second = SpotCheck.objects.get(seed=7)
    picked = sorted(second.cases.filter(town_code=TN_TOWN).values_list("case_id", flat=True))
    assert picked == expected(decided["tn"], TN_TOWN, 7)


def test_relatives_of_staff_are_always_in_the_sample(decided, capsys, tn_caseworker):
    chance = expected(decided["tn"], TN_TOWN, 9)
    left_out = [c for c in decided["tn"] if c.pk not in chance]
    declared, flagged = left_out[0], left_out[1]
    # a member of one household declared afterwards; another case flagged at submission
    member = Membership.objects.filter(household=declared.household).last().person
    StaffRelative.objects.create(
        staff=tn_caseworker, person=member, relation="配偶", declared_at=timezone.now()
    )
    flagged.relative_flag = True
    flagged.save()
    _, lines, _ = draw(capsys, "--quarter", QUARTER, "--seed", 9)
    tn = lines[0]
    assert (tn["town"], tn["decided"], tn["sampled"], tn["relatives"]) == (TN_TOWN, 12, 7, 2)
    picked = SampledCase.objects.filter(town_code=TN_TOWN)
    assert sorted(picked.values_list("case_id", flat=True)) == expected(
        decided["tn"], TN_TOWN, 9, always=(declared.pk, flagged.pk)
    )
    assert set(picked.filter(relative=True).values_list("case_id", flat=True)) == {
        declared.pk,
        flagged.pk,
    }
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    page = client_for(city).get("/work/supervision/samples/").content.decode()
    assert page.count("近亲属必抽") == 2


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
    assert body["members"][0]["name"].startswith("测试甲")
    assert body["members"][0]["id_number"].count("*") >= 8  # masked for the auditor
    assert body["decision"]["application_no"] == case.case.application.application_no
    assert body["decision"]["reasons"] == "经审核,符合救助条件"
    assert client_for(other).get(f"{API}/{case.pk}").status_code == 404
    # nothing else: no findings, no warnings, no household files
    assert client_for(auditor).get("/api/v1/supervision/findings").status_code == 403
    assert client_for(auditor).get("/api/v1/warnings").status_code == 403
    search = client_for(auditor).get("/work/households/", {"q": body["members"][0]["name"]})
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
    assert "申请与决定" in page and case.case.application.application_no in page
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
