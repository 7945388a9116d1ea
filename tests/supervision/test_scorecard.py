"""The monthly scorecard per district: fund findings per 1,000 payments, warning closure,
spot-check error rate — through the API and the page, within the supervisor's jurisdiction."""

from __future__ import annotations

import json

import pytest

from dajiuzhu.core.roles import Role
from dajiuzhu.supervision.models import Finding, SampledCase, SpotCheck, Status
from dajiuzhu.supervision.running import check_run
from tests.factories.accounts import client_for, make_user
from tests.supervision.conftest import MONTH


def test_the_scorecard_counts_per_district(fund_city, tn_caseworker):
    check_run(month=MONTH)
    f = Finding.objects.get(check_code="VEHICLE")
    client_for(tn_caseworker).post(
        f"/api/v1/supervision/findings/{f.pk}/rectify",
        json.dumps({"resolution": "confirmed", "recovered_amount": "800", "payment_stopped": True}),
        content_type="application/json",
    )
    check = SpotCheck.objects.create(
        quarter="2024Q1", seed=1, share="0.05", minimum=5, drawn_at=f.found_at
    )
    for i, status in enumerate(["findings", "no_findings", "rectified", "sampled"]):
        SampledCase.objects.create(
            spot_check=check,
            town_code="320402001",
            division_code="320402001001",
            person_key=i,
            program_code="dibao",
            start_date="2024-02-01",
            status=status,
        )
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    rows = {
        r["code"]: r
        for r in client_for(city).get("/api/v1/supervision/scorecard", {"month": MONTH}).json()
    }
    assert len(rows) == 6  # every district of the city
    tn = rows["320402"]
    # 天宁区's payees were paid 19 times in March (the fund city), one finding confirmed
    assert (tn["payments"], tn["confirmed"]) == (19, 1)
    assert tn["findings_per_1000"] == "52.63"  # 1 × 1000 / 19
    assert (tn["sampled"], tn["sampled_with_findings"], tn["spot_check_error_rate"]) == (
        4,
        2,
        "0.5000",
    )
    assert rows["320412"]["confirmed"] == 0
    assert rows["320481"]["findings_per_1000"] is None  # no payments there
    wj = make_user("wj_supervisor", Role.SUPERVISOR, "320412")
    mine = client_for(wj).get("/api/v1/supervision/scorecard", {"month": MONTH}).json()
    assert [r["code"] for r in mine] == ["320412"]
    assert (
        client_for(tn_caseworker).get("/api/v1/supervision/scorecard", {"month": MONTH}).status_code
        == 403
    )
    page = client_for(city).get("/work/supervision/scorecard/", {"month": MONTH})
    assert "量化考核" in page.content.decode() and "天宁区" in page.content.decode()
    bad = client_for(city).get("/work/supervision/scorecard/", {"month": "2024-13"})
    assert "月份格式不正确" in bad.content.decode()
    assert Finding.objects.filter(status=Status.CONFIRMED).count() == 1


# --------------------------------------------------------------------------- the full scorecard


def _world():
    """One month (2024-03) of every kind of record behind the figures, in 天宁区 雕庄街道 and
    武进区: three decided cases (two within 30 working days), four warnings (three
    investigated, two in time; two precise), three alarms (answered in 30 s, 120 s, never)."""
    from datetime import date, datetime, timedelta

    from django.utils import timezone as tz

    from dajiuzhu.care.models import Alarm
    from dajiuzhu.cases.models import Application, Case
    from dajiuzhu.core.models import Department
    from tests.factories.registry import make_household

    household, people = make_household("320402001")
    wj_household, wj_people = make_household("320412001")
    department = Department.objects.get(code="minzheng")
    local = tz.get_current_timezone()

    def case(h, person, town, accepted, decided, n):
        app = Application.objects.create(
            application_no=f"SQ{n:014d}",
            household=h,
            applicant=person,
            channel="window",
            accepted_division_id=town,
            town_id=town,
            submitted_at=datetime.combine(accepted, datetime.min.time(), tzinfo=local),
        )
        return Case.objects.create(
            application=app,
            household=h,
            programme=f"p{n}",
            department=department,
            decision_level="district",
            workflow="statutory",
            town_id=town,
            status="approved",
            accepted_on=accepted,
            due_on=accepted + timedelta(days=45),
            decided_on=decided,
        )

    # 2024-02-01 + 30 working days (Spring Festival 2024-02-10..17 off, make-up 02-04, 02-18)
    on_time = case(household, people[0], "320402001", date(2024, 2, 20), date(2024, 3, 20), 1)
    late = case(household, people[0], "320402001", date(2024, 1, 2), date(2024, 3, 5), 2)
    case(wj_household, wj_people[0], "320412001", date(2024, 3, 1), date(2024, 3, 8), 3)
    case(household, people[0], "320402001", date(2024, 3, 1), date(2024, 4, 2), 4)  # April

    from dajiuzhu.warnings.models import Warning

    def warning(rule, n, division, pushed, due, investigated, outcome):
        return Warning.objects.create(
            rule=rule,
            year=2024,
            person_key=9000 + n,
            division_code=division,
            pushed_at=datetime.combine(pushed, datetime.min.time(), tzinfo=local),
            due_date=due,
            status="investigated" if investigated else "pushed",
            investigated_at=None
            if investigated is None
            else datetime.combine(investigated, datetime.min.time(), tzinfo=local),
            outcome=outcome,
        )

    rule = next(iter(__import__("dajiuzhu.warnings.rules", fromlist=["RULES"]).RULES))
    warning(
        rule,
        1,
        "320402001001",
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 8),
        "helped_to_apply",
    )
    warning(
        rule,
        2,
        "320402001001",
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 15),
        "not_in_hardship",
    )
    warning(
        rule,
        3,
        "320402001001",
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 5),
        "already_covered",
    )
    warning(rule, 4, "320402001001", date(2024, 3, 4), date(2024, 3, 11), None, "")

    def alarm(n, seconds):
        raised = datetime(2024, 3, 10, 8, 0, n, tzinfo=local)
        return Alarm.objects.create(
            rule="BUTTON",
            spell=f"spell-{n}",
            person=people[0],
            division_code="320402001001",
            raised_at=raised,
            accepted_at=None if seconds is None else raised + timedelta(seconds=seconds),
        )

    alarm(1, 30)
    alarm(2, 120)
    alarm(3, None)
    return on_time, late


def test_every_computable_indicator_city_district_town_with_drill_down(db):
    on_time, late = _world()
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    client = client_for(city)
    rows = {
        r["code"]: r for r in client.get("/api/v1/supervision/scorecard", {"month": MONTH}).json()
    }
    tn = rows["320402"]
    assert (tn["decided"], tn["decided_in_time"], tn["timeliness"]) == (2, 1, "0.5000")
    assert (tn["warnings"], tn["closed_in_time"], tn["warning_closure"]) == (4, 2, "0.5000")
    assert (tn["warnings_judged"], tn["warnings_precise"], tn["warning_precision"]) == (
        3,
        2,
        "0.6667",
    )
    assert (tn["alarms"], tn["answered_60"], tn["answered_180"]) == (3, 1, 2)
    assert (tn["alarm_60"], tn["alarm_180"]) == ("0.3333", "0.6667")
    wj = rows["320412"]
    assert (wj["decided"], wj["timeliness"], wj["alarm_60"]) == (1, "1.0000", None)
    towns = client.get(
        "/api/v1/supervision/scorecard", {"month": MONTH, "level": "town", "parent": "320402"}
    ).json()
    dz = next(r for r in towns if r["code"] == "320402001")
    assert (dz["level"], dz["timeliness"], dz["alarm_180"]) == ("town", "0.5000", "0.6667")
    assert all(r["code"].startswith("320402") and len(r["code"]) == 9 for r in towns)
    # a district supervisor cannot open another district's towns
    tn_sup = make_user("tn_supervisor", Role.SUPERVISOR, "320402")
    other = client_for(tn_sup).get(
        "/api/v1/supervision/scorecard", {"month": MONTH, "level": "town", "parent": "320412"}
    )
    assert other.status_code == 404
    # the page: city → district → town, drill-down to the cases behind the figure
    page = client.get("/work/supervision/scorecard/", {"month": MONTH}).content.decode()
    assert "level=town&amp;parent=320402" in page and "<svg" in page
    behind = client.get(
        "/work/supervision/scorecard/behind/",
        {"month": MONTH, "unit": "320402", "indicator": "timeliness"},
    ).content.decode()
    assert f"/work/cases/{on_time.pk}/" in behind and f"/work/cases/{late.pk}/" in behind
    assert "办理及时率明细" in behind
    assert (
        client_for(tn_sup)
        .get(
            "/work/supervision/scorecard/behind/",
            {"month": MONTH, "unit": "320412", "indicator": "timeliness"},
        )
        .status_code
        == 404
    )
    alarms = client.get(
        "/work/supervision/scorecard/behind/",
        {"month": MONTH, "unit": "320402001", "indicator": "alarm_60"},
    ).content.decode()
    assert "未接警" in alarms and ">30<" in alarms and ">120<" in alarms


def test_the_scorecard_exports_as_xlsx(db):
    import io

    from openpyxl import load_workbook

    _world()
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    answer = client_for(city).get("/work/supervision/scorecard.xlsx", {"month": MONTH})
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    sheet = book[f"{MONTH} 考核指标"]
    lines = list(sheet.iter_rows(values_only=True))
    header = list(lines[0])
    line = list(next(r for r in lines if r[0] == "320402"))
    tn = dict(zip(header, line + [None] * (len(header) - len(line)), strict=True))
    assert tn["名称"] == "天宁区" and tn["办理及时率"] == 0.5 and tn["决定案件数"] == 2
    assert tn["180秒接警率"] == pytest.approx(0.6667) and tn["抽查差错率"] is None
    assert len(lines) == 7  # the header and the six districts
    assert "预警规则精准率" in book.sheetnames


def test_the_monthly_notice_pdf_ranks_districts_and_towns(db, capsys, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    import io

    from dajiuzhu.cli import main
    from dajiuzhu.supervision.models import MonthlyNotice

    _world()
    out = tmp_path / "tongbao.pdf"
    assert main(["supervision", "notice", "--month", MONTH, "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["month"] == MONTH and summary["bytes"] == out.stat().st_size
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    assert "常州市社会救助监督检查通报" in text and "2024年第3期" in text
    assert "各区(市)排名" in text and "镇(街道)排名" in text and "雕庄街道" in text
    assert "天宁区" in text and "50.0%" in text and "33.3%" in text
    fonts = {
        str(f["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()
    }
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts  # the embedded subset
    # downloadable by supervisors; generated again from the page (replaces the kept one)
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    client = client_for(city)
    page = client.get("/work/supervision/scorecard/", {"month": MONTH}).content.decode()
    assert f"/work/supervision/notices/{MONTH}.pdf" in page
    pdf = client.get(f"/work/supervision/notices/{MONTH}.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    again = client.post("/work/supervision/notices/generate/", {"month": MONTH}, follow=True)
    assert f"{MONTH}月度通报已生成" in again.content.decode()
    assert MonthlyNotice.objects.get().trigger == "manual"
    bad = client.post("/work/supervision/notices/generate/", {"month": "2024-13"}, follow=True)
    assert "月份格式不正确" in bad.content.decode()
    tn_caseworker = make_user("tn_cw2", Role.CASEWORKER, "320402")
    assert (
        client_for(tn_caseworker).get(f"/work/supervision/notices/{MONTH}.pdf").status_code == 403
    )


def test_the_worker_makes_last_months_notice(db, monkeypatch):
    from datetime import date

    from dajiuzhu.supervision import tasks
    from dajiuzhu.supervision.models import MonthlyNotice

    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2024, 4, 3))
    tasks.monthly_notice.call_local()
    notice = MonthlyNotice.objects.get()
    assert (notice.month, notice.trigger) == ("2024-03", "nightly")
    assert bytes(notice.pdf).startswith(b"%PDF")


def test_the_trend_goes_month_by_month_over_the_jurisdiction(db):
    from dajiuzhu.supervision.scorecard import trend

    _world()
    city = make_user("city_supervisor", Role.SUPERVISOR, "320400")
    rows = trend(user=city, month="2024-04")
    assert [r.code for r in rows] == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    march, april = rows[-2], rows[-1]
    # the city: two 天宁区 cases and one 武进区 case decided in March, two of them in time
    assert (march.decided, march.decided_in_time, march.timeliness) == (3, 2, "0.6667")
    assert (march.alarms, march.alarm_180) == (3, "0.6667")
    assert (april.decided, april.timeliness, april.alarm_60) == (1, "1.0000", None)  # 22 days
    tn = trend(user=city, month="2024-03", parent="320402", months=1)
    assert (tn[0].decided, tn[0].timeliness) == (2, "0.5000")
    page = client_for(city).get("/work/supervision/scorecard/", {"month": "2024-03"})
    assert "本辖区近6个月指标走势" in page.content.decode()
