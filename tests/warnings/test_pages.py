"""The warning pages as town staff, district staff and grid workers use them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from dajiuzhu.core.models import AuditEvent
from dajiuzhu.warnings import services
from dajiuzhu.warnings.models import Status, Warning
from tests.factories.accounts import client_for, make_user
from tests.factories.city import TN_COMMUNITY, YEAR


@pytest.fixture
def scanned(city):
    services.scan_run(year=YEAR)
    return city


def _warning(city, rule, label) -> Warning:
    return Warning.objects.get(rule=rule, person_key=city.people[label].key)


def test_a_town_sees_its_own_queue_and_nothing_of_other_districts(scanned, tn_clerk):
    body = client_for(tn_clerk).get("/work/warnings/").content.decode()
    assert "预警med_return" in body
    assert "预警earner" in body
    assert "预警disaster" not in body  # 武进区
    assert "AC-9" not in body and "(未能分派)" not in body  # unrouted: city level only
    event = AuditEvent.objects.filter(action="warning.list").last()
    assert (event.purpose, len(event.detail["warnings"])) == ("warning", 8)


def test_wujin_sees_only_its_warning_and_the_city_sees_the_unrouted_one(
    scanned, wj_caseworker, city_admin
):
    body = client_for(wj_caseworker).get("/work/warnings/").content.decode()
    assert "预警disaster" in body
    assert "预警med_return" not in body
    body = client_for(city_admin).get("/work/warnings/").content.decode()
    assert "(未能分派)" in body
    assert "(人员库中暂无此人)" in body


def test_the_queue_filters_by_rule_status_age_and_community(scanned, tn_clerk):
    client = client_for(tn_clerk)
    body = client.get("/work/warnings/", {"rule": "TRAFFIC"}).content.decode()
    assert "预警traffic" in body and "预警med_return" not in body
    body = client.get("/work/warnings/", {"community": TN_COMMUNITY}).content.decode()
    assert "预警med_return" in body
    body = client.get("/work/warnings/", {"community": "320402001999"}).content.decode()
    assert "没有符合条件的预警" in body
    body = client.get("/work/warnings/", {"age": "31+"}).content.decode()
    assert "没有符合条件的预警" in body
    body = client.get("/work/warnings/", {"age": "0-3", "status": "pushed"}).content.decode()
    assert "预警med_return" in body
    # nonsense filter values are ignored, never a 500
    response = client.get("/work/warnings/", {"rule": "<x>", "age": "9", "page": "x"})
    assert response.status_code == 200


def test_the_warning_page_shows_evidence_members_and_assistance_audited(
    scanned, tn_clerk, tn_caseworker
):
    w = _warning(scanned, "MED_RETURN", "med_return")
    person = scanned.people["med_return"]
    response = client_for(tn_clerk).get(f"/work/warnings/{w.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body
    assert "2024-02" in body and "住院" in body and "7000.00" in body
    assert "2024-05" in body and "门诊" in body and "5000.00" in body
    assert "12000.00" in body
    assert "最低生活保障" in body  # current assistance from assistance_recipients
    assert person.id_number not in body  # a clerk sees it masked
    assert person.id_number[:4] + "**********" + person.id_number[14:] in body
    assert "预警对象" in body
    actions = list(
        AuditEvent.objects.filter(actor=tn_clerk).values_list("action", "purpose", "object_id")
    )
    assert ("warning.view", "warning", str(w.pk)) in actions
    assert any(a == "household.view" and p == "warning" for a, p, _ in actions)
    body = client_for(tn_caseworker).get(f"/work/warnings/{w.pk}/").content.decode()
    assert person.id_number in body  # caseworkers need the full number


def test_event_pages_show_the_event(scanned, tn_clerk):
    client = client_for(tn_clerk)
    body = client.get(f"/work/warnings/{_warning(scanned, 'TRAFFIC', 'traffic').pk}/").content
    assert "AC-1" in body.decode() and "重伤" in body.decode()
    w = _warning(scanned, "NEW_SEVERE_DISABILITY", "severe_new")
    body = client.get(f"/work/warnings/{w.pk}/").content.decode()
    assert "CN-1" in body and "肢体" in body
    w = _warning(scanned, "EARNER_DEATH", "earner")
    body = client.get(f"/work/warnings/{w.pk}/").content.decode()
    assert "96000.00" in body and "预警earner_spouse" in body


def test_out_of_scope_and_unknown_warnings_are_not_found(scanned, wj_caseworker, tn_clerk):
    w = _warning(scanned, "MED_RETURN", "med_return")
    assert client_for(wj_caseworker).get(f"/work/warnings/{w.pk}/").status_code == 404
    assert client_for(tn_clerk).get("/work/warnings/999999/").status_code == 404


def test_assign_visit_record_and_close(scanned, tn_clerk, wj_clerk):
    w = _warning(scanned, "MED_FALL", "med_fall")
    grid = make_user("tn_grid", "grid_worker", TN_COMMUNITY)
    clerk = client_for(tn_clerk)
    # a worker of another district cannot be chosen
    response = clerk.post(f"/work/warnings/{w.pk}/assign/", {"assignee": wj_clerk.pk}, follow=True)
    assert "只能派发给本镇(街道)的社区工作人员或网格员" in response.content.decode()
    page = clerk.get(f"/work/warnings/{w.pk}/").content.decode()
    assert f'value="{grid.pk}"' in page
    clerk.post(f"/work/warnings/{w.pk}/assign/", {"assignee": grid.pk})
    w.refresh_from_db()
    assert (w.status, w.assignee_id) == (Status.ASSIGNED, grid.pk)

    worker = client_for(grid)
    tasks = worker.get("/work/warnings/tasks/").content.decode()
    assert "预警med_fall" in tasks and 'name="notes"' in tasks
    assert 'name="viewport"' in tasks  # the mobile page
    # helped to apply needs the programme
    response = worker.post(
        f"/work/warnings/{w.pk}/outcome/",
        {"outcome": "helped_to_apply", "notes": "入户核实,医疗负担重", "next": "tasks"},
        follow=True,
    )
    assert "请选择帮助申请的救助项目" in response.content.decode()
    response = worker.post(
        f"/work/warnings/{w.pk}/outcome/",
        {
            "outcome": "helped_to_apply",
            "programme_code": "zhichu",
            "notes": "入户核实,医疗负担重",
            "next": "tasks",
        },
    )
    assert response.status_code == 302 and response.url.endswith(f"/work/warnings/tasks/#w{w.pk}")
    w.refresh_from_db()
    assert (w.status, w.outcome, w.programme_code) == ("investigated", "helped_to_apply", "zhichu")
    # the worker may not close; the town does
    assert worker.post(f"/work/warnings/{w.pk}/close/").status_code == 403
    clerk.post(f"/work/warnings/{w.pk}/close/")
    w.refresh_from_db()
    assert w.status == Status.CLOSED
    actions = list(
        AuditEvent.objects.filter(object_type="warning", object_id=str(w.pk))
        .exclude(action="warning.view")
        .values_list("action", flat=True)
    )
    assert actions == ["warning.assign", "warning.outcome", "warning.close"]
    history = clerk.get(f"/work/warnings/{w.pk}/").context["d"].history
    assert [(h.label, h.actor) for h in history] == [
        ("派发核查", "tn_clerk"),
        ("登记核查结果", "tn_grid"),
        ("办结", "tn_clerk"),
    ]
    # a closed warning is off the task list
    assert "预警med_fall" not in worker.get("/work/warnings/tasks/").content.decode()


def test_a_grid_worker_sees_only_what_is_assigned_to_them(scanned, tn_clerk):
    w = _warning(scanned, "TRAFFIC", "traffic")
    from dajiuzhu.core.services import division_create

    division_create(actor=None, parent_code=TN_COMMUNITY, code=TN_COMMUNITY + "001", name="一网格")
    grid = make_user("tn_grid2", "grid_worker", TN_COMMUNITY + "001")
    body = client_for(grid).get("/work/warnings/").content.decode()
    assert "没有符合条件的预警" in body
    services.warning_assign(actor=tn_clerk, warning_id=w.pk, assignee_id=grid.pk)
    body = client_for(grid).get("/work/warnings/").content.decode()
    assert "预警traffic" in body and "预警med_return" not in body
    assert client_for(grid).get(f"/work/warnings/{w.pk}/").status_code == 200


def test_overdue_warnings_escalate_to_the_district(scanned, tn_caseworker):
    w = _warning(scanned, "DISASTER", "disaster")  # 武进区: not escalated to 天宁区
    late = _warning(scanned, "TRAFFIC", "traffic_fatal")
    Warning.objects.filter(pk__in=[w.pk, late.pk]).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    assert services.warnings_escalate_overdue() == 2
    assert services.warnings_escalate_overdue() == 0
    late.refresh_from_db()
    assert late.escalated and late.escalated_at is not None
    event = AuditEvent.objects.get(action="warning.escalate")
    assert sorted(event.detail["warnings"]) == sorted([w.pk, late.pk])
    # the district (天宁区) lists it first, flagged
    response = client_for(tn_caseworker).get("/work/warnings/")
    rows = response.context["rows"]
    assert rows[0].id == late.pk and rows[0].escalated and rows[0].overdue
    assert "已上报区级" in response.content.decode()
    only = client_for(tn_caseworker).get("/work/warnings/", {"escalated": "1"}).context["rows"]
    assert [r.id for r in only] == [late.pk]


def test_the_dashboard_and_its_xlsx(scanned, tn_clerk):
    from openpyxl import load_workbook

    w = _warning(scanned, "MED_RETURN", "med_return")
    grid = make_user("tn_grid3", "grid_worker", TN_COMMUNITY)
    services.warning_assign(actor=tn_clerk, warning_id=w.pk, assignee_id=grid.pk)
    services.warning_record_outcome(
        actor=grid, warning_id=w.pk, outcome="already_covered", notes="已在低保"
    )
    other = _warning(scanned, "MED_RETURN", "both_rules")
    services.warning_assign(actor=tn_clerk, warning_id=other.pk, assignee_id=grid.pk)
    services.warning_record_outcome(
        actor=grid, warning_id=other.pk, outcome="not_in_hardship", notes="家庭收入较高"
    )
    client = client_for(tn_clerk)
    response = client.get("/work/warnings/stats/", {"year": YEAR})
    assert response.status_code == 200
    s = response.context["s"]
    med = next(r for r in s.by_rule if r.key == "MED_RETURN")
    assert (med.pushed, med.assigned, med.investigated, med.covered, med.precision) == (
        2,
        2,
        2,
        1,
        0.5,
    )
    assert s.total.pushed == 8
    assert [r.label for r in s.by_town] == ["雕庄街道"]
    assert response.content.decode().count("<svg") == 3
    xlsx = client.get("/work/warnings/stats.xlsx", {"year": YEAR})
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["按规则", "按镇街", "按月份"]
    rows = list(wb["按规则"].iter_rows(values_only=True))
    assert rows[0][:4] == ("规则", "推送", "已派发", "已核查")
    assert rows[1][:5] == ("因病返贫", 2, 2, 2, 0)
    assert rows[-1][0] == "合计"


def test_xlsx_cells_are_guarded_against_formulas():
    from openpyxl import load_workbook

    from dajiuzhu.warnings import exports
    from dajiuzhu.warnings.selectors import StatRow, Stats

    evil = StatRow("x", '=HYPERLINK("http://evil")', pushed=1)
    stats = Stats(None, [evil], [evil], [], {}, StatRow("t", "合计"), {}, [])
    wb = load_workbook(io.BytesIO(exports.stats_xlsx(stats)))
    assert wb["按规则"]["A2"].value.startswith("'=")


def test_pages_refuse_residents_and_anonymous(scanned, db):
    from django.test import Client

    from dajiuzhu.core.models import User

    resident = User.objects.create(username="r1", role="resident")
    assert client_for(resident).get("/work/warnings/").status_code == 403
    assert Client().get("/work/warnings/").status_code == 302


def test_the_statistics_open_on_the_latest_year_with_warnings(scanned, tn_clerk):
    """Not on this calendar year, where there are none (the first view was all zeros)."""
    assert timezone.localdate().year > YEAR
    client = client_for(tn_clerk)
    response = client.get("/work/warnings/stats/")
    assert response.context["year"] == YEAR
    assert response.context["s"].total.pushed == 8
    assert f'<option value="{YEAR}" selected>' in response.content.decode()
    xlsx = client.get("/work/warnings/stats.xlsx")
    assert f"warnings-stats-{YEAR}.xlsx" in xlsx["Content-Disposition"]
    assert client.get("/work/warnings/stats/", {"year": "all"}).context["year"] is None
