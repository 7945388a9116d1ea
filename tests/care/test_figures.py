"""The alarm-receiving figures per day, shift and operator: exact values on the page, in the
XLSX and in the console's panel, scoped to the user."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from dajiuzhu.care.models import Alarm, Visit, VisitStatus
from dajiuzhu.core.roles import Role
from tests.care.conftest import t
from tests.factories.accounts import client_for, make_user


def _alarm(person, n: int, created: str, *, by=None, after: int | None = None, outcome=""):
    alarm = Alarm.objects.create(
        rule="BUTTON",
        spell=f"fig-{n}",
        person=person.person,
        division_code="320402001001",
        raised_at=t(created),
    )
    at = t(created)
    fields = {"created_at": at, "outcome": outcome}
    if by is not None:
        fields.update(accepted_by=by, accepted_at=at + timedelta(seconds=after), status="accepted")
    Alarm.objects.filter(pk=alarm.pk).update(**fields)
    return alarm


def _day(tn_person):
    """2024-03-05: six people's alarms over the three shifts, two operators, one unanswered,
    one visit at the door after 20 minutes; a technical alarm and one of another day."""
    op_a = make_user("op_a", Role.CALL_OPERATOR, "320400")
    op_b = make_user("op_b", Role.CALL_OPERATOR, "320400")
    grid = make_user("grid_f", Role.GRID_WORKER, "320402001001")
    _alarm(tn_person, 1, "03-05 09:00", by=op_a, after=30, outcome="false_alarm")
    _alarm(tn_person, 2, "03-05 09:10", by=op_a, after=50, outcome="phone")
    visited = _alarm(tn_person, 3, "03-05 10:00", by=op_b, after=90, outcome="visit")
    _alarm(tn_person, 4, "03-05 17:00", by=op_b, after=200, outcome="false_alarm")
    _alarm(tn_person, 5, "03-05 23:30")
    _alarm(tn_person, 6, "03-05 03:00", by=op_a, after=10)
    _alarm(tn_person, 7, "03-04 12:00", by=op_a, after=500)  # the day before: not counted
    technical = _alarm(tn_person, 8, "03-05 11:00")
    Alarm.objects.filter(pk=technical.pk).update(technical=True, rule="OFFLINE")
    Visit.objects.create(
        person=tn_person.person,
        division_code="320402001001",
        alarm=visited,
        assignee=grid,
        due_date=t("03-05 10:00").date(),
        dispatched_at=t("03-05 10:02"),
        status=VisitStatus.DONE,
        arrived_at=t("03-05 10:20"),
        findings="老人安好",
    )
    return op_a


def test_figures_per_day_shift_and_operator_on_the_page(tn_person):
    op_a = _day(tn_person)
    page = client_for(op_a).get("/work/care/figures/?from=2024-03-05&to=2024-03-06")
    assert page.status_code == 200
    f = page.context["f"]
    total = f.total
    assert (total.alarms, total.accepted) == (6, 5)
    assert (total.within_60, total.within_180) == (3 / 6, 4 / 6)
    assert (total.median_seconds, total.p95_seconds) == (50, 200)
    assert (total.false_alarms, total.with_outcome, total.false_alarm_share) == (2, 4, 0.5)
    assert total.median_to_door_seconds == 1200
    assert [(r.label, r.alarms) for r in f.by_day] == [("2024-03-05", 6), ("2024-03-06", 0)]
    early, late, night = f.by_shift
    assert (early.alarms, early.within_60, early.within_180) == (3, 2 / 3, 1.0)
    assert (early.median_seconds, early.p95_seconds, early.false_alarm_share) == (50, 90, 1 / 3)
    assert (late.alarms, late.accepted, late.within_60, late.within_180) == (2, 1, 0.0, 0.0)
    assert (late.median_seconds, late.false_alarm_share) == (200, 1.0)
    assert (night.alarms, night.within_60, night.median_seconds) == (1, 1.0, 10)
    assert night.false_alarm_share is None
    rows = {r.label: r for r in f.by_operator}
    assert list(rows) == ["op_a", "op_b", "未接警"]
    assert (rows["op_a"].alarms, rows["op_a"].within_60, rows["op_a"].median_seconds) == (3, 1, 30)
    assert (rows["op_b"].within_60, rows["op_b"].within_180, rows["op_b"].median_seconds) == (
        0,
        0.5,
        145,
    )
    assert (rows["op_b"].p95_seconds, rows["未接警"].accepted) == (200, 0)
    html = page.content.decode()
    assert '<strong data-testid="share-60">50.0%</strong>' in html
    assert '<strong data-testid="share-180">66.7%</strong>' in html
    assert html.count("<svg") == 3
    assert "早班 08:00–16:00" in html


def test_figures_xlsx_has_a_sheet_per_grouping(tn_person):
    op_a = _day(tn_person)
    response = client_for(op_a).get("/work/care/figures.xlsx?from=2024-03-05&to=2024-03-05")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="care-figures-2024-03-05-2024-03-05.xlsx"'
    )
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["按日", "按班次", "按坐席"]
    days = list(wb["按日"].iter_rows(values_only=True))
    assert days[0] == ("接警指标 2024-03-05 至 2024-03-05",) + (None,) * 11
    assert days[1][:4] == ("日期", "报警数", "已接警", "60秒内接警比例")
    assert days[2] == ("2024-03-05", 6, 5, 0.5, 4 / 6, 50, 200, 2, 4, 0.5, 1, 1200)
    assert days[3][0] == "合计"
    operators = [r[:5] for r in wb["按坐席"].iter_rows(min_row=3, values_only=True)]
    assert operators == [
        ("op_a", 3, 3, 1, 1),
        ("op_b", 2, 2, 0, 0.5),
        ("未接警", 1, 0, 0, 0),
        ("合计", 6, 5, 0.5, 4 / 6),
    ]
    assert wb["按日"]["D3"].number_format == "0.0%"


def test_figures_are_scoped_and_the_range_is_checked(tn_person):
    _day(tn_person)
    wj = client_for(make_user("wj_cw", Role.CASEWORKER, "320412"))
    page = wj.get("/work/care/figures/?from=2024-03-05&to=2024-03-05")
    assert page.context["f"].total.alarms == 0
    supervisor = client_for(make_user("city_sup", Role.SUPERVISOR, "320400"))
    page = supervisor.get("/work/care/figures/?from=2024-03-06&to=2024-03-05")
    assert page.context["f"].total.alarms == 6  # swapped back to 03-05 … 03-06
    assert "起止日期已对调" in page.content.decode()
    page = supervisor.get("/work/care/figures/?from=yesterday")
    assert "日期格式应为 YYYY-MM-DD" in page.content.decode()
    grid = client_for(make_user("grid_x", Role.GRID_WORKER, "320402001001"))
    assert grid.get("/work/care/figures/").status_code == 403
    menu = supervisor.get("/work/care/").content.decode()
    assert 'href="/work/care/figures/"' in menu
