from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dajiuzhu.core.access import AccessDenied, NotFound, is_admin, is_city_wide
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Department
from dajiuzhu.core.roles import Role
from dajiuzhu.exchange import charts, exports, selectors, services
from dajiuzhu.exchange.contracts import (
    CYCLE_LABELS,
    PURPOSE_LABELS,
    TYPE_LABELS,
    ContractError,
    get_contract,
)
from dajiuzhu.exchange.sources import SourceError
from dajiuzhu.web.decorators import denied, staff_page
from dajiuzhu.web.forms import posted_id
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


def _departments() -> dict[str, str]:
    return dict(Department.objects.values_list("code", "name"))


@no_personal_data
@staff_page
def contracts(request: AuthedRequest) -> HttpResponse:
    names = _departments()
    items = [
        {
            "c": c,
            "owner": names.get(c.owner, c.owner),
            "cycle": CYCLE_LABELS[c.cycle],
            "purposes": [PURPOSE_LABELS[p] for p in c.purposes],
        }
        for c in selectors.contract_list()
    ]
    return render(request, "exchange/contracts.html", {"items": items})


@no_personal_data
@staff_page
def contract_detail(request: AuthedRequest, dataset: str) -> HttpResponse:
    try:
        contract = get_contract(dataset)
    except ContractError:
        raise Http404 from None
    fields = [
        {"f": f, "type": TYPE_LABELS[f.type], "key": f.name in contract.natural_key}
        for f in contract.fields
    ]
    purposes = [
        {"label": PURPOSE_LABELS[p], "fields": ", ".join(v)} for p, v in contract.purposes.items()
    ]
    agreements = [a for a in selectors.agreement_list(user=request.user) if a.dataset == dataset]
    return render(
        request,
        "exchange/contract_detail.html",
        {
            "c": contract,
            "owner": _departments().get(contract.owner, contract.owner),
            "cycle": CYCLE_LABELS[contract.cycle],
            "fields": fields,
            "purposes": purposes,
            "agreements": agreements,
        },
    )


@no_personal_data
@staff_page
def batches(request: AuthedRequest) -> HttpResponse:
    """A department's deliveries; stewards upload files here."""
    user = request.user
    if request.method == "POST":
        upload = request.FILES.get("file")
        dataset = request.POST.get("dataset", "")[:40]
        if upload is None:
            messages.error(request, "请选择要上传的文件")
        else:
            try:
                batch = services.batch_queue_upload(
                    actor=user, token=None, dataset=dataset, upload=upload
                )
            except (ServiceError, SourceError, AccessDenied) as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"文件已接收(批次{batch.pk}),正在后台校验入库")
                return redirect("exchange:batch_detail", batch_id=batch.pk)
    datasets = [
        c for c in selectors.contract_list() if is_admin(user) or c.owner == user.department_id
    ]
    rows = selectors.batch_list(user=user, dataset=request.GET.get("dataset") or None)
    return render(
        request,
        "exchange/batches.html",
        {
            "batches": rows,
            "datasets": datasets,
            "can_upload": is_admin(user) or (user.role == Role.DATA_STEWARD and is_city_wide(user)),
            "can_open": selectors.can_open_batches(user),
            "titles": {c.dataset: c.title for c in selectors.contract_list()},
        },
    )


@shows_personal_data("batch")
@staff_page
def batch_detail(request: AuthedRequest, batch_id: int) -> HttpResponse:
    batch = selectors.batch_get(user=request.user, batch_id=batch_id)
    contract = get_contract(batch.dataset)
    can_act = is_admin(request.user) or (
        request.user.role == Role.DATA_STEWARD
        and request.user.department_id == batch.department_id
        and is_city_wide(request.user)
    )
    # Supervisors and auditors see the batch and its problem counts, not its quarantine.
    sample = (
        selectors.quarantine_rows(user=request.user, batch_id=batch.pk, with_values=False, limit=50)
        if batch.rejected and can_act
        else []
    )
    return render(
        request,
        "exchange/batch_detail.html",
        {
            "b": batch,
            "contract": contract,
            "summary": selectors.quarantine_summary(batch),
            "sample": sample,
            "can_act": can_act,
        },
    )


@shows_personal_data("batch")
@staff_page
def quarantine_download(request: AuthedRequest, batch_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("xlsx", "csv"):
        raise Http404
    batch = selectors.batch_get(user=request.user, batch_id=batch_id)
    rows = selectors.quarantine_rows(user=request.user, batch_id=batch.pk, with_values=True)
    contract = get_contract(batch.dataset)
    if fmt == "xlsx":
        body = exports.quarantine_xlsx(contract, rows)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = exports.quarantine_csv(contract, rows)
        ctype = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="quarantine-{batch.pk}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@shows_personal_data("batch")
@require_POST
@staff_page
def batch_resubmit(request: AuthedRequest, batch_id: int) -> HttpResponse:
    selectors.batch_get(user=request.user, batch_id=batch_id)  # scope first
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择更正后的文件")
        return redirect("exchange:batch_detail", batch_id=batch_id)
    try:
        batch = services.quarantine_resubmit(actor=request.user, batch_id=batch_id, upload=upload)
    except (ServiceError, SourceError) as exc:
        messages.error(request, exc.message)
        return redirect("exchange:batch_detail", batch_id=batch_id)
    messages.success(request, f"更正数据已接收(批次{batch.pk})")
    return redirect("exchange:batch_detail", batch_id=batch.pk)


@shows_personal_data("batch")
@require_POST
@staff_page
def batch_retract(request: AuthedRequest, batch_id: int) -> HttpResponse:
    try:
        services.batch_retract(
            actor=request.user, batch_id=batch_id, reason=request.POST.get("reason", "")[:500]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "批次已撤回,不再参与任何数据读取")
    return redirect("exchange:batch_detail", batch_id=batch_id)


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


@no_personal_data
@staff_page
def quality(request: AuthedRequest) -> HttpResponse:
    """Quality of a department's datasets (stewards: their own; supervisors: any)."""
    user = request.user
    department = request.GET.get("department") or None
    if user.role == Role.DATA_STEWARD:
        department = user.department_id
    rows = selectors.quality_overview(user=user, department=department)
    dataset = request.GET.get("dataset") or (rows[0].dataset if rows else None)
    chart = ""
    if dataset:
        points = selectors.quality_series(user=user, dataset=dataset, department=department)
        title = next((r.title for r in rows if r.dataset == dataset), dataset)
        chart = mark_safe(charts.quality_chart(points, f"{title} 数据质量(按批次)"))  # noqa: S308 (our own SVG)
    return render(
        request,
        "exchange/quality.html",
        {
            "rows": rows,
            "dataset": dataset,
            "chart": chart,
            "department": department,
            "departments": _departments(),
            "pct": _pct,
            "can_pick": user.role != Role.DATA_STEWARD,
        },
    )


@no_personal_data
@staff_page
def quality_city(request: AuthedRequest) -> HttpResponse:
    """City overview for supervisors: every dataset, its latest figures, what is overdue."""
    if not is_admin(request.user) and request.user.role not in (Role.SUPERVISOR, Role.AUDITOR):
        return denied(request, "仅监督人员和管理员可以查看全市数据质量总览。")
    rows = selectors.quality_overview(user=request.user)
    chart = mark_safe(charts.overview_chart(rows, "各数据集最新批次质量"))  # noqa: S308 (our own SVG)
    return render(
        request,
        "exchange/quality_city.html",
        {
            "rows": rows,
            "chart": chart,
            "departments": _departments(),
            "overdue": [r for r in rows if r.overdue],
        },
    )


@no_personal_data
@staff_page
def agreements(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        if not is_admin(user):
            return denied(request, "仅市级系统管理员可以签订或撤销共享协议。")
        if request.POST.get("action") == "revoke":
            _agreement_revoke(request)
        else:
            _agreement_create(request)
        return redirect("exchange:agreements")
    return render(
        request,
        "exchange/agreements.html",
        {
            "agreements": selectors.agreement_list(user=user),
            "departments": _departments(),
            "contracts": selectors.contract_list(),
            "purposes": PURPOSE_LABELS,
            "is_admin": is_admin(user),
        },
    )


AGREEMENT_NOT_FOUND = "未找到该共享协议:编号不存在,请刷新页面后重试"


def _agreement_revoke(request: AuthedRequest) -> None:
    agreement_id = posted_id(request, "agreement_id")
    if agreement_id is None:
        messages.error(request, AGREEMENT_NOT_FOUND)
        return
    try:
        services.agreement_revoke(actor=request.user, agreement_id=agreement_id)
    except NotFound:
        messages.error(request, AGREEMENT_NOT_FOUND)
    else:
        messages.success(request, "协议已撤销")


def _agreement_create(request: AuthedRequest) -> None:
    post = request.POST
    try:
        valid_from = _date(post.get("valid_from"), "生效日期")
        valid_to = _date(post.get("valid_to"), "失效日期")
        services.agreement_create(
            actor=request.user,
            consumer_code=post.get("consumer", "")[:30],
            dataset=post.get("dataset", "")[:40],
            purpose=post.get("purpose", "")[:20],
            fields=[
                f.strip()[:40] for v in post.getlist("fields") for f in v.split(",") if f.strip()
            ][:50],
            scope=post.get("scope", "")[:200],
            legal_basis=post.get("legal_basis", "")[:200],
            valid_from=valid_from,
            valid_to=valid_to,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "共享协议已生效")


def _date(value: str | None, label: str) -> date | None:
    value = (value or "").strip()[:10]
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError("date.format", f"{label}格式应为YYYY-MM-DD", field="date") from None
