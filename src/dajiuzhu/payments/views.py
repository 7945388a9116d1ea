"""Pages of payments: the month's rosters (build, release), a roster's lines and its bank file,
the bank's returns (upload, send again), and the resident's payments on the phone. Thin:
parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.roles import Role
from dajiuzhu.payments import bank, selectors, services
from dajiuzhu.payments.access import EXPORT_ROLES, PREPARE_ROLES, RELEASE_ROLES
from dajiuzhu.payments.models import PaymentStatus
from dajiuzhu.payments.tasks import publish_roster
from dajiuzhu.policy import catalogue
from dajiuzhu.web.decorators import portal_page, staff_page
from dajiuzhu.web.marks import shows_personal_data
from dajiuzhu.web.requests import AuthedRequest

MAX_RETURNS_UPLOAD = bank.MAX_RETURN_BYTES


def _named(items) -> list:
    """The items with ``programme_name`` (the catalogue's name of their programme)."""
    names = catalogue.names()
    items = list(items)
    for item in items:
        item.programme_name = names.get(item.programme, item.programme)
    return items


@shows_personal_data("roster_list")
@staff_page
def rosters(request: AuthedRequest) -> HttpResponse:
    summary, error = None, ""
    if request.method == "POST":
        try:
            summary = services.roster_build(
                actor=request.user,
                month=request.POST.get("month", "")[:10],
                district=(request.POST.get("district") or "")[:6] or None,
            )
        except ServiceError as exc:
            error = exc.message
    month = (request.GET.get("month") or "")[:7] or selectors.latest_roster_month(user=request.user)
    if summary is not None:
        month = summary.month
    rows = _named(selectors.roster_list(user=request.user, month=month))
    return render(
        request,
        "payments/rosters.html",
        {
            "rows": rows,
            "month": month or "",
            "summary": summary,
            "error": error,
            "can_build": request.user.role in PREPARE_ROLES,
            "total": sum(r.total for r in rows),
            "lines": sum(r.lines for r in rows),
        },
    )


@shows_personal_data("roster")
@staff_page
def roster(request: AuthedRequest, roster_id: int) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            released = services.roster_release(actor=request.user, roster_id=roster_id)
        except ServiceError as exc:
            error = exc.message
        else:
            publish_roster(released.pk)
            messages.success(request, "名册已审核发放,正在写入数据湖供资金核查")
            return redirect("payments:roster", roster_id=roster_id)
    detail = selectors.roster_get(user=request.user, roster_id=roster_id)
    page = Paginator(detail.lines, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/roster.html",
        {
            "d": detail,
            "r": detail.roster,
            "page": page,
            "error": error,
            "name": catalogue.names().get(detail.roster.programme, detail.roster.programme),
            "can_release": request.user.role in RELEASE_ROLES
            and detail.roster.status == "prepared"
            and detail.roster.prepared_by_id != request.user.pk,
            "can_export": request.user.role in EXPORT_ROLES,
            "templates": bank.templates()[1].values(),
            "by_status": [
                (dict(PaymentStatus.choices).get(code, code), v)
                for code, v in detail.by_status.items()
            ],
        },
    )


@shows_personal_data("roster")
@require_GET
@staff_page
def roster_file(request: AuthedRequest, roster_id: int) -> HttpResponse:
    detail = selectors.roster_get(user=request.user, roster_id=roster_id)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    try:
        made = bank.bank_file(
            actor=request.user,
            month=detail.roster.month,
            template=(request.GET.get("template") or "")[:30] or None,
            fmt=fmt,
            roster_id=detail.roster.pk,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:roster", roster_id=roster_id)
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(made.content, content_type=types[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(made.file_name)}"
    response["Cache-Control"] = "no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@shows_personal_data("roster_list")
@staff_page
def returns(request: AuthedRequest) -> HttpResponse:
    summary, error = None, ""
    if request.method == "POST":
        try:
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError("payments.returns_file", "请选择银行退回文件")
            if (upload.size or 0) > MAX_RETURNS_UPLOAD:
                raise ServiceError("payments.returns_file", "退回文件超过20MB")
            content = upload.read()
            summary = services.returns_import(
                actor=request.user,
                rows=bank.read_returns(content, upload.name or "returns"),
                name=upload.name or "returns",
                digest=services.file_digest(content),
            )
        except ServiceError as exc:
            error = exc.message
    page = Paginator(selectors.returned_payments(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    page.object_list = _named(page.object_list)
    return render(
        request,
        "payments/returns.html",
        {
            "page": page,
            "summary": summary,
            "error": error,
            "can_act": request.user.role in PREPARE_ROLES,
        },
    )


@shows_personal_data("roster_list")
@require_POST
@staff_page
def repay(request: AuthedRequest) -> HttpResponse:
    try:
        payment = services.payment_repay_request(
            actor=request.user, payment_id=request.POST.get("payment_id", "")[:40]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已安排重新发放:下次编制{payment.month}名册时列入补发名册")
    return redirect("payments:returns")


@shows_personal_data("self")
@require_GET
@portal_page
def portal_payments(request: AuthedRequest) -> HttpResponse:
    if request.user.role != Role.RESIDENT:
        return render(request, "payments/portal.html", {"rows": [], "not_resident": True})
    rows = _named(selectors.my_payments(user=request.user)[:120])
    return render(request, "payments/portal.html", {"rows": rows})
