"""The special-hardship population per town and community: filters, pages, scope, the audit of
every view, the plan status beside each person; and the care plan on the household file."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from dajiuzhu.care import population, services
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from dajiuzhu.registry.services import category_add
from tests.factories.accounts import client_for, make_user
from tests.factories.registry import make_household

START = date(2023, 1, 1)


def _city():
    """天宁区: 茶山 (320402001) household of three — 特困, 独居老人 with a plan, 低保 only (not
    in the population) — and one 重残 person in 320402002 whose plan's review is overdue;
    武进区: one 孤儿 and one whose 留守老人 category has ended."""
    today = timezone.localdate()
    household, (tekun, alone, dibao) = make_household("320402001", members=3)
    category_add(actor=None, person=tekun, category="tekun", start_date=START)
    category_add(actor=None, person=alone, category="elderly_alone", start_date=START)
    category_add(actor=None, person=dibao, category="dibao", start_date=START)
    services.plan_save(
        actor=None,
        person=alone,
        services=["助餐", "上门走访"],
        visit_schedule="每周电话,每月上门",
        review_date=today + timedelta(days=90),
    )
    _h2, (disabled,) = make_household("320402002", members=1)
    category_add(actor=None, person=disabled, category="severe_disability", start_date=START)
    services.plan_save(
        actor=None, person=disabled, services=["设备"], visit_schedule="", review_date=START
    )
    _h3, (orphan, ended) = make_household("320412001", members=2)
    category_add(actor=None, person=orphan, category="orphan", start_date=START)
    category_add(
        actor=None,
        person=ended,
        category="left_behind_elderly",
        start_date=START,
        end_date=date(2023, 6, 30),
    )
    return household, tekun, alone, dibao, disabled, orphan


def _names(page) -> list[str]:
    return [r.person.name for r in page.context["p"].rows]


def test_the_list_per_town_with_the_plan_status_and_audit(db):
    household, tekun, alone, _dibao, disabled, orphan = _city()
    operator = make_user("city_op", Role.CALL_OPERATOR, "320400")
    client = client_for(operator)
    page = client.get("/work/care/people/")
    assert page.status_code == 200
    p = page.context["p"]
    assert p.total == 4
    assert [(t.code, t.people, t.planned, t.unplanned) for t in p.towns] == [
        ("320402001", 2, 1, 1),
        ("320402002", 1, 1, 0),
        ("320412001", 1, 0, 1),
    ]
    rows = {r.person.name: r for r in p.rows}
    assert set(rows) == {tekun.name, alone.name, disabled.name, orphan.name}
    assert (rows[tekun.name].plan_status, rows[tekun.name].categories) == ("none", ["特困"])
    assert (rows[alone.name].plan_status, rows[alone.name].plan_version) == ("current", 1)
    assert rows[disabled.name].plan_status_label == "计划待复核"
    assert rows[alone.name].household_id == household.pk
    html = page.content.decode()
    assert f'href="/work/care/people/{alone.pk}/"' in html
    assert "计划有效(第 1 版" in html
    event = AuditEvent.objects.filter(action="care.population.view").latest("pk")
    assert (event.actor_id, event.purpose) == (operator.pk, "care")
    assert sorted(event.detail["persons"]) == sorted([tekun.pk, alone.pk, disabled.pk, orphan.pk])

    town = client.get("/work/care/people/?town=320402001&community=320402001001")
    assert sorted(_names(town)) == sorted([tekun.name, alone.name])
    assert [c.code for c in town.context["p"].communities][:1] == ["320402001001"]
    assert _names(client.get("/work/care/people/?plan_status=none")) == [tekun.name, orphan.name]
    assert _names(client.get("/work/care/people/?plan_status=review_due")) == [disabled.name]
    assert _names(client.get("/work/care/people/?category=orphan")) == [orphan.name]
    assert _names(client.get(f"/work/care/people/?name={alone.name}")) == [alone.name]
    assert AuditEvent.objects.filter(action="care.population.view").count() == 6


def test_a_town_sees_its_own_people_only(db):
    _household, tekun, alone, _dibao, _disabled, _orphan = _city()
    town = client_for(make_user("tn_town_cw", Role.CASEWORKER, "320402001"))
    page = town.get("/work/care/people/")
    assert sorted(_names(page)) == sorted([tekun.name, alone.name])
    assert [t.code for t in page.context["p"].towns] == ["320402001"]
    assert _names(town.get("/work/care/people/?town=320412001")) == []
    assert (
        client_for(make_user("aud", Role.AUDITOR, "320400")).get("/work/care/people/").status_code
        == 403
    )


def test_the_list_is_paginated(db, monkeypatch):
    _city()
    monkeypatch.setattr(population, "PAGE_SIZE", 3)
    client = client_for(make_user("city_op2", Role.CALL_OPERATOR, "320400"))
    first = client.get("/work/care/people/?plan_status=")
    assert len(first.context["p"].rows) == 3
    assert "第 1 / 2 页" in first.content.decode()
    second = client.get("/work/care/people/?page=2")
    assert len(second.context["p"].rows) == 1


def test_the_household_file_shows_its_care_plans(db):
    household, tekun, alone, dibao, _disabled, _orphan = _city()
    clerk = client_for(make_user("tn_clerk_c", Role.WINDOW_CLERK, "320402001"))
    html = clerk.get(f"/work/households/{household.pk}/").content.decode()
    assert "关爱计划(一策)" in html
    assert f'<a href="/work/care/people/{alone.pk}/">第 1 版</a>' in html
    assert "助餐、上门走访" in html
    assert f'<a href="/work/care/people/{tekun.pk}/">尚未制定,去制定</a>' in html
    assert dibao.name not in html.split("关爱计划(一策)")[1].split("</table>")[0]
