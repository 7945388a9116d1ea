"""Writes of unified intake and the case workflow. One function per action, keyword-only,
atomic, audited; each fetches the case with the acting user's scope and locks it
(``access_case_by_id``). Steps and limits come from the programme catalogue and the dated
handling parameters (``cases.workflow``)."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dajiuzhu.cases import documents, workflow
from dajiuzhu.cases.access import (
    DECIDE_ROLES,
    EXTEND_ROLES,
    INTAKE_ROLES,
    INVESTIGATE_ROLES,
    REVIEW_ROLES,
    access_application_by_no,
    access_case_by_id,
    require_handler,
)
from dajiuzhu.cases.models import (
    OPEN_STATUSES,
    Application,
    AuthMethod,
    Case,
    CaseStatus,
    Channel,
    Document,
    MemberAuthorisation,
    MissingDocument,
    Objection,
    SigningCode,
    StaffRelative,
    StepRecord,
)
from dajiuzhu.core import crypto, sms
from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user
from dajiuzhu.core.audit import audit_gathered, audit_record
from dajiuzhu.core.idnumber import InvalidIdNumber, parse_id_number
from dajiuzhu.core.models import ApiToken, Department, Division, DivisionLevel, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.models import Membership, Person, PersonStatus
from dajiuzhu.registry.selectors import age_on

MAX_TEXT = 2000
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
AUTHORISATION_VALIDITY_DAYS = 365


class DuplicateOpenCase(ServiceError):
    """A second open application for the same household and programme."""

    def __init__(self, *, programme_name: str, application_no: str) -> None:
        super().__init__(
            "case.duplicate_open",
            f"该家庭已有未办结的{programme_name}申请(申请编号{application_no}),"
            "请查看该申请的办理进度,不能重复申请",
            field="programmes",
        )
        self.application_no = application_no


@dataclass
class Upload:
    name: str
    data: bytes


def _text(value: str, *, field: str, label: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(f"case.{field}_required", f"请填写{label}", field=field)
    if len(value) > MAX_TEXT:
        raise ServiceError(f"case.{field}_too_long", f"{label}不能超过{MAX_TEXT}字", field=field)
    return value


def _audit(actor: User | None, action: str, obj: Case | Application, detail: dict, label=None):
    kind = "case" if isinstance(obj, Case) else "application"
    audit_record(
        actor=actor,
        action=action,
        object_type=kind,
        object_id=obj.pk,
        purpose=Purpose.CASEWORK,
        detail=detail,
        label=label,
    )


def _today() -> date:
    return timezone.localdate()


def _members(household_id: int) -> list[Person]:
    """The living members of the household (a deceased or moved-out member signs nothing)."""
    return [
        m.person
        for m in Membership.objects.filter(
            household_id=household_id, end_date__isnull=True, person__status=PersonStatus.NORMAL
        )
        .select_related("person")
        .order_by("start_date", "pk")
    ]


def _adults(members: list[Person], on: date) -> list[Person]:
    return [p for p in members if age_on(p.birth_date, on) >= 18]


# --- signing the authorisation on the phone ------------------------------------------------


def _code_hash(person_id: int, code: str) -> str:
    return hmac.new(crypto.index_key(), f"sign:{person_id}:{code}".encode(), "sha256").hexdigest()


def _member_of_callers_household(actor: User | None, person: Person) -> None:
    """A resident may have codes sent only to members of their own household."""
    if actor is None or is_staff_user(actor):
        return
    own = Person.objects.filter(phone_index=actor.phone_index).values_list("pk", flat=True)
    households = Membership.objects.filter(person_id__in=list(own), end_date__isnull=True)
    if not Membership.objects.filter(
        household_id__in=households.values("household_id"), person=person, end_date__isnull=True
    ).exists():
        raise NotFound


@transaction.atomic
def signing_code_send(*, actor: User | None, person_id: int) -> None:
    """Send a one-time code to a member's phone, to sign the check authorisation and the
    告知承诺 (the member reads the code out or types it on the applicant's phone)."""
    if actor is not None and not is_staff_user(actor) and actor.role != Role.RESIDENT:
        raise AccessDenied
    if actor is not None and is_staff_user(actor) and actor.role not in INTAKE_ROLES:
        raise AccessDenied
    person = Person.objects.filter(pk=person_id, status=PersonStatus.NORMAL).first()
    if person is None:
        raise NotFound
    _member_of_callers_household(actor, person)
    if not person.phone_enc:
        raise ServiceError(
            "case.no_phone",
            f"人员库中没有{person.name}的手机号码,请到窗口签署纸质授权书",
            field="authorisations",
        )
    now = timezone.now()
    recent = SigningCode.objects.filter(person=person, created_at__gte=now - timedelta(hours=1))
    if recent.count() >= settings.OTP_MAX_SENDS_PER_HOUR:
        raise ServiceError("case.code_rate_limited", "验证码发送过于频繁,请一小时后再试")
    code = f"{secrets.randbelow(10**6):06d}"
    SigningCode.objects.create(
        person=person,
        code_hash=_code_hash(person.pk, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    phone = crypto.decrypt(person.phone_enc, field="person.phone")
    text = (
        f"【常州大救助】您的家人正在为您家申请社会救助。验证码{code}即表示您签署"
        "家庭经济状况核对授权书和告知承诺书,10分钟内有效。如非本人同意,请勿告知他人。"
    )
    audit_record(
        actor=actor,
        action="case.signing_code",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CASEWORK,
    )
    transaction.on_commit(lambda: sms.get_backend().send(sms.SmsMessage(phone=phone, text=text)))


def _check_code(person: Person, code: str) -> bool:
    now = timezone.now()
    challenge = (
        SigningCode.objects.select_for_update()
        .filter(person=person, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if challenge is None or challenge.attempts >= CODE_MAX_ATTEMPTS:
        return False
    if not hmac.compare_digest(challenge.code_hash, _code_hash(person.pk, (code or "").strip())):
        SigningCode.objects.filter(pk=challenge.pk).update(attempts=challenge.attempts + 1)
        return False
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    return True


# --- submission -------------------------------------------------------------------------------


def applicant_for_id_number(id_number: str) -> Person:
    """The registry person of an ID number (a clear error when invalid or unknown)."""
    return _applicant(id_number)


def _applicant(id_number: str) -> Person:
    try:
        parsed = parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    person = (
        Person.objects.select_related("hukou_division")
        .filter(id_index=crypto.id_index(parsed.number))
        .first()
    )
    if person is None:
        raise ServiceError(
            "case.applicant_unknown",
            "人员库中没有该身份证号码的户籍登记,请核对号码,或到户籍地派出所核实户籍信息",
            field="id_number",
        )
    if person.status != PersonStatus.NORMAL:
        raise ServiceError(
            "case.applicant_status",
            "该身份证号码对应人员的户籍状态不正常,不能申请",
            field="id_number",
        )
    return person


def _programmes(codes: list[str]) -> list[catalogue.Programme]:
    codes = list(dict.fromkeys(c for c in (codes or []) if c))
    if not codes:
        raise ServiceError("case.programmes_required", "请至少选择一项救助", field="programmes")
    out = []
    for code in codes:
        try:
            out.append(catalogue.programme(code))
        except KeyError:
            raise ServiceError(
                "case.programme_unknown", f"没有这项救助:{code}", field="programmes"
            ) from None
    return out


def _town_of(person: Person) -> Division:
    town = Division.objects.filter(
        code=person.hukou_division_id[:9], level=DivisionLevel.TOWN
    ).first()
    if town is None:
        raise ServiceError("case.no_town", "无法确定申请人户籍所在镇(街道),请核实户籍信息")
    return town


def _window(actor: User | None, channel: str, town: Division) -> Division:
    if channel != Channel.WINDOW:
        return town
    if actor is None or not is_staff_user(actor) or actor.scope is None:
        raise ServiceError("case.channel", "窗口受理须由窗口工作人员录入", field="channel")
    return actor.scope


def _declared(changes: list[dict] | None, members: dict[int, Person]) -> list[dict]:
    out = []
    for change in changes or []:
        kind = change.get("kind")
        reason = _text(change.get("reason", ""), field="changes", label="成员变化的理由")
        if kind == "absent":
            pid = change.get("person_id")
            if pid not in members:
                raise ServiceError(
                    "case.member_not_in_household",
                    "申报不在本户居住的人员不是该户的家庭成员",
                    field="changes",
                )
            out.append({"kind": "absent", "person_id": pid, "reason": reason})
        elif kind == "new":
            name = _text(change.get("name", ""), field="changes", label="新增成员姓名")[:50]
            out.append({"kind": "new", "name": name, "reason": reason})
        else:
            raise ServiceError("case.change_kind", "成员变化只能是“不在本户居住”或“新增成员”")
    return out


def _signatures(
    *,
    adults: list[Person],
    members: dict[int, Person],
    otp_codes: dict[int, str],
    paper: dict[int, Upload],
) -> dict[int, tuple[str, Upload | None]]:
    for pid in [*otp_codes, *paper]:
        if pid not in members:
            raise ServiceError(
                "case.member_not_in_household",
                "授权人不是申请家庭的成员,请核对家庭成员",
                field="authorisations",
            )
    signed: dict[int, tuple[str, Upload | None]] = {}
    wrong = []
    for person in adults:
        if person.pk in paper:
            documents.sniff(paper[person.pk].data)
            signed[person.pk] = (AuthMethod.PAPER, paper[person.pk])
        elif otp_codes.get(person.pk):
            if _check_code(person, otp_codes[person.pk]):
                signed[person.pk] = (AuthMethod.OTP, None)
            else:
                wrong.append(person.name)
    if wrong:
        raise ServiceError(
            "case.authorisation_code",
            f"以下成员的验证码不正确或已失效,请重新获取:{'、'.join(wrong)}",
            field="authorisations",
        )
    lacking = [p.name for p in adults if p.pk not in signed]
    if lacking:
        raise ServiceError(
            "case.authorisation_missing",
            "以下成年家庭成员尚未签署家庭经济状况核对授权书:"
            f"{'、'.join(lacking)}(可用各自手机验证码签署,或上传签字的纸质授权书扫描件)",
            field="authorisations",
        )
    return signed


def _store(application: Application, upload: Upload, kind: str, actor: User | None) -> Document:
    content_type = documents.sniff(upload.data)
    return Document.objects.create(
        application=application,
        kind=kind,
        name=documents.clean_name(upload.name),
        content_type=content_type,
        size=len(upload.data),
        sha256=documents.digest(upload.data),
        data=upload.data,
        uploaded_by=actor if actor is not None and actor.pk else None,
    )


def _proposed_amount(report, programme: catalogue.Programme, applicant: Person) -> Decimal | None:
    """The monthly amount the rules compute for the programme (from the attached check)."""
    if report is None:
        return None
    codes = {r.code: r.entity for r in programme.results if r.amount}
    for result in report.report.get("explanation", {}).get("programmes", []):
        entity = codes.get(result.get("programme"))
        if entity is None or not result.get("eligible") or result.get("amount") is None:
            continue
        if entity == "person" and result.get("subject") != str(applicant.pk):
            continue
        return Decimal(str(result["amount"])).quantize(Decimal("0.01"))
    return None


def _relatives(members: list[Person]) -> list[int]:
    return sorted(
        set(StaffRelative.objects.filter(person__in=members).values_list("staff_id", flat=True))
    )


def _open_case(household_id: int, programme: catalogue.Programme) -> None:
    case = (
        Case.objects.filter(household_id=household_id, programme=programme.code)
        .filter(status__in=OPEN_STATUSES)
        .select_related("application")
        .first()
    )
    if case is not None:
        raise DuplicateOpenCase(
            programme_name=programme.name, application_no=case.application.application_no
        )


def _create_case(
    *,
    application: Application,
    programme: catalogue.Programme,
    applicant: Person,
    report,
    related: list[int],
    accepted_on: date,
) -> Case:
    intake = programme.intake
    due = workflow.whole_case_due(programme, accepted_on)
    status = CaseStatus.ACCEPTED if intake.workflow == "statutory" else CaseStatus.DECIDING
    case = Case.objects.create(
        application=application,
        household_id=application.household_id,
        programme=programme.code,
        department=Department.objects.get(code=intake.decided_by.department),
        decision_level=intake.decided_by.level,
        workflow=intake.workflow,
        town=application.town,
        status=status,
        accepted_on=accepted_on,
        due_on=due,
        proposed_amount=_proposed_amount(report, programme, applicant),
        relative_flag=bool(related),
        related_staff=related,
    )
    now = timezone.now()
    for order, s in enumerate(intake.steps):
        record = StepRecord(case=case, step=s.step, order=order * 10)
        if s.step == "accept":
            record.started_on = accepted_on
            record.done_at = now
            record.done_by = application.submitted_by
            record.outcome = f"已受理({application.get_channel_display()})"
        elif _starts_at_acceptance(s, intake.workflow):
            record.started_on = accepted_on
            record.due_on = workflow.step_due(programme, s.step, accepted_on, due)
        if s.step == "check" and report is not None:
            record.done_at = now
            record.outcome = "已完成前置核对,核对报告附卷" + (
                "" if report.complete else "(部分数据缺失)"
            )
            record.detail = {"report": report.pk}
        record.save()
    if related:
        StepRecord.objects.create(
            case=case,
            step="district_visit",
            order=15,
            started_on=accepted_on,
            due_on=workflow.step_due(programme, "investigate", accepted_on, due),
            outcome="",
            detail={"reason": "申请家庭成员为工作人员备案近亲属,须区级入户核查"},
        )
    return case


def _starts_at_acceptance(s: catalogue.Step, workflow_kind: str) -> bool:
    """Steps counted from acceptance, bounded only by the whole case, or (in the short
    workflow) the decision itself start when the application is accepted."""
    if s.counted_from == "accept":
        return True
    if s.limit is None and s.step != "decide":
        return True
    return workflow_kind == "short" and s.step == "decide"


def _idempotency_key(actor: User | None, token: ApiToken | None, key: str) -> str | None:
    key = (key or "").strip()[:60]
    if not key:
        return None
    who = f"t{token.pk}" if token is not None else f"u{actor.pk}" if actor is not None else "sys"
    return f"{who}:{key}"


def application_submit(
    *,
    actor: User | None,
    channel: str,
    id_number: str,
    programmes: list[str],
    otp_codes: dict[int, str] | None = None,
    paper_authorisations: dict[int, Upload] | None = None,
    commitment: bool = False,
    missing_documents: list[str] | None = None,
    declared_changes: list[dict] | None = None,
    idempotency_key: str = "",
    warning_id: int | None = None,
    candidate_id: int | None = None,
    token: ApiToken | None = None,
) -> Application:
    """Submit an application (一证一书): the applicant's ID number, every adult member's signed
    authorisation, the programmes. Idempotent on ``idempotency_key``. Runs the household check
    (前置核对) and attaches its report; routes to the applicant's 户籍 town; creates one case
    per programme with its steps and due dates."""
    key = _idempotency_key(actor, token, idempotency_key)
    if key:
        existing = Application.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    try:
        # gathered: the chain's head is locked for the last statements only, not from the
        # first adult's authorisation through the household check (see audit_gathered)
        with transaction.atomic(), audit_gathered():
            return _submit(
                actor=actor,
                channel=channel,
                id_number=id_number,
                programmes=programmes,
                otp_codes=otp_codes or {},
                paper=paper_authorisations or {},
                commitment=commitment,
                missing_documents=missing_documents or [],
                declared_changes=declared_changes,
                key=key,
                warning_id=warning_id,
                candidate_id=candidate_id,
                token=token,
            )
    except IntegrityError:
        if key:
            existing = Application.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing  # the double click's twin committed first
        # the other constraint: an open case for the same household and programme, made by
        # a submission that committed between our check and our write
        person = _applicant(id_number)
        household = Membership.objects.filter(person=person, end_date__isnull=True).first()
        for p in _programmes(programmes):
            if household is not None:
                _open_case(household.household_id, p)
        raise ServiceError(
            "case.conflict", "提交时发生冲突,请刷新页面查看是否已提交后再试"
        ) from None


def _submit(
    *,
    actor: User | None,
    channel: str,
    id_number: str,
    programmes: list[str],
    otp_codes: dict[int, str],
    paper: dict[int, Upload],
    commitment: bool,
    missing_documents: list[str],
    declared_changes: list[dict] | None,
    key: str | None,
    warning_id: int | None,
    candidate_id: int | None,
    token: ApiToken | None,
) -> Application:
    if channel not in Channel.values:
        raise ServiceError("case.channel", "受理渠道不正确", field="channel")
    if actor is not None and is_staff_user(actor):
        if actor.role not in INTAKE_ROLES:
            raise AccessDenied("只有窗口受理人员或经办人员可以录入申请")
        if channel not in (Channel.WINDOW,):
            raise ServiceError(
                "case.channel", "工作人员录入的申请渠道应为窗口受理", field="channel"
            )
    elif actor is not None and actor.role == Role.RESIDENT:
        if channel not in (Channel.PHONE, Channel.WEB):
            raise ServiceError("case.channel", "居民本人申请的渠道应为手机或网上", field="channel")
    elif actor is not None:
        raise AccessDenied
    elif token is not None and channel != Channel.PORTAL:
        raise ServiceError("case.channel", "外部平台提交的渠道应为 portal", field="channel")
    chosen = _programmes(programmes)
    applicant = _applicant(id_number)
    if (
        actor is not None
        and actor.role == Role.RESIDENT
        and (not actor.phone_index or applicant.phone_index != actor.phone_index)
    ):
        raise ServiceError(
            "case.not_self",
            "手机上只能以本人名义申请:身份证号码与登录手机号登记的人员不一致",
            field="id_number",
        )
    membership = Membership.objects.filter(person=applicant, end_date__isnull=True).first()
    if membership is None:
        raise ServiceError(
            "case.no_household",
            "人员库中申请人没有所在家庭户,请先到窗口核实户籍",
            field="id_number",
        )
    household_id = membership.household_id
    today = _today()
    members = _members(household_id)
    by_id = {p.pk: p for p in members}
    changes = _declared(declared_changes, by_id)
    adults = _adults(members, today)
    signed = _signatures(adults=adults, members=by_id, otp_codes=otp_codes, paper=paper)
    if not commitment:
        raise ServiceError(
            "case.commitment", "请确认并签署告知承诺书(承诺所报情况真实)", field="commitment"
        )
    for p in chosen:
        _open_case(household_id, p)
    owed = [_text(d, field="missing", label="所缺材料")[:100] for d in missing_documents if d]
    if owed and not all(p.intake.missing_documents for p in chosen):
        raise ServiceError("case.no_missing_allowed", "所选救助项目不接受容缺受理")
    warning = None
    if warning_id is not None:
        from dajiuzhu.warnings.access import access_warning_by_id

        if actor is None or not is_staff_user(actor):
            raise NotFound
        warning = access_warning_by_id(actor, warning_id, for_update=True)
    candidate = None
    if candidate_id is not None:
        from dajiuzhu.policy.access import access_candidate_by_id

        if actor is None or not is_staff_user(actor):
            raise NotFound
        candidate = access_candidate_by_id(actor, candidate_id, for_update=True)
    town = _town_of(applicant)
    window = _window(actor, channel, town)
    now = timezone.now()
    application = Application.objects.create(
        application_no=f"tmp-{uuid.uuid4().hex[:16]}",
        household_id=household_id,
        applicant=applicant,
        channel=channel,
        accepted_division=window,
        town=town,
        submitted_by=actor if actor is not None and actor.pk else None,
        client_label=(f"{token.department_id}:{token.prefix}" if token else "")[:60],
        idempotency_key=key,
        warning=warning,
        candidate=candidate,
        declared_changes=changes,
        commitment_signed=True,
        submitted_at=now,
        routed_at=now,  # routed at once (the limit is handling.intake.routing)
    )
    application.application_no = f"SQ{today:%Y%m%d}{application.pk:06d}"
    application.save(update_fields=["application_no"])
    for pid, (method, upload) in signed.items():
        doc = _store(application, upload, "authorisation", actor) if upload else None
        MemberAuthorisation.objects.create(
            application=application, person_id=pid, method=method, document=doc, signed_at=now
        )
    report = _front_check(application, adults)
    deadline = workflow.due_after(workflow.MISSING_DOCUMENTS_LIMIT, today)
    for name in owed:
        MissingDocument.objects.create(application=application, name=name, deadline=deadline)
    related = _relatives(members)
    cases = [
        _create_case(
            application=application,
            programme=p,
            applicant=applicant,
            report=report,
            related=related,
            accepted_on=today,
        )
        for p in chosen
    ]
    if warning is not None:
        from dajiuzhu.warnings.investigation import warning_mark_helped

        warning_mark_helped(
            actor=actor,
            warning=warning,
            programme_code=chosen[0].code,
            application_no=application.application_no,
        )
    if candidate is not None and actor is not None:  # a candidate needs staff (checked above)
        from dajiuzhu.policy.services import candidate_follow_up

        candidate_follow_up(
            actor=actor,
            candidate_id=candidate.pk,
            status="applied",
            note=f"已协助申请,申请编号{application.application_no}",
        )
    _audit(
        actor,
        "case.submit",
        application,
        {
            "application_no": application.application_no,
            "channel": channel,
            "programmes": [p.code for p in chosen],
            "cases": [c.pk for c in cases],
            "window": window.code,
            "town": town.code,
            "missing": len(owed),
            "warning": warning.pk if warning else None,
            "candidate": candidate.pk if candidate else None,
            "relative_flag": bool(related),
        },
        label=f"token:{token.prefix}" if token is not None and actor is None else None,
    )
    return application


def _front_check(application: Application, adults: list[Person]):
    """前置核对: record each adult's authorisation with the check and run it; the report (or
    the reason there is none) is attached to the application."""
    from dajiuzhu.verification.services import (
        authorisation_record,
        latest_check_month,
        prefetch_inputs,
        verify,
    )

    today = _today()
    previous = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    # The last full month, or the latest month the departments' data reach when they stop
    # earlier (a month without data is refused by the check).
    month = latest_check_month(not_after=previous) or previous
    # The lake is read before any audited write. The submission gathers its audit events
    # (application_submit), so the chain's head is locked only at its end whatever the order;
    # a caller without the gathering still holds the head from its first event to its commit.
    try:
        fetched = prefetch_inputs(household_id=application.household_id, month=month)
    except ServiceError:
        fetched = None  # verify gives the reason below
    for person in adults:
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=today,
            expires_on=today + timedelta(days=AUTHORISATION_VALIDITY_DAYS),
            document_ref=application.application_no,
        )
    try:
        report = verify(
            actor=None,
            household_id=application.household_id,
            month=month,
            purpose=Purpose.CASEWORK,
            fetched=fetched,
        )
    except ServiceError as exc:
        application.check_note = f"前置核对未能完成:{exc.message}"[:300]
        application.save(update_fields=["check_note"])
        return None
    application.verification_report = report
    notes = []
    if report.report.get("missing"):
        notes.append("缺少数据:" + "、".join(report.report["missing"]))
    if report.report.get("stale"):
        notes.append("数据未及时更新:" + "、".join(report.report["stale"]))
    application.check_note = (";".join(notes) or "核对数据齐全")[:300]
    application.save(update_fields=["verification_report", "check_note"])
    return report


# --- the statutory steps ----------------------------------------------------------------------


def _step(case: Case, step: str) -> StepRecord | None:
    return case.steps.filter(step=step, done_at__isnull=True).order_by("-round", "-id").first()


def _done(record: StepRecord | None, actor: User, outcome: str, detail: dict | None = None):
    if record is None:
        return
    record.done_at = timezone.now()
    record.done_by = actor
    record.outcome = outcome[:500]
    if detail:
        record.detail = {**record.detail, **detail}
    record.save(update_fields=["done_at", "done_by", "outcome", "detail"])


def _bump(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])


def _require_status(case: Case, *statuses: str, message: str) -> None:
    if case.status not in statuses:
        raise ServiceError("case.wrong_step", message)


def _programme(case: Case) -> catalogue.Programme:
    return catalogue.programme(case.programme)


def _open_step(case: Case, step: str, start: date, *, round_: int = 1) -> StepRecord:
    return StepRecord.objects.create(
        case=case,
        step=step,
        order=next(
            (i * 10 for i, s in enumerate(_programme(case).intake.steps) if s.step == step), 90
        ),
        round=round_,
        started_on=start,
        due_on=workflow.step_due(_programme(case), step, start, case.due_on),
    )


def _covers_town(user: User, town: str) -> bool:
    """Staff working in the town: a jurisdiction inside it (a community, a grid) or over it
    (the district's own workers)."""
    if user.scope_id is None or not is_staff_user(user):
        return False
    return user.scope_id.startswith(town) or town.startswith(user.scope_prefix)


@transaction.atomic
def case_investigation_record(
    *,
    actor: User,
    case_id: int,
    worker_ids: list[int],
    findings: str,
    photos: Sequence[Upload] = (),
) -> Case:
    """入户调查 by two workers, one of them a grid worker of the town, with the findings."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, INVESTIGATE_ROLES)
    _require_status(case, CaseStatus.ACCEPTED, message="该案件当前不在入户调查环节")
    findings = _text(findings, field="findings", label="入户调查情况")
    ids = list(dict.fromkeys(int(i) for i in worker_ids if i))
    if actor.pk not in ids:
        ids.insert(0, actor.pk)
    workers = list(User.objects.filter(pk__in=ids, is_active=True).select_related("scope"))
    in_town = [w for w in workers if _covers_town(w, case.town_id)]
    if len(workers) != len(ids) or len(in_town) < 2 or len(ids) < 2:
        raise ServiceError(
            "case.two_workers", "入户调查须由本镇(街道)两名工作人员共同完成", field="workers"
        )
    if not any(w.role == Role.GRID_WORKER for w in in_town):
        raise ServiceError("case.grid_worker", "两名调查人员中须有一名网格员", field="workers")
    if any(w.pk in (case.related_staff or []) for w in workers):
        raise AccessDenied("调查人员中有申请家庭成员的备案近亲属,依规回避")
    photo_ids = [_store(case.application, p, "photo", actor).pk for p in photos]
    _done(
        _step(case, "investigate"),
        actor,
        "已入户调查",
        {"workers": [w.pk for w in workers], "findings": findings, "photos": photo_ids},
    )
    has_review = workflow.step_limit(_programme(case), "town_review") is not None
    case.status = CaseStatus.TOWN_REVIEW if has_review else CaseStatus.DECIDING
    if not has_review:
        record = _step(case, "decide")
        if record is not None and record.due_on is None:
            record.started_on = _today()
            record.due_on = case.due_on
            record.save(update_fields=["started_on", "due_on"])
    _bump(case, ["status"])
    _audit(actor, "case.investigate", case, {"workers": [w.pk for w in workers]})
    return case


@transaction.atomic
def case_district_visit(*, actor: User, case_id: int, findings: str) -> Case:
    """The mandatory district home visit of a case flagged for a staff relative."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, frozenset({Role.CASEWORKER, Role.APPROVER}))
    if actor.scope is None or actor.scope.level not in (DivisionLevel.DISTRICT, DivisionLevel.CITY):
        raise AccessDenied("近亲属备案案件须由区级工作人员入户核查")
    record = _step(case, "district_visit")
    if record is None:
        raise ServiceError("case.no_district_visit", "该案件无需区级入户核查,或已完成")
    _done(
        record,
        actor,
        "区级已入户核查",
        {"findings": _text(findings, field="findings", label="核查情况")},
    )
    _bump(case, [])
    _audit(actor, "case.district_visit", case, {})
    return case


@transaction.atomic
def case_town_review(*, actor: User, case_id: int, opinion: str) -> Case:
    """乡镇(街道)初审: the town's opinion; then 公示 (where the programme posts) or the
    decision."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, REVIEW_ROLES)
    _require_status(case, CaseStatus.TOWN_REVIEW, message="该案件当前不在初审环节")
    opinion = _text(opinion, field="opinion", label="初审意见")
    today = _today()
    _done(_step(case, "town_review"), actor, opinion)
    programme = _programme(case)
    applicant = case.application.applicant
    publicity = _step(case, "publicity")
    if publicity is not None and workflow.publicity_posts(
        programme, applicant_age=age_on(applicant.birth_date, today)
    ):
        publicity.started_on = today
        publicity.due_on = workflow.step_due(programme, "publicity", today, case.due_on)
        publicity.save(update_fields=["started_on", "due_on"])
        case.status = CaseStatus.PUBLICITY
    else:
        if publicity is not None:
            _done(publicity, actor, "未成年人案件,依规不张榜公示")
        case.status = CaseStatus.DECIDING
    decide = _step(case, "decide")
    if decide is not None:
        decide.started_on = today
        decide.due_on = workflow.step_due(programme, "decide", today, case.due_on)
        decide.save(update_fields=["started_on", "due_on"])
    _bump(case, ["status"])
    _audit(actor, "case.town_review", case, {"next": case.status})
    return case


OBJECTION_HANDLING = {"reinvestigation": "重新入户调查", "minzhu_pingyi": "民主评议"}


@transaction.atomic
def case_objection_record(*, actor: User, case_id: int, text: str, handling: str) -> Case:
    """An objection during 公示: re-investigation (the case goes back to the household
    investigation) or 民主评议 (recorded; 公示 starts again)."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, REVIEW_ROLES)
    _require_status(case, CaseStatus.PUBLICITY, message="只能在公示期内登记异议")
    text = _text(text, field="text", label="异议内容")
    if handling not in OBJECTION_HANDLING:
        raise ServiceError("case.objection_handling", "请选择异议的处理方式", field="handling")
    today = _today()
    Objection.objects.create(
        case=case, text=text, recorded_by=actor, recorded_at=timezone.now(), handling=handling
    )
    publicity = _step(case, "publicity")
    _done(publicity, actor, f"公示期内收到异议,{OBJECTION_HANDLING[handling]}")
    round_ = (publicity.round if publicity else 1) + 1
    programme = _programme(case)
    if handling == "reinvestigation":
        objection_limit = (
            programme.intake.publicity.objection if programme.intake.publicity else None
        )
        record = _open_step(case, "investigate", today, round_=round_)
        if objection_limit:
            record.due_on = workflow.due_after(objection_limit, today)
            record.save(update_fields=["due_on"])
        _open_step(case, "town_review", today, round_=round_)
        # 公示 again after the new review (its dates are set by the review)
        StepRecord.objects.create(
            case=case, step="publicity", order=publicity.order if publicity else 40, round=round_
        )
        case.status = CaseStatus.ACCEPTED
    else:
        _open_step(case, "publicity", today, round_=round_)
    _bump(case, ["status"])
    _audit(actor, "case.objection", case, {"handling": handling})
    return case


@transaction.atomic
def case_publicity_close(*, actor: User, case_id: int, today: date | None = None) -> Case:
    """End of 公示 without objection: the case goes to the decision."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, REVIEW_ROLES)
    _require_status(case, CaseStatus.PUBLICITY, message="该案件不在公示期")
    today = today or _today()
    record = _step(case, "publicity")
    if record is not None and record.due_on and today < record.due_on:
        raise ServiceError(
            "case.publicity_running", f"公示期至{record.due_on:%Y-%m-%d}届满,届满后才能结束公示"
        )
    _done(record, actor, "公示期满,无异议")
    case.status = CaseStatus.DECIDING
    _bump(case, ["status"])
    _audit(actor, "case.publicity_close", case, {})
    return case


def _amount(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ServiceError("case.amount", "金额应为数字(元)", field="amount") from None
    if value < 0 or value > Decimal("1000000"):
        raise ServiceError("case.amount", "金额应在0到100万元之间", field="amount")
    return value


@transaction.atomic
def case_decide(
    *,
    actor: User,
    case_id: int,
    approve: bool,
    version: int,
    amount=None,
    override_reason: str = "",
    reasons: str = "",
) -> Case:
    """审核确认: approve with the amount (the rules' figure, or another with a reason) and the
    start month (the month after approval), or refuse with reasons. Two approvers at once:
    the first wins, the second gets ``case.conflict``."""
    case = access_case_by_id(actor, case_id, for_update=True)
    if not is_staff_user(actor) or actor.role not in DECIDE_ROLES:
        raise AccessDenied("只有审批人员可以作出决定")
    if (
        case.decision_level == "district"
        and actor.scope is not None
        and actor.scope.level == DivisionLevel.TOWN
    ):
        raise AccessDenied("该项救助由区(市)主管部门审核确认")
    require_handler(actor, case, DECIDE_ROLES)
    if case.version != version or case.status != CaseStatus.DECIDING:
        if case.status in (CaseStatus.APPROVED, CaseStatus.REFUSED):
            raise ServiceError(
                "case.conflict",
                f"该案件已由他人作出决定({case.get_status_display()}),请刷新页面查看",
            )
        if case.version != version:
            raise ServiceError("case.conflict", "该案件已被他人更新,请刷新页面后重试")
        raise ServiceError("case.wrong_step", "该案件尚未到审批确认环节")
    if actor.department_id and actor.department_id != case.department_id:
        raise AccessDenied("该项救助由其主管部门作出决定")
    visit = case.steps.filter(step="district_visit", done_at__isnull=True).exists()
    if visit:
        raise ServiceError("case.district_visit_pending", "近亲属备案案件须先完成区级入户核查")
    today = _today()
    if approve:
        value = _amount(amount)
        override_reason = (override_reason or "").strip()[:500]
        if value is not None and value != case.proposed_amount and not override_reason:
            raise ServiceError(
                "case.override_reason",
                "核定金额与规则测算金额不同,请填写调整理由",
                field="override_reason",
            )
        if value is None:
            value = case.proposed_amount
        case.amount = value
        case.amount_override_reason = override_reason if value != case.proposed_amount else ""
        case.start_month = workflow.next_month(today)
        case.status = CaseStatus.APPROVED
        case.decision_reasons = (reasons or "").strip()[:MAX_TEXT] or "经审核,符合救助条件"
        outcome = "批准" + (f",每月{value}元" if value is not None else "")
    else:
        case.decision_reasons = _text(reasons, field="reasons", label="不予批准的理由")
        case.status = CaseStatus.REFUSED
        outcome = "不予批准"
    case.decided_on = today
    case.decided_by = actor
    _done(_step(case, "decide"), actor, outcome)
    notice = _step(case, "notice")
    if notice is not None:
        notice.started_on = today
        notice.due_on = workflow.step_due(_programme(case), "notice", today, case.due_on)
        notice.save(update_fields=["started_on", "due_on"])
        _done(notice, actor, "已发送短信,决定书可在办理进度中查看和下载")
    _bump(
        case,
        [
            "amount",
            "amount_override_reason",
            "start_month",
            "status",
            "decision_reasons",
            "decided_on",
            "decided_by",
        ],
    )
    _audit(
        actor,
        "case.decide",
        case,
        {"approve": approve, "amount": str(case.amount) if case.amount is not None else None},
    )
    _notify(case)
    return case


def _notify(case: Case) -> None:
    applicant = case.application.applicant
    if not applicant.phone_enc:
        return
    phone = crypto.decrypt(applicant.phone_enc, field="person.phone")
    name = _programme(case).name
    no = case.application.application_no
    if case.status == CaseStatus.APPROVED:
        text = f"【常州大救助】您的{name}申请(编号{no})已批准,自{case.start_month}起发放。"
    else:
        text = f"【常州大救助】您的{name}申请(编号{no})未获批准,理由及救济途径见不予批准通知书。"
    text += "可登录“常州大救助”居民服务查看和下载决定书。"
    transaction.on_commit(lambda: sms.get_backend().send(sms.SmsMessage(phone=phone, text=text)))


@transaction.atomic
def case_extend(*, actor: User, case_id: int, reason: str) -> Case:
    """Extend the whole case to the extended limit (45 working days) with a recorded reason."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, EXTEND_ROLES)
    if not case.is_open:
        raise ServiceError("case.closed", "该案件已办结")
    programme = _programme(case)
    if case.extended or not programme.intake.extended_case:
        raise ServiceError("case.not_extendable", "该案件不能(再)延长办理期限")
    reason = _text(reason, field="reason", label="延长理由")
    case.due_on = workflow.whole_case_due(programme, case.accepted_on, extended=True)
    case.extended = True
    case.extension_reason = reason[:500]
    _bump(case, ["due_on", "extended", "extension_reason"])
    _audit(actor, "case.extend", case, {"due_on": case.due_on.isoformat()})
    return case


@transaction.atomic
def case_advance_payment(*, actor: User, case_id: int, amount, reason: str) -> Case:
    """先行救助 (临时救助 急难型): the town pays first; the file is completed within the limit."""
    case = access_case_by_id(actor, case_id, for_update=True)
    require_handler(actor, case, EXTEND_ROLES)
    programme = _programme(case)
    if not programme.intake.advance_payment:
        raise ServiceError("case.no_advance", "该项救助不适用先行救助")
    if not case.is_open or case.advance_paid_on:
        raise ServiceError("case.advance_done", "该案件已先行救助或已办结")
    value = _amount(amount)
    if value is None or value <= 0:
        raise ServiceError("case.amount", "请填写先行救助金额", field="amount")
    today = _today()
    case.advance_paid_on = today
    case.advance_amount = value
    case.advance_file_due = workflow.due_after(programme.intake.advance_payment, today)
    StepRecord.objects.create(
        case=case,
        step="advance",
        order=5,
        started_on=today,
        due_on=case.advance_file_due,
        done_at=timezone.now(),
        done_by=actor,
        outcome=f"先行救助{value}元,{case.advance_file_due:%Y-%m-%d}前补齐手续",
        detail={"reason": _text(reason, field="reason", label="先行救助理由")},
    )
    _bump(case, ["advance_paid_on", "advance_amount", "advance_file_due"])
    _audit(actor, "case.advance_payment", case, {"amount": str(value)})
    return case


@transaction.atomic
def missing_document_upload(
    *, actor: User, application_no: str, missing_id: int, upload: Upload
) -> MissingDocument:
    """容缺: the resident (or the window) hands in a document still owed."""
    application = access_application_by_no(actor, application_no)
    item = (
        MissingDocument.objects.select_for_update()
        .filter(pk=missing_id, application=application)
        .first()
    )
    if item is None:
        raise NotFound
    if item.received_at is not None:
        raise ServiceError("case.document_received", "该材料已补交")
    item.document = _store(application, upload, "missing", actor)
    item.received_at = timezone.now()
    item.save(update_fields=["document", "received_at"])
    _audit(actor, "case.document_upload", application, {"missing": item.pk, "name": item.name})
    return item


@transaction.atomic
def relative_declare(*, actor: User, id_number: str, relation: str) -> StaffRelative:
    """近亲属备案: a staff member declares a relative."""
    if not is_staff_user(actor):
        raise AccessDenied
    person = _applicant(id_number)
    relation = _text(relation, field="relation", label="关系")[:20]
    row, _created = StaffRelative.objects.get_or_create(
        staff=actor, person=person, defaults={"relation": relation, "declared_at": timezone.now()}
    )
    audit_record(
        actor=actor,
        action="case.relative_declare",
        object_type="person",
        object_id=person.pk,
        purpose=Purpose.CASEWORK,
        detail={"relation": relation},
    )
    return row


def cases_flag_overdue(*, today: date | None = None) -> int:
    """Open cases past a step's due date or the whole case's limit are escalated to the
    district (flagged; the district's queue lists them first)."""
    today = today or _today()
    with transaction.atomic():
        late_steps = StepRecord.objects.filter(done_at__isnull=True, due_on__lt=today).values(
            "case_id"
        )
        ids = list(
            Case.objects.filter(status__in=OPEN_STATUSES, escalated=False)
            .filter(pk__in=late_steps)
            .values_list("pk", flat=True)
        )
        ids += list(
            Case.objects.filter(status__in=OPEN_STATUSES, escalated=False, due_on__lt=today)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Case.objects.filter(pk__in=ids).update(escalated=True, updated_at=timezone.now())
        audit_record(
            actor=None,
            action="case.escalate",
            object_type="case",
            object_id="*",
            purpose=Purpose.CASEWORK,
            label="cases:escalation",
            detail={"count": len(ids), "cases": ids[:1000]},
        )
    return len(ids)
