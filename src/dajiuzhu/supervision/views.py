"""Pages of fund supervision: the paying district's queue of findings and a finding's page with
its rectification form. Thin: parse, call, render."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.supervision import rectification, sampling, selectors
from dajiuzhu.supervision.access import RECTIFY_ROLES, access_finding_by_id, access_sample_by_id
from dajiuzhu.supervision.models import Check, FindingCode, SampleStatus, Status
from dajiuzhu.web.actions import post_action
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest

RESOLUTION_CHOICES = [
    (Status.CONFIRMED, "确认违规:追回资金并停发"),
    (Status.EXPLAINED, "说明情况:附证据说明"),
    (Status.WRONG_DATA, "数据有误:退回数据所属部门"),
]


@shows_personal_data("finding_list")
@require_GET
@staff_page
def queue(request: AuthedRequest) -> HttpResponse:
    filters = selectors.Filters.parse(request.GET)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    size = 50
    rows, total = selectors.finding_list(
        user=request.user, filters=filters, limit=size, offset=(page - 1) * size
    )
    query = {k: str(v) for k, v in request.GET.items() if k != "page"}
    return render(
        request,
        "supervision/queue.html",
        {
            "rows": rows,
            "total": total,
            "f": filters,
            "page": page,
            "pages": max(1, -(-total // size)),
            "query": urlencode(query),
            "checks": Check.choices,
            "statuses": [*Status.choices, ("overdue", "已逾期")],
        },
    )


@shows_personal_data("finding")
@require_GET
@staff_page
def detail(request: AuthedRequest, finding_id: int) -> HttpResponse:
    d = selectors.finding_detail(user=request.user, finding_id=finding_id)
    return render(
        request,
        "supervision/detail.html",
        {"d": d, "f": d.finding, "resolutions": RESOLUTION_CHOICES},
    )


@shows_personal_data("finding")
@require_POST
@staff_page
def rectify(request: AuthedRequest, finding_id: int) -> HttpResponse:
    access_finding_by_id(request.user, finding_id)  # scope first: out of scope is a 404
    try:
        rectification.finding_rectify(
            actor=request.user,
            finding_id=finding_id,
            resolution=request.POST.get("resolution", ""),
            notes=request.POST.get("notes", ""),
            recovered_amount=request.POST.get("recovered_amount", ""),
            payment_stopped=request.POST.get("payment_stopped") in ("1", "on", "true"),
            dataset=request.POST.get("dataset", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "整改情况已登记。")
    return redirect("supervision:detail", finding_id=finding_id)


# --------------------------------------------------------------------------- spot checks


@shows_personal_data("sample_list")
@require_GET
@staff_page
def samples(request: AuthedRequest) -> HttpResponse:
    quarter = (request.GET.get("quarter") or "").strip().upper()[:6]
    rows = selectors.sample_list(user=request.user, quarter=quarter)
    return render(request, "supervision/samples.html", {"rows": rows, "quarter": quarter})


@shows_personal_data("sample")
@require_GET
@staff_page
def sample(request: AuthedRequest, case_id: int) -> HttpResponse:
    d = selectors.sample_detail(user=request.user, case_id=case_id)
    user = request.user
    return render(
        request,
        "supervision/sample.html",
        {
            "d": d,
            "c": d.case,
            "codes": FindingCode.choices,
            "labels": dict(FindingCode.choices),
            "can_assess": user.role == Role.AUDITOR and d.case.status == SampleStatus.SAMPLED,
            "can_rectify": user.role in RECTIFY_ROLES and d.case.status == SampleStatus.FINDINGS,
        },
    )


def _sample_write(
    request: AuthedRequest, case_id: int, write: Callable[[], object], done: str
) -> HttpResponse:
    access_sample_by_id(request.user, case_id)  # scope first: out of scope is a 404
    return post_action(
        request,
        write,
        done=done,
        back=lambda: redirect("supervision:sample", case_id=case_id),
        refusals=(ServiceError,),
    )


@shows_personal_data("sample")
@require_POST
@staff_page
def sample_assess(request: AuthedRequest, case_id: int) -> HttpResponse:
    return _sample_write(
        request,
        case_id,
        lambda: sampling.sample_assess(
            actor=request.user,
            case_id=case_id,
            codes=request.POST.getlist("codes"),
            notes=request.POST.get("notes", ""),
        ),
        "评估结果已登记。",
    )


@shows_personal_data("sample")
@require_POST
@staff_page
def sample_rectify(request: AuthedRequest, case_id: int) -> HttpResponse:
    return _sample_write(
        request,
        case_id,
        lambda: sampling.sample_rectify(
            actor=request.user, case_id=case_id, notes=request.POST.get("notes", "")
        ),
        "整改情况已登记。",
    )


def _scorecard_params(request: HttpRequest) -> tuple[str, str, str]:
    month = (request.GET.get("month") or timezone.localdate().strftime("%Y-%m")).strip()[:7]
    level = "town" if request.GET.get("level") == "town" else "district"
    parent = (request.GET.get("parent") or "").strip()[:6]
    return month, level, parent


@no_personal_data
@require_GET
@staff_page
def scorecard_page(request: AuthedRequest) -> HttpResponse:
    """City → district → town: the month's figures, charts, links to the records behind each
    figure, the XLSX export and the monthly 通报."""
    from dajiuzhu.supervision.charts import bar_chart
    from dajiuzhu.supervision.models import MonthlyNotice
    from dajiuzhu.supervision.scorecard import INDICATORS, scorecard

    month, level, parent = _scorecard_params(request)
    card, error, charts = None, "", []
    try:
        card = scorecard(user=request.user, month=month, level=level, parent=parent)
    except ServiceError as exc:
        error = exc.message
    if card is not None:
        from dajiuzhu.supervision.charts import trend_chart
        from dajiuzhu.supervision.scorecard import trend

        whole = card.parent_name or "本辖区"
        rows = trend(user=request.user, month=card.month, parent=card.parent)
        charts = [trend_chart(f"{whole}近6个月指标走势", rows)]
        charts += [
            bar_chart(f"{INDICATORS[key]}({month})", [(r.name, getattr(r, key)) for r in card.rows])
            for key in ("timeliness", "warning_closure", "spot_check_error_rate")
        ]
        charts.append(
            bar_chart(
                f"{INDICATORS['findings_per_1000']}({month})",
                [(r.name, r.findings_per_1000) for r in card.rows],
                percent=False,
            )
        )
    return render(
        request,
        "supervision/scorecard.html",
        {
            "card": card,
            "rows": card.rows if card else [],
            "month": month,
            "level": level,
            "parent": parent,
            "error": error,
            "charts": charts,
            "query": urlencode({"month": month, "level": level, "parent": parent}),
            "notices": MonthlyNotice.objects.defer("pdf")[:24],
        },
    )


@no_personal_data
@require_GET
@staff_page
def scorecard_behind(request: AuthedRequest) -> HttpResponse:
    """The records behind one figure (ids, dates and codes; each record's own page, where the
    viewer may open it, names the people)."""
    from dajiuzhu.supervision.scorecard import behind

    month = (request.GET.get("month") or "").strip()[:7]
    unit = (request.GET.get("unit") or "").strip()[:15]
    indicator = (request.GET.get("indicator") or "").strip()[:30]
    error, table = "", None
    try:
        table = behind(user=request.user, month=month, unit=unit, indicator=indicator)
    except ServiceError as exc:
        error = exc.message
    rows = []
    if table is not None:
        rows = list(zip(table.rows, table.links or [""] * len(table.rows), strict=True))
    return render(
        request,
        "supervision/scorecard_behind.html",
        {"t": table, "rows": rows, "month": month, "unit": unit, "error": error},
    )


@no_personal_data
@require_GET
@staff_page
def scorecard_xlsx(request: AuthedRequest) -> HttpResponse:
    from dajiuzhu.supervision.exports import scorecard_xlsx as to_xlsx
    from dajiuzhu.supervision.scorecard import scorecard

    month, level, parent = _scorecard_params(request)
    try:
        card = scorecard(user=request.user, month=month, level=level, parent=parent)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("supervision:scorecard")
    response = HttpResponse(
        to_xlsx(card),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"scorecard-{card.month}-{card.parent or 'city'}-{level}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@no_personal_data
@require_GET
@staff_page
def notice_download(request: AuthedRequest, month: str) -> HttpResponse:
    from django.http import Http404

    from dajiuzhu.core.access import require_role
    from dajiuzhu.supervision.models import MonthlyNotice
    from dajiuzhu.supervision.scorecard import SCORECARD_ROLES

    require_role(request.user, SCORECARD_ROLES)
    notice = MonthlyNotice.objects.filter(month=month[:7]).first()
    if notice is None:
        raise Http404
    response = HttpResponse(bytes(notice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tongbao-{notice.month}.pdf"'
    return response


@no_personal_data
@require_POST
@staff_page
def notice_generate(request: AuthedRequest) -> HttpResponse:
    """Make (or make again) a month's 通报 now; the worker makes last month's on the 3rd."""
    from dajiuzhu.core.access import require_role
    from dajiuzhu.supervision.models import Trigger
    from dajiuzhu.supervision.notice import notice_generate as generate
    from dajiuzhu.supervision.scorecard import SCORECARD_ROLES

    require_role(request.user, SCORECARD_ROLES)
    month = (request.POST.get("month") or "").strip()[:7]
    try:
        notice = generate(actor=request.user, month=month, trigger=Trigger.MANUAL)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{notice.month}月度通报已生成。")
    return redirect(f"{reverse('supervision:scorecard')}?{urlencode({'month': month})}")


# --------------------------------------------------------------------------- complaints

COMPLAINT_FORM_LIMITS = {"category": 30, "division": 15, "subject": 200, "content": 4000}


def _complaint_form_context(request: HttpRequest, **extra) -> dict:
    from dajiuzhu.supervision.models import ComplaintCategory

    post = request.POST if request.method == "POST" else {}
    return {
        "categories": ComplaintCategory.choices,
        "divisions": selectors.complaint_divisions(),
        "form": {k: (post.get(k) or "")[:limit] for k, limit in COMPLAINT_FORM_LIMITS.items()},
        "name": (post.get("name") or "")[:30] if post else "",
        "phone": (post.get("phone") or "")[:20] if post else "",
        **extra,
    }


def _complaint_submit(request: HttpRequest, actor) -> tuple[object | None, ServiceError | None]:
    from dajiuzhu.supervision.complaints import complaint_submit
    from dajiuzhu.web.views import client_ip

    if not request.session.session_key:
        request.session.save()  # a session to count this client's reports by
    try:
        complaint = complaint_submit(
            actor=actor,
            category=(request.POST.get("category") or "")[:30],
            division_code=(request.POST.get("division") or "")[:15],
            subject=(request.POST.get("subject") or "")[:200],
            content=(request.POST.get("content") or "")[:4000],
            name=(request.POST.get("name") or "")[:60],
            phone=(request.POST.get("phone") or "")[:20],
            session_key=request.session.session_key or "",
            client_ip=client_ip(request),
        )
    except ServiceError as exc:
        return None, exc
    request.session["complaint_code"] = complaint.tracking_code
    return complaint, None


@no_personal_data
def complaint_public(request: HttpRequest) -> HttpResponse:
    """The public report form (anyone, anonymous unless a name or phone is given)."""
    error = None
    if request.method == "POST":
        complaint, error = _complaint_submit(request, None)
        if complaint is not None:
            return redirect("supervision:complaint_done")
    return render(
        request,
        "supervision/complaint_form.html",
        _complaint_form_context(request, error=error, portal=False),
    )


@no_personal_data
@require_GET
def complaint_done(request: HttpRequest) -> HttpResponse:
    """The tracking code, shown once after the report (kept in the session, not the URL)."""
    code = request.session.get("complaint_code", "")
    return render(request, "supervision/complaint_done.html", {"code": code})


@no_personal_data
@require_GET
def complaint_track(request: HttpRequest) -> HttpResponse:
    """Status and written outcome for a tracking code — nothing else."""
    code = (request.GET.get("code") or "")[:40]
    track = selectors.complaint_track(code=code) if code else None
    return render(
        request,
        "supervision/complaint_track.html",
        {"code": code, "track": track, "not_found": bool(code) and track is None},
    )


@shows_personal_data("self")
def complaint_portal(request: HttpRequest) -> HttpResponse:
    """A logged-in resident's report on the phone, and their own reports."""
    from django.contrib.auth.views import redirect_to_login
    from django.urls import reverse

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("web:portal_login"))
    if request.user.role != Role.RESIDENT:
        return render(
            request,
            "supervision/complaint_form.html",
            _complaint_form_context(request, portal=True, not_resident=True),
        )
    error = None
    if request.method == "POST":
        complaint, error = _complaint_submit(request, request.user)
        if complaint is not None:
            return redirect("supervision:complaint_done")
    return render(
        request,
        "supervision/complaint_form.html",
        _complaint_form_context(
            request, error=error, portal=True, mine=selectors.my_complaints(user=request.user)
        ),
    )


@shows_personal_data("complaint_list")
@require_GET
@staff_page
def complaints(request: AuthedRequest) -> HttpResponse:
    from dajiuzhu.supervision.models import ComplaintStatus

    status = (request.GET.get("status") or "").strip()[:12]
    rows = selectors.complaint_list(user=request.user, status=status)
    return render(
        request,
        "supervision/complaints.html",
        {
            "rows": rows,
            "status": status,
            "statuses": [*ComplaintStatus.choices, ("overdue", "已逾期")],
        },
    )


def _complaint_page(request: AuthedRequest, complaint_id: int, **extra) -> HttpResponse:
    d = selectors.complaint_detail(user=request.user, complaint_id=complaint_id)
    return render(request, "supervision/complaint.html", {"d": d, "c": d.complaint, **extra})


@shows_personal_data("complaint")
@require_GET
@staff_page
def complaint(request: AuthedRequest, complaint_id: int) -> HttpResponse:
    return _complaint_page(request, complaint_id)


@shows_personal_data("complaint")
@require_POST
@staff_page
def complaint_reporter(request: AuthedRequest, complaint_id: int) -> HttpResponse:
    """The reporter's identity, for the handler only (audited; shown on this answer only)."""
    try:
        identity = selectors.complaint_reporter(user=request.user, complaint_id=complaint_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("supervision:complaint", complaint_id=complaint_id)
    return _complaint_page(request, complaint_id, identity=identity)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int((value or "").strip()[:12])
    except ValueError:
        return None


@shows_personal_data("complaint")
@require_POST
@staff_page
def complaint_act(request: AuthedRequest, complaint_id: int, action: str) -> HttpResponse:
    from django.http import Http404

    from dajiuzhu.supervision import complaints as writes
    from dajiuzhu.supervision.access import access_complaint_by_id

    access_complaint_by_id(request.user, complaint_id)  # scope first: out of scope is a 404
    actions = {
        "take": (
            lambda: writes.complaint_take(actor=request.user, complaint_id=complaint_id),
            "已承办。",
        ),
        "link": (
            lambda: writes.complaint_link(
                actor=request.user,
                complaint_id=complaint_id,
                case_id=_int_or_none(request.POST.get("case_id")),
                household_no=(request.POST.get("household_no") or "")[:30],
                finding_id=_int_or_none(request.POST.get("finding_id")),
            ),
            "已关联。",
        ),
        "close": (
            lambda: writes.complaint_close(
                actor=request.user,
                complaint_id=complaint_id,
                outcome=(request.POST.get("outcome") or "")[:4000],
            ),
            "已办结,举报人可凭查询码查看办理结果。",
        ),
    }
    if action not in actions:
        raise Http404
    write, done = actions[action]
    try:
        write()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("supervision:complaint", complaint_id=complaint_id)
