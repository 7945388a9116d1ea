"""Reads of applications and cases, always scoped to the acting user (``cases.access``);
reads of a person's case are audited with their purpose."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dajiuzhu.cases import workflow
from dajiuzhu.cases.access import (
    DECIDE_ROLES,
    EXTEND_ROLES,
    INVESTIGATE_ROLES,
    REVIEW_ROLES,
    access_application_by_no,
    access_case_by_id,
    cases_visible,
)
from dajiuzhu.cases.models import (
    OPEN_STATUSES,
    Application,
    Case,
    CaseStatus,
    MissingDocument,
    StepRecord,
)
from dajiuzhu.core.access import division_in_scope, is_staff_user, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.idnumber import mask_id_number
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.models import Person
from dajiuzhu.registry.selectors import age_on, display_id_number

QUEUE_STATUSES = {
    "open": "办理中",
    **{s.value: s.label for s in CaseStatus},
    "overdue": "已逾期",
}


def programme_name(code: str) -> str:
    try:
        return catalogue.programme(code).name
    except KeyError:
        return code


def _late_step_q(today: date) -> Q:
    late = StepRecord.objects.filter(case=OuterRef("pk"), done_at__isnull=True, due_on__lt=today)
    return Q(Exists(late)) | Q(due_on__lt=today)


@dataclass
class QueueRow:
    case: Case
    programme: str
    applicant: str
    overdue: bool


def case_queue(
    *, user: User, status: str = "open", programme: str = "", limit: int = 100
) -> tuple[list[QueueRow], int]:
    """The staff queue of the user's jurisdiction: overdue and escalated cases first."""
    cases = cases_visible(user)
    if not is_staff_user(user):
        return [], 0
    today = timezone.localdate()
    if status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status == "overdue":
        cases = cases.filter(status__in=OPEN_STATUSES).filter(_late_step_q(today))
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    if programme:
        cases = cases.filter(programme=programme)
    late = StepRecord.objects.filter(case=OuterRef("pk"), done_at__isnull=True, due_on__lt=today)
    cases = cases.annotate(late=Exists(late)).select_related(
        "application", "application__applicant", "town"
    )
    total = cases.count()
    rows = [
        QueueRow(
            case=c,
            programme=programme_name(c.programme),
            applicant=_masked_name(c.application.applicant.name),
            overdue=c.is_open and (c.late or c.due_on < today),
        )
        for c in cases.order_by("-escalated", "due_on", "pk")[:limit]
    ]
    rows.sort(key=lambda r: (not r.case.escalated, not r.overdue))
    return rows, total


def _masked_name(name: str) -> str:
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


@dataclass
class StepView:
    step: str
    label: str
    round: int
    started_on: date | None
    due_on: date | None
    done_at: datetime | None
    outcome: str
    done_by: str
    overdue: bool
    detail: dict = field(default_factory=dict)


@dataclass
class CaseView:
    case: Case
    application: Application
    programme: catalogue.Programme
    steps: list[StepView]
    members: list[dict]
    applicant_id: str
    missing: list[MissingDocument]
    objections: list
    report: object
    overdue: bool
    can: dict
    workers: list[User]
    siblings: list[tuple[Case, str]]


def _steps(case: Case, today: date) -> list[StepView]:
    return [
        StepView(
            step=s.step,
            label=workflow.STEP_LABELS.get(s.step, s.step),
            round=s.round,
            started_on=s.started_on,
            due_on=s.due_on,
            done_at=s.done_at,
            outcome=s.outcome,
            done_by=str(s.done_by) if s.done_by_id else "",
            overdue=s.done_at is None and s.due_on is not None and s.due_on < today,
            detail=s.detail,
        )
        for s in case.steps.select_related("done_by").order_by("order", "round", "pk")
    ]


def _actions(user: User, case: Case) -> dict:
    def handler(roles) -> bool:
        return (
            is_staff_user(user)
            and user.role in roles
            and division_in_scope(user, case.town_id)
            and user.pk not in (case.related_staff or [])
        )

    district = user.scope is not None and user.scope.level in ("district", "city")
    visit_pending = case.steps.filter(step="district_visit", done_at__isnull=True).exists()
    return {
        "investigate": case.status == CaseStatus.ACCEPTED and handler(INVESTIGATE_ROLES),
        "district_visit": visit_pending and district and handler({Role.CASEWORKER, Role.APPROVER}),
        "review": case.status == CaseStatus.TOWN_REVIEW and handler(REVIEW_ROLES),
        "publicity": case.status == CaseStatus.PUBLICITY and handler(REVIEW_ROLES),
        "decide": case.status == CaseStatus.DECIDING and handler(DECIDE_ROLES),
        "extend": case.is_open and not case.extended and handler(EXTEND_ROLES),
        "advance": case.is_open
        and not case.advance_paid_on
        and bool(catalogue.programme(case.programme).intake.advance_payment)
        and handler(EXTEND_ROLES),
        "recused": user.pk in (case.related_staff or []),
    }


def case_detail(*, user: User, case_id: int) -> CaseView:
    """A case's page for staff: steps with due dates, the household, the check. Audited."""
    case = access_case_by_id(user, case_id)
    case = (
        Case.objects.select_related(
            "application",
            "application__applicant",
            "application__town",
            "application__accepted_division",
            "application__verification_report",
            "decided_by",
            "department",
        )
        .filter(pk=case.pk)
        .get()
    )
    app = case.application
    today = timezone.localdate()
    members = []
    from dajiuzhu.cases.services import _members

    signed = set(app.authorisations.values_list("person_id", flat=True))
    for p in _members(app.household_id):
        members.append(
            {
                "name": p.name,
                "age": age_on(p.birth_date, today),
                "id_number": display_id_number(user, p),
                "signed": p.pk in signed,
                "is_applicant": p.pk == app.applicant_id,
            }
        )
    audit_record(
        actor=user,
        action="case.view",
        object_type="case",
        object_id=case.pk,
        purpose=Purpose.CASEWORK,
    )
    steps = _steps(case, today)
    workers = list(
        User.objects.filter(
            is_active=True,
            role__in=[Role.GRID_WORKER, Role.CASEWORKER, Role.WINDOW_CLERK],
            scope__code__startswith=case.town_id,
        )
        .exclude(pk=user.pk)
        .order_by("role", "username")[:50]
    )
    return CaseView(
        case=case,
        application=app,
        programme=catalogue.programme(case.programme),
        steps=steps,
        members=members,
        applicant_id=display_id_number(user, app.applicant),
        missing=list(app.missing_documents.all()),
        objections=list(case.objections.select_related("recorded_by")),
        report=app.verification_report,
        overdue=case.is_open and (case.due_on < today or any(s.overdue for s in steps)),
        can=_actions(user, case),
        workers=workers,
        siblings=[(s, programme_name(s.programme)) for s in app.cases.exclude(pk=case.pk)],
    )


@dataclass
class StatusView:
    application: Application
    cases: list[tuple[Case, str, list[StepView]]]
    missing: list[MissingDocument]
    applicant_masked_id: str


def application_status(*, user: User, application_no: str) -> StatusView:
    """The resident's status page: every step with its date, due date and outcome."""
    app = access_application_by_no(user, application_no)
    today = timezone.localdate()
    cases = [(c, programme_name(c.programme), _steps(c, today)) for c in app.cases.order_by("pk")]
    from dajiuzhu.core import crypto

    number = crypto.decrypt(app.applicant.id_number_enc, field="person.id_number")
    audit_record(
        actor=user,
        action="case.status_view",
        object_type="application",
        object_id=app.pk,
        purpose=Purpose.SELF if user.role == Role.RESIDENT else Purpose.CASEWORK,
    )
    return StatusView(
        application=app,
        cases=cases,
        missing=list(app.missing_documents.all()),
        applicant_masked_id=mask_id_number(number),
    )


def my_applications(*, user: User) -> QuerySet[Application]:
    require_role(user, {Role.RESIDENT})
    from dajiuzhu.cases.access import applications_visible

    return applications_visible(user).order_by("-submitted_at")


def resident_person(*, user: User) -> Person | None:
    """The registry's person whose phone is the resident's log-in phone."""
    if not user.is_authenticated or user.role != Role.RESIDENT or not user.phone_index:
        return None
    return Person.objects.filter(phone_index=user.phone_index).first()


@dataclass
class PublicNotice:
    masked_name: str
    household_size: int
    programme: str
    amount: object
    community: str
    until: date | None


def publicity_list(*, town_code: str = "") -> list[PublicNotice]:
    """The public 公示 page: masked name (surname + *), household size and proposed amount —
    nothing else. Cases of minors are not posted (they skip 公示 altogether)."""
    from dajiuzhu.registry.models import Membership

    cases = Case.objects.filter(status=CaseStatus.PUBLICITY).select_related(
        "application__applicant", "application__household__division"
    )
    if town_code:
        cases = cases.filter(town_id=town_code)
    out = []
    for c in cases.order_by("town_id", "pk")[:500]:
        applicant = c.application.applicant
        size = Membership.objects.filter(household_id=c.household_id, end_date__isnull=True).count()
        step = c.steps.filter(step="publicity", done_at__isnull=True).first()
        out.append(
            PublicNotice(
                masked_name=applicant.name[:1] + "*",
                household_size=size,
                programme=programme_name(c.programme),
                amount=c.proposed_amount,
                community=c.application.household.division.name,
                until=step.due_on if step else None,
            )
        )
    return out


EXPORT_HEADER = (
    "application_no",
    "programme",
    "applicant_id_number",
    "town_code",
    "channel",
    "status",
    "accepted_on",
    "due_on",
    "decided_on",
    "amount",
)


def export_rows():
    """Every case for the administrators' CSV (the caller is checked and audits)."""
    from dajiuzhu.core import crypto

    for c in (
        Case.objects.select_related("application", "application__applicant")
        .order_by("application__application_no", "programme")
        .iterator(chunk_size=500)
    ):
        number = crypto.decrypt(c.application.applicant.id_number_enc, field="person.id_number")
        first_due = workflow.whole_case_due(catalogue.programme(c.programme), c.accepted_on)
        yield (
            c.application.application_no,
            c.programme,
            number,
            c.town_id,
            c.application.channel,
            c.status,
            c.accepted_on.isoformat(),
            first_due.isoformat(),
            c.decided_on.isoformat() if c.decided_on else "",
            f"{c.amount:.2f}" if c.amount is not None else "",
        )


@dataclass
class IntakeMember:
    person_id: int
    name: str
    relation: str
    age: int
    adult: bool
    id_number: str  # masked
    has_phone: bool


@dataclass
class IntakeHousehold:
    applicant: Person
    household_no: str
    members: list[IntakeMember]
    open_cases: dict[str, str]  # programme -> application no


def intake_household(*, user: User, person: Person) -> IntakeHousehold:
    """The applicant's household as the registry has it (prefill of the intake form), for a
    window of any district (全城办) or the resident themself. Audited."""
    from dajiuzhu.registry.models import Membership

    if is_staff_user(user):
        from dajiuzhu.cases.access import INTAKE_ROLES

        require_role(user, INTAKE_ROLES)
    elif resident_person(user=user) != person:
        from dajiuzhu.core.access import NotFound

        raise NotFound
    membership = Membership.objects.filter(person=person, end_date__isnull=True).first()
    from dajiuzhu.core.services import ServiceError

    if membership is None:
        raise ServiceError(
            "case.no_household",
            "人员库中申请人没有所在家庭户,请先到窗口核实户籍",
            field="id_number",
        )
    today = timezone.localdate()
    from dajiuzhu.core import crypto

    members = []
    for m in (
        Membership.objects.filter(
            household_id=membership.household_id, end_date__isnull=True, person__status="normal"
        )
        .select_related("person")
        .order_by("start_date", "pk")
    ):
        p = m.person
        age = age_on(p.birth_date, today)
        number = crypto.decrypt(p.id_number_enc, field="person.id_number")
        members.append(
            IntakeMember(
                person_id=p.pk,
                name=p.name,
                relation=m.get_relation_display(),
                age=age,
                adult=age >= 18,
                id_number=mask_id_number(number),
                has_phone=bool(p.phone_enc),
            )
        )
    open_cases = {
        c.programme: c.application.application_no
        for c in Case.objects.filter(
            household_id=membership.household_id, status__in=OPEN_STATUSES
        ).select_related("application")
    }
    audit_record(
        actor=user,
        action="case.intake_lookup",
        object_type="household",
        object_id=membership.household_id,
        purpose=Purpose.CASEWORK if is_staff_user(user) else Purpose.SELF,
    )
    return IntakeHousehold(
        applicant=person,
        household_no=membership.household.household_no,
        members=members,
        open_cases=open_cases,
    )


def programme_groups() -> list[tuple[str, list[catalogue.Programme]]]:
    groups: dict[str, list[catalogue.Programme]] = {}
    for p in catalogue.load_catalogue():
        groups.setdefault(p.category, []).append(p)
    return list(groups.items())


def warning_person(warning) -> Person | None:
    """The registry's person a warning is about (the lake's person_key)."""
    return Person.objects.filter(person_key=warning.person_key).first()


def candidate_person(candidate) -> Person | None:
    """The registry's person a 政策找人 candidate is about: the member of a person-level
    programme (特困, 单人保), else the household's head (or its first living member)."""
    from dajiuzhu.registry.models import Membership

    if candidate.person_key:
        return Person.objects.filter(person_key=candidate.person_key, status="normal").first()
    members = (
        Membership.objects.filter(
            household__household_no=candidate.household_no,
            end_date__isnull=True,
            person__status="normal",
        )
        .select_related("person")
        .order_by("start_date", "pk")
    )
    heads = [m.person for m in members if m.relation == "head"]
    return heads[0] if heads else next((m.person for m in members), None)


def id_number_for_intake(household: IntakeHousehold) -> str:
    from dajiuzhu.core import crypto

    return crypto.decrypt(household.applicant.id_number_enc, field="person.id_number")
