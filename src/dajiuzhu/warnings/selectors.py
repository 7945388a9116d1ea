"""Reads of early warning, always scoped to the acting user and audited with purpose 预警核查.

Who sees a warning: staff of the warning-reading roles whose jurisdiction contains the
person's 户籍 division (a town sees its own, a district all of its towns — escalated ones first),
and the worker it is assigned to. Warnings the lake could not route (the person has no 户籍
record) are visible to city-level staff only.

The person behind a warning is re-identified through the registry (``person_key``); names and
ID numbers are masked per role as the registry's selectors do. Evidence read from the lake is
limited to the fields the dataset's contract opens for the warning purpose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from dajiuzhu.analytics.engine import open_lake
from dajiuzhu.core.access import NotFound, require_role, scope_q
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import AuditEvent, Division, DivisionLevel, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.selectors import age_on, display_id_number, display_phone
from dajiuzhu.warnings.models import (
    OPEN_STATUSES,
    Outcome,
    Rule,
    ScanRun,
    Status,
    Warning,
)
from dajiuzhu.warnings.programmes import programme_label
from dajiuzhu.warnings.rules import RULE_CODES, RULES
from dajiuzhu.warnings.services import ASSIGNEE_ROLES, ASSIGNER_ROLES, can_be_assignee

READ_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.CASEWORKER,
        Role.APPROVER,
        Role.GRID_WORKER,
        Role.SUPERVISOR,
        Role.AUDITOR,
        Role.ADMIN,
    }
)
# Age filter of the queue: days since the warning was pushed.
AGES = {"0-3": (0, 3), "4-10": (4, 10), "11-30": (11, 30), "31+": (31, None)}
AGE_LABELS = {"0-3": "3天内", "4-10": "4–10天", "11-30": "11–30天", "31+": "30天以上"}
UNKNOWN_PERSON = "(人员库中暂无此人)"
MAX_LIST = 500


def _visible(user: User) -> QuerySet[Warning]:
    require_role(user, READ_ROLES)
    visible = scope_q(user, "division_code") | Q(assignee=user)
    if user.scope is not None and user.scope.level == DivisionLevel.CITY:
        visible |= Q(division_code="")
    return Warning.objects.filter(visible)


def is_overdue(w: Warning, today: date | None = None) -> bool:
    return w.status in OPEN_STATUSES and w.due_date < (today or timezone.localdate())


# --------------------------------------------------------------------------- the queue


@dataclass
class QueueFilters:
    rule: str = ""
    status: str = ""
    age: str = ""
    community: str = ""
    year: int | None = None
    escalated: bool = False
    mine: bool = False

    @classmethod
    def parse(cls, params: Any) -> QueueFilters:
        rule = (params.get("rule") or "").strip().upper()
        status = (params.get("status") or "").strip()
        age = (params.get("age") or "").strip()
        community = (params.get("community") or "").strip()
        year = (params.get("year") or "").strip()
        return cls(
            rule=rule if rule in Rule.values else "",
            status=status if status in [*Status.values, "overdue", "open"] else "",
            age=age if age in AGES else "",
            community=community if community.isdigit() and len(community) <= 15 else "",
            year=int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
            escalated=(params.get("escalated") or "") in ("1", "true", "on"),
            mine=(params.get("mine") or "") in ("1", "true", "on"),
        )


@dataclass
class WarningRow:
    id: int
    rule: str
    rule_label: str
    year: int
    status: str
    status_label: str
    pushed_at: datetime
    due_date: date
    overdue: bool
    escalated: bool
    town: str
    community: str
    household_no: str
    person_name: str
    assignee: str
    amount: Decimal | None
    event_ref: str
    event_date: date | None
    age_days: int
    outcome: str
    outcome_label: str
    basis_note: str


def _names(keys: set[int]) -> dict[int, Person]:
    people = {}
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        for p in Person.objects.filter(person_key__in=key_list[start : start + 500]):
            people[p.person_key] = p
    return people


def _filtered(user: User, f: QueueFilters) -> QuerySet[Warning]:
    qs = _visible(user)
    today = timezone.localdate()
    if f.rule:
        qs = qs.filter(rule=f.rule)
    if f.status == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_date__lt=today)
    elif f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    else:
        qs = qs.exclude(status=Status.WITHDRAWN)
    if f.age:
        low, high = AGES[f.age]
        now = timezone.now()
        qs = qs.filter(pushed_at__lte=now - timedelta(days=low))
        if high is not None:
            qs = qs.filter(pushed_at__gt=now - timedelta(days=high + 1))
    if f.community:
        qs = qs.filter(division_code__startswith=f.community)
    if f.year:
        qs = qs.filter(year=f.year)
    if f.escalated:
        qs = qs.filter(escalated=True)
    if f.mine:
        qs = qs.filter(assignee=user)
    return qs


def _rows(user: User, warnings: list[Warning]) -> list[WarningRow]:
    today = timezone.localdate()
    people = _names({w.person_key for w in warnings})
    rows = []
    for w in warnings:
        person = people.get(w.person_key)
        rows.append(
            WarningRow(
                id=w.pk,
                rule=w.rule,
                rule_label=w.get_rule_display(),
                year=w.year,
                status=w.status,
                status_label=w.get_status_display(),
                pushed_at=w.pushed_at,
                due_date=w.due_date,
                overdue=is_overdue(w, today),
                escalated=w.escalated,
                town=w.town.name if w.town_id else "(未能分派)",
                community=w.division_code if len(w.division_code) > 9 else "",
                household_no=w.household_no,
                person_name=person.name if person else UNKNOWN_PERSON,
                assignee=str(w.assignee) if w.assignee_id else "",
                amount=w.amount,
                event_ref=w.event_ref,
                event_date=w.event_date,
                age_days=(today - timezone.localdate(w.pushed_at)).days,
                outcome=w.outcome,
                outcome_label=w.get_outcome_display() if w.outcome else "",
                basis_note=w.basis_note,
            )
        )
    return rows


def warning_list(
    *, user: User, filters: QueueFilters, limit: int = 100, offset: int = 0
) -> tuple[list[WarningRow], int]:
    """The queue: escalated first, then overdue, then by deadline. Audited (names shown)."""
    qs = _filtered(user, filters)
    total = qs.count()
    today = timezone.localdate()
    ordered = qs.select_related("town", "assignee").order_by(
        "-escalated",
        Case(
            When(status__in=OPEN_STATUSES, due_date__lt=today, then=Value(0)),
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        "due_date",
        "-id",
    )
    limit = max(1, min(limit, MAX_LIST))
    warnings = list(ordered[offset : offset + limit])
    rows = _rows(user, warnings)
    if rows:
        audit_record(
            actor=user,
            action="warning.list",
            object_type="warning",
            object_id="*",
            purpose=Purpose.WARNING,
            detail={"warnings": [r.id for r in rows]},
        )
    return rows, total


def communities(user: User) -> list[Division]:
    """Communities the user may filter by (those under the user's scope)."""
    if not user.scope_id:
        return []
    qs = Division.objects.filter(level=DivisionLevel.COMMUNITY).filter(scope_q(user, "code"))
    return list(qs.order_by("code")[:300])


@dataclass
class TaskCard:
    id: int
    rule_label: str
    status: str
    status_label: str
    due_date: date
    overdue: bool
    person_name: str
    phone: str
    household_no: str
    address: str
    summary: str
    outcome: str
    programme_code: str
    notes: str


def task_list(*, user: User) -> list[TaskCard]:
    """The worker's mobile task list: warnings assigned to them that are not closed."""
    require_role(user, READ_ROLES)
    warnings = list(
        Warning.objects.filter(
            assignee=user, status__in=[Status.ASSIGNED, Status.INVESTIGATED]
        ).order_by("status", "due_date", "id")[:200]
    )
    people = _names({w.person_key for w in warnings})
    homes = {
        h.household_no: h
        for h in Household.objects.filter(household_no__in={w.household_no for w in warnings})
    }
    today = timezone.localdate()
    cards = []
    for w in warnings:
        person = people.get(w.person_key)
        home = homes.get(w.household_no)
        cards.append(
            TaskCard(
                id=w.pk,
                rule_label=w.get_rule_display(),
                status=w.status,
                status_label=w.get_status_display(),
                due_date=w.due_date,
                overdue=is_overdue(w, today),
                person_name=person.name if person else UNKNOWN_PERSON,
                phone=display_phone(user, person) if person else "",
                household_no=w.household_no,
                address=home.address if home else "",
                summary=evidence_summary(w),
                outcome=w.outcome,
                programme_code=w.programme_code,
                notes=w.notes,
            )
        )
    if cards:
        audit_record(
            actor=user,
            action="warning.tasks",
            object_type="warning",
            object_id="*",
            purpose=Purpose.WARNING,
            detail={"warnings": [c.id for c in cards]},
        )
    return cards


def evidence_summary(w: Warning) -> str:
    """One line of the evidence for lists and the task cards."""
    e = {k: "" if v is None else str(v) for k, v in (w.evidence or {}).items()}
    if RULES[w.rule].medical:
        return f"{w.year}年个人自负合计 {e.get('out_of_pocket', '—')} 元"
    if w.rule == "TRAFFIC":
        injury = INJURY_LABELS.get(e.get("injury", ""), e.get("injury", ""))
        return f"{e.get('accident_date', '')} 交通事故,伤情:{injury}"
    if w.rule == "DISASTER":
        kind = KIND_LABELS.get(e.get("kind", ""), "")
        level = LOSS_LABELS.get(e.get("loss_level", ""), e.get("loss_level", ""))
        return f"{e.get('incident_date', '')} {kind},损失程度:{level}"
    if w.rule == "EARNER_DEATH":
        return f"{e.get('death_date', '')} 去世,享年{e.get('age', '')}岁,家庭主要收入来源"
    kind = DISABILITY_LABELS.get(e.get("disability_kind", ""), "")
    return f"{e.get('issued_date', '')} 新办{kind}残疾{e.get('grade', '')}级"


KIND_LABELS = {
    "fire": "火灾",
    "flood": "洪涝",
    "typhoon": "台风",
    "earthquake": "地震",
    "production_safety": "安全生产事故",
    "other": "其他灾害事故",
}
LOSS_LABELS = {"minor": "轻微", "serious": "较重", "major": "重大", "catastrophic": "特别重大"}
DISABILITY_LABELS = {
    "visual": "视力",
    "hearing": "听力",
    "speech": "言语",
    "physical": "肢体",
    "intellectual": "智力",
    "psychiatric": "精神",
    "multiple": "多重",
}
CLAIM_TYPE_LABELS = {"inpatient": "住院", "outpatient": "门诊", "pharmacy": "药店购药"}
INJURY_LABELS = {"none": "未受伤", "minor": "轻伤", "serious": "重伤", "fatal": "死亡"}


# --------------------------------------------------------------------------- one warning


def warning_get(*, user: User, warning_id: int) -> Warning:
    w = _visible(user).select_related("town", "assignee").filter(pk=warning_id).first()
    if w is None:
        raise NotFound
    return w


@dataclass
class MemberLine:
    name: str
    relation: str
    age: int | None
    id_number: str
    phone: str
    status: str
    is_subject: bool


@dataclass
class AssistanceLine:
    programme: str
    member: str
    start_date: date
    end_date: date | None


HISTORY_ACTIONS = {
    "warning.assign": "派发核查",
    "warning.outcome": "登记核查结果",
    "warning.outcome_change": "修改核查结果",
    "warning.close": "办结",
}


@dataclass
class HistoryLine:
    at: datetime
    label: str
    actor: str


@dataclass
class WarningDetail:
    warning: Warning
    person_known: bool
    person_name: str
    person_id_number: str
    person_status: str
    household: Household | None
    members: list[MemberLine]
    assistance: list[AssistanceLine]
    monthly: list[dict[str, Any]]  # medical: month x claim type
    monthly_total: Decimal | None
    event_rows: list[dict[str, Any]]
    evidence_lines: list[tuple[str, str]]
    event_titles: list[str]
    event_values: list[list[Any]]
    overdue: bool
    can_assign: bool
    can_record: bool
    can_close: bool
    assignees: list[User]
    history: list[HistoryLine] = field(default_factory=list)


def _allowed(dataset: str, columns: list[str]) -> list[str]:
    """The columns, checked against the contract's fields for the warning purpose."""
    allowed = set(get_contract(dataset).purpose_fields(Purpose.WARNING))
    refused = [c for c in columns if c not in allowed]
    if refused:  # a programming error: the page must not read beyond the purpose
        raise PermissionError(f"{dataset}: {refused} not open for the warning purpose")
    return columns


def _lake_evidence(w: Warning, household_keys: set[int]) -> dict[str, Any]:
    """What the lake says now about the warning (DuckDB; a page never waits for Spark)."""
    out: dict[str, Any] = {"monthly": [], "events": [], "assistance": [], "members": set()}
    with open_lake("duckdb", threads=1, memory_limit="256MB") as lake:
        hukou = lake.table("hukou")
        if w.household_no:
            members = hukou.filter(hukou.household_no == w.household_no).select(
                *_allowed("hukou", ["person_key"])
            )
            out["members"] = {r["person_key"] for r in lake.to_rows(members)}
        keys = (out["members"] | household_keys | {w.person_key}) - {None}
        if RULES[w.rule].medical:
            claims = lake.table("medical_claims")
            _allowed("medical_claims", ["person_key", "settlement_date", "claim_type"])
            _allowed("medical_claims", ["out_of_pocket", "total_cost"])
            mine = claims.filter(
                claims.person_key == w.person_key,
                claims.settlement_date.between(date(w.year, 1, 1), date(w.year, 12, 31)),
            )
            grouped = mine.group_by(
                month=mine.settlement_date.month(), claim_type=mine.claim_type
            ).aggregate(
                out_of_pocket=mine.out_of_pocket.sum(),
                total_cost=mine.total_cost.sum(),
                claims=mine.count(),
            )
            out["monthly"] = sorted(
                lake.to_rows(grouped), key=lambda r: (r["month"], r["claim_type"])
            )
        elif RULES[w.rule].event_column:
            spec = RULES[w.rule]
            contract = get_contract(spec.driver)
            columns = _allowed(spec.driver, list(contract.purpose_fields(Purpose.WARNING)))
            table = lake.table(spec.driver)
            rows = table.filter(table.person_key == w.person_key).select(*columns)
            if w.rule != "NEW_SEVERE_DISABILITY":  # certificates: the person's whole history
                rows = rows.filter(rows[spec.event_column] == w.event_ref)
            out["events"] = [
                {k: v for k, v in r.items() if k != "person_key"} for r in lake.to_rows(rows)
            ]
        else:  # EARNER_DEATH: the death record
            deaths = lake.table("deaths")
            rows = deaths.filter(deaths.person_key == w.person_key).select(
                *_allowed("deaths", ["death_date", "reported_at"])
            )
            out["events"] = lake.to_rows(rows)
        if keys:
            recipients = lake.table("assistance_recipients")
            _allowed(
                "assistance_recipients", ["person_key", "program_code", "start_date", "end_date"]
            )
            today = timezone.localdate()
            current = recipients.filter(
                recipients.person_key.isin(sorted(keys)),
                recipients.start_date <= today,
                recipients.end_date.isnull() | (recipients.end_date >= today),
            ).select("person_key", "program_code", "start_date", "end_date")
            out["assistance"] = lake.to_rows(current)
    return out


def _evidence_lines(w: Warning) -> list[tuple[str, str]]:
    e = w.evidence or {}
    labels = {
        "out_of_pocket": "年度个人自负合计(元)",
        "threshold": (
            "因病返贫阈值(元/年)"
            if w.rule == "MED_RETURN"
            else f"{w.year - 1}年全市居民人均可支配收入(元)"
        ),
        "claims": "结算笔数",
        "programmes": "持有的救助身份",
        "insurance_type": "参保险种",
        "accident_date": "事故日期",
        "injury": "伤情",
        "incident_date": "发生日期",
        "kind": "类型",
        "loss_level": "损失程度",
        "loss_amount": "损失金额(元)",
        "death_date": "死亡日期",
        "age": "去世时年龄",
        "wages_12_months": "去世前12个月缴费工资(元)",
        "household_wages_12_months": "同期家庭缴费工资合计(元)",
        "remaining_members": "在户其他成员(人)",
        "issued_date": "发证日期",
        "grade": "残疾等级",
        "disability_kind": "残疾类别",
    }
    values = {
        "injury": INJURY_LABELS,
        "kind": KIND_LABELS,
        "loss_level": LOSS_LABELS,
        "disability_kind": DISABILITY_LABELS,
        "insurance_type": {"employee": "职工医保", "resident": "居民医保"},
    }
    lines = []
    for k, v in e.items():
        if k == "programmes":
            text = "、".join(programme_label(p) for p in v) or "—"
        elif v is None or v == "":
            text = "—"
        else:
            text = str(values.get(k, {}).get(v, v))
        lines.append((labels.get(k, k), text))
    return lines


EVENT_VALUE_LABELS = {
    "injury": INJURY_LABELS,
    "kind": KIND_LABELS,
    "loss_level": LOSS_LABELS,
    "disability_kind": DISABILITY_LABELS,
    "status": {"valid": "有效", "revoked": "已注销"},
}


def _event_titles(w: Warning, rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    spec = RULES[w.rule]
    contract = get_contract(spec.driver if spec.event_column else "deaths")
    titles = {f.lake_name: f.title for f in contract.fields}
    return [titles.get(k, k) for k in rows[0]]


def _event_value(column: str, value: Any) -> Any:
    if value is None:
        return "—"
    return EVENT_VALUE_LABELS.get(column, {}).get(value, value)


def warning_detail(*, user: User, warning_id: int) -> WarningDetail:
    """The warning with its evidence, the household's members and current assistance.
    Audited (purpose 预警核查), the household read as well."""
    w = warning_get(user=user, warning_id=warning_id)
    person = Person.objects.filter(person_key=w.person_key).select_related("hukou_division").first()
    household = (
        Household.objects.filter(household_no=w.household_no).select_related("division").first()
        if w.household_no
        else None
    )
    memberships = (
        list(
            Membership.objects.filter(household=household, end_date__isnull=True)
            .select_related("person")
            .order_by("start_date", "pk")
        )
        if household
        else []
    )
    today = timezone.localdate()
    members = [
        MemberLine(
            name=m.person.name,
            relation=m.get_relation_display(),
            age=age_on(m.person.birth_date, m.person.death_date or today),
            id_number=display_id_number(user, m.person),
            phone=display_phone(user, m.person),
            status=m.person.get_status_display(),
            is_subject=m.person.person_key == w.person_key,
        )
        for m in memberships
    ]
    members.sort(key=lambda m: (m.relation != "户主", -(m.age or 0)))
    lake = _lake_evidence(w, {m.person.person_key for m in memberships})
    names = {m.person.person_key: m.person.name for m in memberships}
    if person is not None:
        names[person.person_key] = person.name
    assistance = [
        AssistanceLine(
            programme=programme_label(r["program_code"]),
            member=names.get(r["person_key"], UNKNOWN_PERSON),
            start_date=r["start_date"],
            end_date=r["end_date"],
        )
        for r in sorted(lake["assistance"], key=lambda r: (r["program_code"], r["start_date"]))
    ]
    monthly = [
        {
            "month": f"{w.year}-{r['month']:02d}",
            "claim_type": CLAIM_TYPE_LABELS.get(r["claim_type"], r["claim_type"]),
            "claims": r["claims"],
            "total_cost": r["total_cost"],
            "out_of_pocket": r["out_of_pocket"],
        }
        for r in lake["monthly"]
    ]
    total = sum((r["out_of_pocket"] for r in monthly), Decimal(0)) if monthly else None
    in_scope = user.role in ASSIGNER_ROLES
    detail = WarningDetail(
        warning=w,
        person_known=person is not None,
        person_name=person.name if person else UNKNOWN_PERSON,
        person_id_number=display_id_number(user, person) if person else "",
        person_status=person.get_status_display() if person else "",
        household=household,
        members=members,
        assistance=assistance,
        monthly=monthly,
        monthly_total=total,
        event_rows=lake["events"],
        evidence_lines=_evidence_lines(w),
        event_titles=_event_titles(w, lake["events"]),
        event_values=[[_event_value(k, v) for k, v in r.items()] for r in lake["events"]],
        overdue=is_overdue(w),
        can_assign=in_scope and w.status in OPEN_STATUSES,
        can_record=(w.assignee_id == user.pk or in_scope)
        and w.status in (Status.ASSIGNED, Status.INVESTIGATED),
        can_close=in_scope and w.status == Status.INVESTIGATED,
        assignees=assignable_users(user=user, warning=w) if in_scope else [],
        history=[
            HistoryLine(at=e.at, label=HISTORY_ACTIONS[e.action], actor=e.actor_label.split(":")[0])
            for e in AuditEvent.objects.filter(
                object_type="warning", object_id=str(w.pk), action__in=list(HISTORY_ACTIONS)
            ).order_by("id")
        ],
    )
    audit_record(
        actor=user,
        action="warning.view",
        object_type="warning",
        object_id=w.pk,
        purpose=Purpose.WARNING,
        detail={"rule": w.rule, "person_known": person is not None},
    )
    if household is not None:
        audit_record(
            actor=user,
            action="household.view",
            object_type="household",
            object_id=household.pk,
            purpose=Purpose.WARNING,
            detail={"persons": [m.person_id for m in memberships], "via": f"warning:{w.pk}"},
        )
    return detail


def assignable_users(*, user: User, warning: Warning) -> list[User]:
    require_role(user, ASSIGNER_ROLES)
    town = warning.town_id or warning.division_code[:9]
    if not town:
        return []
    candidates = User.objects.filter(
        is_active=True, role__in=ASSIGNEE_ROLES, scope__code__startswith=town
    ).select_related("scope")
    return [u for u in candidates.order_by("role", "username")[:200] if can_be_assignee(u, warning)]


# --------------------------------------------------------------------------- statistics


@dataclass
class StatRow:
    key: str
    label: str
    pushed: int = 0
    assigned: int = 0
    investigated: int = 0
    helped: int = 0
    covered: int = 0
    overdue: int = 0
    withdrawn: int = 0

    @property
    def precision(self) -> float | None:
        """Share of investigated warnings that led to an application or were already in
        hardship (covered)."""
        if not self.investigated:
            return None
        return (self.helped + self.covered) / self.investigated


@dataclass
class Stats:
    year: int | None
    by_rule: list[StatRow]
    by_town: list[StatRow]
    by_month: list[StatRow]
    by_month_rule: dict[str, dict[str, int]]
    total: StatRow
    outcomes: dict[str, int]
    last_scans: list[ScanRun]


def _was_overdue(w: dict[str, Any], today: date) -> bool:
    if w["status"] == Status.WITHDRAWN:
        return False
    if w["investigated_at"] is not None:
        return timezone.localdate(w["investigated_at"]) > w["due_date"]
    return w["due_date"] < today


def warning_stats(*, user: User, year: int | None = None, rule: str = "") -> Stats:
    """Per rule, town and month (of pushing): pushed, assigned, investigated, helped to apply,
    overdue (investigated late or still open past the deadline), withdrawn; precision per
    rule. Aggregates only: no personal data."""
    qs = _visible(user)
    if year:
        qs = qs.filter(year=year)
    if rule in RULES:
        qs = qs.filter(rule=rule)
    towns = dict(Division.objects.filter(level=DivisionLevel.TOWN).values_list("code", "name"))
    by_rule = {code: StatRow(code, RULES[code].label) for code in RULE_CODES}
    by_town: dict[str, StatRow] = {}
    by_month: dict[str, StatRow] = {}
    by_month_rule: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RULE_CODES, 0))
    total = StatRow("total", "合计")
    outcomes = dict.fromkeys(Outcome.values, 0)
    today = timezone.localdate()
    fields = ("rule", "status", "town_id", "pushed_at", "assigned_at", "investigated_at")
    for w in qs.values(*fields, "due_date", "outcome").iterator(chunk_size=5000):
        month = timezone.localtime(w["pushed_at"]).strftime("%Y-%m")
        town = w["town_id"] or ""
        rows = [
            by_rule[w["rule"]],
            by_town.setdefault(town, StatRow(town, towns.get(town, "(未能分派)"))),
            by_month.setdefault(month, StatRow(month, month)),
            total,
        ]
        if w["status"] == Status.WITHDRAWN:
            for r in rows:
                r.withdrawn += 1
            continue
        by_month_rule[month][w["rule"]] += 1
        overdue = _was_overdue(w, today)
        if w["outcome"]:
            outcomes[w["outcome"]] += 1
        for r in rows:
            r.pushed += 1
            r.assigned += w["assigned_at"] is not None
            r.investigated += bool(w["outcome"])
            r.helped += w["outcome"] == Outcome.HELPED_TO_APPLY
            r.covered += w["outcome"] == Outcome.ALREADY_COVERED
            r.overdue += overdue
    return Stats(
        year=year,
        by_rule=list(by_rule.values()),
        by_town=sorted(by_town.values(), key=lambda r: r.key or "9"),
        by_month=sorted(by_month.values(), key=lambda r: r.key),
        by_month_rule=dict(sorted(by_month_rule.items())),
        total=total,
        outcomes=outcomes,
        last_scans=list(ScanRun.objects.order_by("-id")[:10]),
    )
