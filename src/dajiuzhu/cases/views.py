"""Pages of unified intake and the case workflow: the window clerk's entry (any window of the
city), 协助申请 from a warning, the staff queue, the case page with its step actions, the
decision notice, the staff's relatives, the public 公示 page, and the resident's phone portal
(apply, status, upload, notice). Thin: parse, call a service or selector, render."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dajiuzhu.cases import notice, selectors, services
from dajiuzhu.cases.access import INTAKE_ROLES, access_case_by_id
from dajiuzhu.cases.models import Channel, StaffRelative
from dajiuzhu.cases.services import OBJECTION_HANDLING, DuplicateOpenCase, Upload
from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user
from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.web.actions import post_action
from dajiuzhu.web.decorators import denied, portal_page, staff_page
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest

MAX_UPLOAD = 10 * 1024 * 1024


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _upload(request: HttpRequest, name: str) -> Upload | None:
    f = request.FILES.get(name)
    if f is None:
        return None
    if (f.size or 0) > MAX_UPLOAD:
        raise ServiceError("upload.too_large", "文件不能超过10MB,请压缩后重新上传", field="file")
    return Upload(name=f.name or "file", data=f.read())


def _error_context(exc: ServiceError) -> dict:
    ctx = {"error": exc.message}
    if isinstance(exc, DuplicateOpenCase):
        ctx["open_application_no"] = exc.application_no
    return ctx


# --- the intake form (window and portal) ------------------------------------------------------


def _intake_form(request: HttpRequest, household) -> dict:
    """What the form posted: codes and scans per adult, programmes, changes, 容缺."""
    otp_codes, paper = {}, {}
    for m in household.members if household else []:
        code = (request.POST.get(f"code_{m.person_id}") or "").strip()[:6]
        if code:
            otp_codes[m.person_id] = code
        scan = _upload(request, f"scan_{m.person_id}")
        if scan is not None:
            paper[m.person_id] = scan
    changes = []
    absent = _int(request.POST.get("absent_member"))
    if absent:
        changes.append(
            {
                "kind": "absent",
                "person_id": absent,
                "reason": request.POST.get("absent_reason", "")[:500],
            }
        )
    new_name = (request.POST.get("new_member_name") or "").strip()
    if new_name:
        changes.append(
            {
                "kind": "new",
                "name": new_name[:50],
                "reason": request.POST.get("new_member_reason", "")[:500],
            }
        )
    missing = [
        line.strip()[:100]
        for line in (request.POST.get("missing_documents") or "").splitlines()
        if line.strip()
    ][:20]
    return {
        "otp_codes": otp_codes,
        "paper_authorisations": paper,
        "declared_changes": changes,
        "missing_documents": missing,
        "programmes": [p[:30] for p in request.POST.getlist("programmes")][:32],
        "commitment": request.POST.get("commitment") == "1",
        "idempotency_key": (request.POST.get("idempotency_key") or "")[:60],
    }


def _intake_context(household, request: HttpRequest, **extra) -> dict:
    chosen = set(request.POST.getlist("programmes")) if request.method == "POST" else set()
    for code in extra.pop("preselect", []):
        chosen.add(code)
    open_cases = household.open_cases if household else {}
    return {
        "household": household,
        "groups": [
            (category, [(p, open_cases.get(p.code)) for p in programmes])
            for category, programmes in selectors.programme_groups()
        ],
        "chosen": chosen,
        "posted": request.POST if request.method == "POST" else {},
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        **extra,
    }


def _staff_intake(
    request: AuthedRequest, *, warning=None, candidate=None, preselect=()
) -> HttpResponse:
    user = request.user
    if user.role not in INTAKE_ROLES:
        return denied(request, "只有窗口受理人员或经办人员可以录入申请")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    id_number = (request.POST.get("id_number") or "").strip()[:20]
    ctx: dict = {"id_number": id_number, "warning": warning, "candidate": candidate}
    household = None
    if (warning is not None or candidate is not None) and not id_number:
        person = (
            selectors.warning_person(warning)
            if warning is not None
            else selectors.candidate_person(candidate)
        )
        if person is None:
            ctx["error"] = "人员库中没有该对象的户籍信息,无法预填申请,请核实后在窗口录入"
        else:
            household = selectors.intake_household(user=user, person=person)
            ctx["id_number_hidden"] = True
    elif action in ("lookup", "submit"):
        try:
            person = services.applicant_for_id_number(id_number)
            household = selectors.intake_household(user=user, person=person)
        except ServiceError as exc:
            ctx["error"] = exc.message
    if action == "submit" and household is not None:
        try:
            form = _intake_form(request, household)
            app = services.application_submit(
                actor=user,
                channel=Channel.WINDOW,
                id_number=id_number or selectors.id_number_for_intake(household),
                warning_id=warning.pk if warning is not None else None,
                candidate_id=candidate.pk if candidate is not None else None,
                **form,
            )
        except ServiceError as exc:
            ctx.update(_error_context(exc))
        else:
            messages.success(request, f"申请已受理,申请编号{app.application_no}")
            first = app.cases.order_by("pk").first()
            if first is not None:  # an application always has at least one case
                return redirect("cases:detail", case_id=first.pk)
            return redirect("cases:queue")
    preselect = list(preselect)
    return render(
        request,
        "cases/intake.html",
        _intake_context(household, request, preselect=preselect, **ctx),
    )


@shows_personal_data("intake")
@staff_page
def intake(request: AuthedRequest) -> HttpResponse:
    """The window clerk's entry at any window of the city (全城办)."""
    return _staff_intake(request)


@shows_personal_data("warning")
@staff_page
def intake_from_warning(request: AuthedRequest, warning_id: int) -> HttpResponse:
    """「协助申请」 on a warning: the intake prefilled from it; the submission sets the
    warning's outcome "helped to apply"."""
    from dajiuzhu.warnings.access import access_warning_by_id

    warning = access_warning_by_id(request.user, warning_id)
    preselect = [warning.programme_code] if warning.programme_code else []
    return _staff_intake(request, warning=warning, preselect=preselect)


@shows_personal_data("candidate")
@staff_page
def intake_from_candidate(request: AuthedRequest, candidate_id: int) -> HttpResponse:
    """「协助申请」 on a 政策找人 candidate: the intake prefilled from it (its programme chosen);
    the submission marks the candidate "helped to apply"."""
    from dajiuzhu.policy.access import access_candidate_by_id

    candidate = access_candidate_by_id(request.user, candidate_id)
    programme = candidate.programme
    try:
        from dajiuzhu.policy import catalogue

        catalogue.programme(programme)
    except KeyError:
        programme = ""
    return _staff_intake(request, candidate=candidate, preselect=[programme] if programme else [])


@shows_personal_data("intake")
@require_POST
def signing_code(request: HttpRequest) -> HttpResponse:
    """Send the signing code to an adult member's phone (a small fragment for htmx)."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponse("请先登录", status=403)
    if is_staff_user(user) and user.role not in INTAKE_ROLES:
        return HttpResponse("无权操作", status=403)
    if not is_staff_user(user) and user.role != Role.RESIDENT:
        return HttpResponse("无权操作", status=403)
    try:
        services.signing_code_send(actor=user, person_id=_int(request.POST.get("member")))
    except NotFound:
        return HttpResponse('<span class="error">未找到该家庭成员</span>', status=404)
    except AccessDenied as exc:
        return HttpResponse(f'<span class="error">{exc.message}</span>', status=403)
    except ServiceError as exc:
        return HttpResponse(f'<span class="error">{exc.message}</span>', status=200)
    return HttpResponse('<span class="ok">验证码已发送到该成员手机</span>')


# --- staff queue and case page ------------------------------------------------------------------


@shows_personal_data("case_list")
@require_GET
@staff_page
def queue(request: AuthedRequest) -> HttpResponse:
    status = (request.GET.get("status") or "open")[:20]
    programme = (request.GET.get("programme") or "")[:30]
    rows, total = selectors.case_queue(user=request.user, status=status, programme=programme)
    return render(
        request,
        "cases/queue.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "programme": programme,
            "statuses": selectors.QUEUE_STATUSES.items(),
            "groups": selectors.programme_groups(),
            "can_intake": request.user.role in INTAKE_ROLES,
        },
    )


@shows_personal_data("case")
@require_GET
@staff_page
def detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    v = selectors.case_detail(user=request.user, case_id=case_id)
    return render(
        request,
        "cases/detail.html",
        {"v": v, "c": v.case, "handlings": OBJECTION_HANDLING.items()},
    )


def _act(request: AuthedRequest, case_id: int, write: Callable[[], object], done: str):
    access_case_by_id(request.user, case_id)  # scope first: out of scope is not found
    return post_action(
        request,
        write,
        done=done,
        back=lambda: redirect("cases:detail", case_id=case_id),
        refusals=(ServiceError, AccessDenied),
    )


@shows_personal_data("case")
@require_POST
@staff_page
def act(request: AuthedRequest, case_id: int, action: str) -> HttpResponse:
    user, post = request.user, request.POST
    writes: dict[str, tuple[Callable[[], object], str]] = {
        "investigate": (
            lambda: services.case_investigation_record(
                actor=user,
                case_id=case_id,
                worker_ids=[_int(v) for v in post.getlist("workers")][:5],
                findings=post.get("findings", "")[:2001],
                photos=[p for p in [_upload(request, "photo")] if p],
            ),
            "入户调查已登记",
        ),
        "district-visit": (
            lambda: services.case_district_visit(
                actor=user, case_id=case_id, findings=post.get("findings", "")[:2001]
            ),
            "区级入户核查已登记",
        ),
        "review": (
            lambda: services.case_town_review(
                actor=user, case_id=case_id, opinion=post.get("opinion", "")[:2001]
            ),
            "初审意见已登记",
        ),
        "objection": (
            lambda: services.case_objection_record(
                actor=user,
                case_id=case_id,
                text=post.get("text", "")[:2001],
                handling=post.get("handling", "")[:20],
            ),
            "异议已登记",
        ),
        "publicity-close": (
            lambda: services.case_publicity_close(actor=user, case_id=case_id),
            "公示期满,已转审批确认",
        ),
        "decide": (
            lambda: services.case_decide(
                actor=user,
                case_id=case_id,
                approve=post.get("decision") == "approve",
                version=_int(post.get("version"), -1),
                amount=post.get("amount", "")[:20],
                override_reason=post.get("override_reason", "")[:500],
                reasons=post.get("reasons", "")[:2001],
            ),
            "已作出决定,已短信通知申请人",
        ),
        "extend": (
            lambda: services.case_extend(
                actor=user, case_id=case_id, reason=post.get("reason", "")[:500]
            ),
            "办理期限已延长",
        ),
        "advance": (
            lambda: services.case_advance_payment(
                actor=user,
                case_id=case_id,
                amount=post.get("amount", "")[:20],
                reason=post.get("reason", "")[:500],
            ),
            "已登记先行救助",
        ),
    }
    if action not in writes:
        raise Http404
    write, done = writes[action]
    return _act(request, case_id, write, done)


@shows_personal_data("case")
@require_GET
@staff_page
def notice_pdf(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = access_case_by_id(request.user, case_id)
    return _pdf_response(request, case, reverse("cases:detail", args=[case_id]))


def _pdf_response(request: HttpRequest, case, back: str) -> HttpResponse:
    try:
        data = notice.notice_pdf(case)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{case.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@shows_personal_data("self")
@staff_page
def relatives(request: AuthedRequest) -> HttpResponse:
    """近亲属备案: the staff member's own declared relatives."""
    error = ""
    if request.method == "POST":
        try:
            services.relative_declare(
                actor=request.user,
                id_number=request.POST.get("id_number", "")[:20],
                relation=request.POST.get("relation", "")[:20],
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, "已备案")
            return redirect("cases:relatives")
    rows = StaffRelative.objects.filter(staff=request.user).select_related("person")
    return render(request, "cases/relatives.html", {"rows": rows, "error": error})


# --- the public 公示 page ----------------------------------------------------------------------


@no_personal_data
@require_GET
def publicity(request: HttpRequest) -> HttpResponse:
    """The public notice: masked name, household size, proposed amount — nothing else."""
    return render(request, "cases/publicity.html", {"rows": selectors.publicity_list()})


# --- the resident's phone portal -----------------------------------------------------------------


_portal_page = portal_page


@shows_personal_data("self")
@_portal_page
def portal_apply(request: AuthedRequest) -> HttpResponse:
    """The resident applies on the phone: one ID card, every adult's code, the programmes."""
    if request.user.role != Role.RESIDENT:
        return render(request, "cases/portal_apply.html", {"not_resident": True})
    person = selectors.resident_person(user=request.user)
    if person is None:
        return render(
            request,
            "cases/portal_apply.html",
            {"no_person": True},
        )
    household = selectors.intake_household(user=request.user, person=person)
    ctx: dict = {}
    if request.method == "POST":
        try:
            form = _intake_form(request, household)
            app = services.application_submit(
                actor=request.user,
                channel=Channel.PHONE,
                id_number=request.POST.get("id_number", "")[:20],
                **form,
            )
        except ServiceError as exc:
            ctx.update(_error_context(exc))
        else:
            messages.success(request, f"申请已提交,申请编号{app.application_no}")
            return redirect("cases:portal_status", application_no=app.application_no)
    return render(request, "cases/portal_apply.html", _intake_context(household, request, **ctx))


@shows_personal_data("self")
@require_GET
@_portal_page
def portal_list(request: AuthedRequest) -> HttpResponse:
    if request.user.role != Role.RESIDENT:
        return render(request, "cases/portal_list.html", {"apps": [], "not_resident": True})
    apps = selectors.my_applications(user=request.user).prefetch_related("cases")
    return render(request, "cases/portal_list.html", {"apps": apps, "names": selectors})


@shows_personal_data("self")
@_portal_page
def portal_status(request: AuthedRequest, application_no: str) -> HttpResponse:
    """Every step with its date, due date and outcome; the documents still owed; the notice."""
    error = ""
    if request.method == "POST":
        try:
            upload = _upload(request, "file")
            if upload is None:
                raise ServiceError("upload.none", "请选择要上传的文件", field="file")
            services.missing_document_upload(
                actor=request.user,
                application_no=application_no,
                missing_id=_int(request.POST.get("missing")),
                upload=upload,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, "材料已补交")
            return redirect("cases:portal_status", application_no=application_no)
    v = selectors.application_status(user=request.user, application_no=application_no[:20])
    return render(request, "cases/portal_status.html", {"v": v, "error": error})


@shows_personal_data("self")
@require_GET
@_portal_page
def portal_notice(request: AuthedRequest, application_no: str, case_id: int) -> HttpResponse:
    from dajiuzhu.cases.access import access_application_by_no

    app = access_application_by_no(request.user, application_no[:20])
    case = app.cases.filter(pk=case_id).first()
    if case is None:
        raise Http404
    return _pdf_response(request, case, reverse("cases:portal_status", args=[app.application_no]))


@no_personal_data
@require_GET
@staff_page
def precision(request: AuthedRequest) -> HttpResponse:
    """精准度: found → helped to apply → approved, per warning rule and candidate programme."""
    from dajiuzhu.cases import precision as chain

    years = chain.warning_years(user=request.user)
    year = _int(request.GET.get("year"), years[0] if years else 0) or None
    month, candidates = chain.candidate_chain(user=request.user)
    return render(
        request,
        "cases/precision.html",
        {
            "years": years,
            "year": year,
            "warnings": chain.warning_chain(user=request.user, year=year),
            "month": month,
            "candidates": candidates,
        },
    )
