"""The supervisor's monthly scorecard (量化考核, SUPERVISION.md "Scorecards"), city → district →
town, with the records behind each figure:

* timeliness — cases (the unified intake's) decided in month M: the share decided within 30
  working days of acceptance (``core.calendar.working_days_between``);
* warning closure — the warnings pushed in M (not withdrawn): the share investigated by their
  deadline; precision — of the pushed warnings with an outcome, the share whose household
  really needed help (``warnings.models.PRECISE_OUTCOMES``), also per rule;
* alarm answer — the care centre's non-technical alarms raised in M: the shares accepted within
  60 s and within 180 s;
* spot-check error rate — the cases sampled for M's quarter: the share with at least one
  finding;
* fund findings — confirmed fund findings of M per 1,000 payments of M (both by the payee's
  户籍 division).

A unit is a district (6-digit code) or a town (9 digits); figures count records whose division
code starts with it. Aggregates only (no person is named); scoped to the user's jurisdiction.
The cases and alarms come from lower packages (``cases``, ``care``); their models are looked
up through the app registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

from dajiuzhu.core.access import AccessDenied, NotFound, require_role
from dajiuzhu.core.calendar import working_days_between
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.roles import Role
from dajiuzhu.supervision.models import Finding, SampledCase, SampleStatus, Status
from dajiuzhu.supervision.running import check_month

SCORECARD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
TIMELY_WORKING_DAYS = 30
ANSWER_SECONDS = (60, 180)
INDICATORS = {
    "timeliness": "办理及时率",
    "warning_closure": "预警按期核查率",
    "warning_precision": "预警精准率",
    "alarm_60": "60秒接警率",
    "alarm_180": "180秒接警率",
    "spot_check_error_rate": "抽查差错率",
    "findings_per_1000": "每千笔发放确认违规数",
}
# Lower is better for these (the ranking sorts them ascending).
LOWER_IS_BETTER = frozenset({"spot_check_error_rate", "findings_per_1000"})


@dataclass
class ScoreRow:
    code: str
    name: str
    level: str
    payments: int
    confirmed: int
    findings_per_1000: str | None  # two decimals; None without payments
    warnings: int
    closed_in_time: int
    warning_closure: str | None  # a share with four decimals
    warnings_judged: int
    warnings_precise: int
    warning_precision: str | None
    sampled: int
    sampled_with_findings: int
    spot_check_error_rate: str | None
    decided: int
    decided_in_time: int
    timeliness: str | None
    alarms: int
    answered_60: int
    answered_180: int
    alarm_60: str | None
    alarm_180: str | None


@dataclass
class RulePrecision:
    rule: str
    label: str
    judged: int
    precise: int
    precision: str | None


@dataclass
class Scorecard:
    month: str
    level: str
    parent: str
    parent_name: str
    rows: list[ScoreRow]
    rules: list[RulePrecision] = field(default_factory=list)
    cases_available: bool = True
    alarms_available: bool = True


def _share(part: int, whole: int) -> str | None:
    return None if whole == 0 else f"{Decimal(part) / Decimal(whole):.4f}"


def month_bounds(month: str) -> tuple[datetime, datetime, date, date]:
    """The month's first and next-month's first instants (local time) and its dates."""
    year, m = int(month[:4]), int(month[5:7])
    first = date(year, m, 1)
    following = date(year + (m == 12), m % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(following, time.min, tzinfo=tz)
    return start, end, first, following - timedelta(days=1)


def quarter_of(month: str) -> str:
    return f"{month[:4]}Q{(int(month[5:7]) - 1) // 3 + 1}"


def _payments_by_unit(month: str, length: int) -> dict[str, int]:
    from dajiuzhu.analytics.engine import open_lake
    from dajiuzhu.supervision.checks.common import CheckContext

    with open_lake("duckdb", threads=1, memory_limit="512MB") as lake:
        pay = CheckContext(lake=lake, month=month).payments()
        hukou = lake.table("hukou").select("person_key", "division_code")
        paid = pay.join(hukou, "person_key")
        grouped = paid.group_by(unit=paid.division_code.substr(0, length)).aggregate(n=paid.count())
        return {r["unit"]: int(r["n"]) for r in lake.to_rows(grouped)}


def _model(app: str, name: str):
    try:
        return apps.get_model(app, name)
    except LookupError:  # the package is not installed
        return None


def _units(user: User, level: str, parent: str) -> tuple[list[Division], str, str]:
    """The units of the table: the districts of the user's jurisdiction, or the towns of one
    district (``parent``) in it."""
    prefix = user.scope_prefix
    if level == "town":
        district = Division.objects.filter(
            code=(parent or "")[:6], level=DivisionLevel.DISTRICT
        ).first()
        if district is None or not (
            district.code.startswith(prefix) or prefix.startswith(district.code)
        ):
            raise NotFound
        towns = Division.objects.filter(
            level=DivisionLevel.TOWN, code__startswith=district.code
        ).filter(code__startswith=prefix)
        return list(towns.order_by("code")), district.code, district.name
    districts = Division.objects.filter(level=DivisionLevel.DISTRICT, code__startswith=prefix)
    if not districts.exists() and len(prefix) >= 6:  # a district- or town-scoped supervisor
        districts = Division.objects.filter(level=DivisionLevel.DISTRICT, code=prefix[:6])
    return list(districts.order_by("code")), "", ""


def _count(values, unit: str) -> list:
    return [v for v in values if v[0].startswith(unit)]


def scorecard(*, user: User, month: str, level: str = "district", parent: str = "") -> Scorecard:
    """The scorecard of the user's jurisdiction: its districts, or one district's towns."""
    require_role(user, SCORECARD_ROLES)
    month = check_month(month)
    if level not in ("district", "town"):
        raise AccessDenied
    units, parent_code, parent_name = _units(user, level, parent)
    card = compute(month=month, level=level, units=units)
    card.parent, card.parent_name = parent_code, parent_name
    return card


def compute(*, month: str, level: str, units: list) -> Scorecard:
    """The figures of ``units`` (all districts, or towns) for ``month``: no scoping here (the
    callers scope; the city-wide 通报 asks for every unit)."""
    from dajiuzhu.warnings.models import PRECISE_OUTCOMES, RULES, Warning

    length = len(units[0].code) if units else 6
    start, end, first, last = month_bounds(month)
    payments = _payments_by_unit(month, length)
    confirmed = list(
        Finding.objects.filter(month=month, status=Status.CONFIRMED).values_list(
            "division_code", flat=True
        )
    )
    warnings = list(
        Warning.objects.filter(pushed_at__gte=start, pushed_at__lt=end)
        .exclude(status="withdrawn")
        .values_list("division_code", "investigated_at", "due_date", "outcome", "rule")
    )
    sampled = list(
        SampledCase.objects.filter(spot_check__quarter=quarter_of(month)).values_list(
            "division_code", "status"
        )
    )
    case_model = _model("cases", "Case")
    decided = []
    if case_model is not None:
        decided = [
            (town, working_days_between(accepted, decided_on) <= TIMELY_WORKING_DAYS)
            for town, accepted, decided_on in case_model.objects.filter(
                decided_on__gte=first, decided_on__lte=last
            ).values_list("town_id", "accepted_on", "decided_on")
        ]
    alarm_model = _model("care", "Alarm")
    alarms = []
    if alarm_model is not None:
        alarms = [
            (code, None if accepted is None else (accepted - raised).total_seconds())
            for code, raised, accepted in alarm_model.objects.filter(
                raised_at__gte=start, raised_at__lt=end, technical=False
            ).values_list("division_code", "raised_at", "accepted_at")
        ]
    rows = []
    for d in units:
        unit = d.code
        paid = payments.get(unit, 0)
        n_confirmed = sum(1 for c in confirmed if c.startswith(unit))
        pushed = [w for w in warnings if w[0].startswith(unit)]
        in_time = sum(1 for w in pushed if w[1] is not None and timezone.localdate(w[1]) <= w[2])
        judged = [w for w in pushed if w[3]]
        precise = sum(1 for w in judged if w[3] in PRECISE_OUTCOMES)
        cases = [s for s in sampled if s[0].startswith(unit)]
        with_findings = sum(
            1 for s in cases if s[1] in (SampleStatus.FINDINGS, SampleStatus.RECTIFIED)
        )
        mine = [c for c in decided if c[0].startswith(unit)]
        timely = sum(1 for c in mine if c[1])
        raised = [a for a in alarms if a[0].startswith(unit)]
        a60 = sum(1 for a in raised if a[1] is not None and a[1] <= ANSWER_SECONDS[0])
        a180 = sum(1 for a in raised if a[1] is not None and a[1] <= ANSWER_SECONDS[1])
        rows.append(
            ScoreRow(
                code=unit,
                name=d.name,
                level=level,
                payments=paid,
                confirmed=n_confirmed,
                findings_per_1000=None
                if paid == 0
                else f"{Decimal(n_confirmed) * 1000 / Decimal(paid):.2f}",
                warnings=len(pushed),
                closed_in_time=in_time,
                warning_closure=_share(in_time, len(pushed)),
                warnings_judged=len(judged),
                warnings_precise=precise,
                warning_precision=_share(precise, len(judged)),
                sampled=len(cases),
                sampled_with_findings=with_findings,
                spot_check_error_rate=_share(with_findings, len(cases)),
                decided=len(mine),
                decided_in_time=timely,
                timeliness=_share(timely, len(mine)),
                alarms=len(raised),
                answered_60=a60,
                answered_180=a180,
                alarm_60=_share(a60, len(raised)),
                alarm_180=_share(a180, len(raised)),
            )
        )
    scope = tuple(d.code for d in units) or ("-",)
    rules = []
    for code, spec in RULES.items():
        judged = [w for w in warnings if w[4] == code and w[3] and w[0].startswith(scope)]
        precise = sum(1 for w in judged if w[3] in PRECISE_OUTCOMES)
        rules.append(
            RulePrecision(
                rule=code,
                label=spec.label,
                judged=len(judged),
                precise=precise,
                precision=_share(precise, len(judged)),
            )
        )
    return Scorecard(
        month=month,
        level=level,
        parent="",
        parent_name="",
        rows=rows,
        rules=rules,
        cases_available=case_model is not None,
        alarms_available=alarm_model is not None,
    )


@dataclass
class Unit:
    """A unit that is not one division: the whole of a jurisdiction (its code prefix)."""

    code: str
    name: str


def trend(*, user: User, month: str, parent: str = "", months: int = 6) -> list[ScoreRow]:
    """Month by month up to ``month``: the figures of the user's whole jurisdiction (or of one
    district of it), one row per month (``code`` is the month)."""
    require_role(user, SCORECARD_ROLES)
    month = check_month(month)
    prefix = user.scope_prefix
    if parent:
        _units(user, "town", parent)  # the district must be in scope (NotFound otherwise)
        prefix = parent[:6] if parent[:6].startswith(prefix) else prefix
    year, m = int(month[:4]), int(month[5:7])
    out = []
    for back in range(months - 1, -1, -1):
        y, mm = divmod((year * 12 + m - 1) - back, 12)
        label = f"{y}-{mm + 1:02d}"
        (row,) = compute(month=label, level="district", units=[Unit(prefix, label)]).rows
        row.code = label
        out.append(row)
    return out


def ranking(rows: list[ScoreRow], indicator: str) -> list[tuple[int, ScoreRow]]:
    """Units ranked by one indicator (best first; units without a figure last, unranked)."""
    with_value = [r for r in rows if getattr(r, indicator) is not None]
    reverse = indicator not in LOWER_IS_BETTER
    ordered = sorted(with_value, key=lambda r: (Decimal(getattr(r, indicator)), r.code))
    if reverse:
        ordered = sorted(with_value, key=lambda r: (-Decimal(getattr(r, indicator)), r.code))
    return [(n + 1, r) for n, r in enumerate(ordered)]


# --------------------------------------------------------------------------- drill-down


@dataclass
class Behind:
    """The records behind one figure of one unit: ids, dates and codes (no names), with a link
    to each record's own page where the viewer may open it."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    links: list[str]


def _in_scope(user: User, unit: str) -> str:
    prefix = user.scope_prefix
    unit = (unit or "").strip()[:15]
    if not unit.isdigit() or not (unit.startswith(prefix) or prefix.startswith(unit)):
        raise NotFound
    return unit if unit.startswith(prefix) else prefix


def behind(*, user: User, month: str, unit: str, indicator: str) -> Behind:
    from django.urls import reverse

    from dajiuzhu.warnings.models import Warning

    require_role(user, SCORECARD_ROLES)
    month = check_month(month)
    unit = _in_scope(user, unit)
    start, end, first, last = month_bounds(month)
    title = INDICATORS.get(indicator)
    if title is None:
        raise NotFound
    if indicator == "timeliness":
        case_model = _model("cases", "Case")
        qs = case_model.objects.filter(
            decided_on__gte=first, decided_on__lte=last, town__code__startswith=unit
        ).order_by("decided_on", "pk")
        rows, links = [], []
        for c in qs[:1000]:
            days = working_days_between(c.accepted_on, c.decided_on)
            rows.append(
                [
                    f"#{c.pk}",
                    c.town_id,
                    c.programme,
                    c.accepted_on.isoformat(),
                    c.decided_on.isoformat(),
                    str(days),
                    "是" if days <= TIMELY_WORKING_DAYS else "否",
                ]
            )
            links.append(reverse("cases:detail", args=[c.pk]))
        columns = ["案件", "镇(街道)", "救助项目", "受理日期", "决定日期", "工作日", "按期"]
        return Behind(title, columns, rows, links)
    if indicator in ("warning_closure", "warning_precision"):
        qs = (
            Warning.objects.filter(
                pushed_at__gte=start, pushed_at__lt=end, division_code__startswith=unit
            )
            .exclude(status="withdrawn")
            .order_by("pushed_at", "pk")
        )
        if indicator == "warning_precision":
            qs = qs.exclude(outcome="")
        rows, links = [], []
        for w in qs[:1000]:
            investigated = timezone.localdate(w.investigated_at) if w.investigated_at else None
            rows.append(
                [
                    f"#{w.pk}",
                    w.get_rule_display(),
                    timezone.localdate(w.pushed_at).isoformat(),
                    w.due_date.isoformat(),
                    investigated.isoformat() if investigated else "—",
                    "是" if investigated and investigated <= w.due_date else "否",
                    w.get_outcome_display() if w.outcome else "—",
                ]
            )
            links.append(reverse("warnings:detail", args=[w.pk]))
        columns = ["预警", "规则", "推送日期", "核查期限", "核查日期", "按期", "核查结果"]
        return Behind(title, columns, rows, links)
    if indicator in ("alarm_60", "alarm_180"):
        alarm_model = _model("care", "Alarm")
        qs = alarm_model.objects.filter(
            raised_at__gte=start, raised_at__lt=end, technical=False, division_code__startswith=unit
        ).order_by("raised_at", "pk")
        rows = []
        for a in qs[:1000]:
            seconds = (
                None
                if a.accepted_at is None
                else int((a.accepted_at - a.raised_at).total_seconds())
            )
            rows.append(
                [
                    f"#{a.pk}",
                    a.get_rule_display(),
                    timezone.localtime(a.raised_at).strftime("%Y-%m-%d %H:%M:%S"),
                    "未接警" if seconds is None else str(seconds),
                ]
            )
        return Behind(title, ["报警", "报警类型", "报警时间", "接警用时(秒)"], rows, [])
    if indicator == "spot_check_error_rate":
        qs = SampledCase.objects.filter(
            spot_check__quarter=quarter_of(month), division_code__startswith=unit
        ).order_by("town_code", "pk")
        rows, links = [], []
        for s in qs[:1000]:
            rows.append(
                [
                    f"#{s.pk}",
                    s.town_code,
                    s.program_code,
                    s.get_status_display(),
                    "、".join(s.findings) or "—",
                ]
            )
            links.append(reverse("supervision:sample", args=[s.pk]))
        return Behind(title, ["抽查案件", "镇(街道)", "救助项目", "状态", "问题代码"], rows, links)
    qs = Finding.objects.filter(
        month=month, status=Status.CONFIRMED, division_code__startswith=unit
    ).order_by("check_code", "pk")
    rows, links = [], []
    for f in qs[:1000]:
        rows.append(
            [f"#{f.pk}", f.get_check_code_display(), f.program_code or "—", f"{f.amount:.2f}"]
        )
        links.append(reverse("supervision:detail", args=[f.pk]))
    return Behind(title, ["问题", "核查项", "救助项目", "金额(元)"], rows, links)
