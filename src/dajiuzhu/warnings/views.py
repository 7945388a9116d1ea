"""Pages of early warning: the town/district queue, a warning's page, the grid worker's mobile
task list, the statistics dashboard and its XLSX export. Thin: parse, call, render."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.warnings import charts, exports, selectors, services
from dajiuzhu.warnings.models import Outcome, Rule, Status
from dajiuzhu.warnings.programmes import programmes
from dajiuzhu.web.actions import post_action
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


@shows_personal_data("warning_list")
@require_GET
@staff_page
def queue(request: AuthedRequest) -> HttpResponse:
    """The town's (or district's) queue with filters by rule, status, age and community."""
    user = request.user
    filters = selectors.QueueFilters.parse(request.GET)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    size = 50
    rows, total = selectors.warning_list(
        user=user, filters=filters, limit=size, offset=(page - 1) * size
    )
    query = {k: str(v) for k, v in request.GET.items() if k != "page"}
    return render(
        request,
        "warnings/queue.html",
        {
            "rows": rows,
            "total": total,
            "f": filters,
            "page": page,
            "pages": max(1, -(-total // size)),
            "query": urlencode(query),
            "rules": Rule.choices,
            "statuses": [*Status.choices, ("open", "待核查(含已派发)"), ("overdue", "已逾期")],
            "ages": selectors.AGE_LABELS.items(),
            "communities": selectors.communities(user),
            "tab": "queue",
        },
    )


@shows_personal_data("warning_list")
@require_GET
@staff_page
def tasks(request: AuthedRequest) -> HttpResponse:
    """The grid worker's task list (mobile): visit, then record the outcome with notes."""
    cards = selectors.task_list(user=request.user)
    return render(
        request,
        "warnings/tasks.html",
        {
            "cards": cards,
            "outcomes": Outcome.choices,
            "programmes": sorted(programmes().items()),
            "tab": "tasks",
        },
    )


@shows_personal_data("warning")
@require_GET
@staff_page
def detail(request: AuthedRequest, warning_id: int) -> HttpResponse:
    d = selectors.warning_detail(user=request.user, warning_id=warning_id)
    chart = ""
    if d.monthly:
        chart = mark_safe(charts.monthly_chart(d.monthly, d.warning.year))  # noqa: S308 (our SVG)
    return render(
        request,
        "warnings/detail.html",
        {
            "d": d,
            "w": d.warning,
            "chart": chart,
            "outcomes": Outcome.choices,
            "programmes": sorted(programmes().items()),
            "programme_name": programmes().get(d.warning.programme_code, ""),
            "tab": "queue",
        },
    )


def _back(request: HttpRequest, warning_id: int) -> HttpResponse:
    if request.POST.get("next") == "tasks":
        return redirect(reverse("warnings:tasks") + f"#w{warning_id}")
    return redirect("warnings:detail", warning_id=warning_id)


def _act(
    request: AuthedRequest, warning_id: int, write: Callable[[], object], done: str
) -> HttpResponse:
    """One action on a warning: its scope is checked first, then the service writes; a refusal
    becomes the page's message and the form goes back to the warning."""
    selectors.warning_get(user=request.user, warning_id=warning_id)  # scope first
    return post_action(
        request, write, done=done, back=lambda: _back(request, warning_id), refusals=(ServiceError,)
    )


@shows_personal_data("warning")
@require_POST
@staff_page
def assign(request: AuthedRequest, warning_id: int) -> HttpResponse:
    try:
        assignee = int(request.POST.get("assignee") or 0)
    except ValueError:
        assignee = 0
    return _act(
        request,
        warning_id,
        lambda: services.warning_assign(
            actor=request.user, warning_id=warning_id, assignee_id=assignee
        ),
        "已派发,核查期限不变",
    )


@shows_personal_data("warning")
@require_POST
@staff_page
def outcome(request: AuthedRequest, warning_id: int) -> HttpResponse:
    return _act(
        request,
        warning_id,
        lambda: services.warning_record_outcome(
            actor=request.user,
            warning_id=warning_id,
            outcome=request.POST.get("outcome", "")[:30],
            programme_code=request.POST.get("programme_code", "")[:30],
            notes=request.POST.get("notes", "")[: services.MAX_NOTES + 1],
        ),
        "核查结果已登记",
    )


@shows_personal_data("warning")
@require_POST
@staff_page
def close(request: AuthedRequest, warning_id: int) -> HttpResponse:
    return _act(
        request,
        warning_id,
        lambda: services.warning_close(actor=request.user, warning_id=warning_id),
        "预警已办结",
    )


def _year(request: AuthedRequest) -> int | None:
    """The year asked for; by default the latest year that has warnings (else this year)."""
    value = (request.GET.get("year") or "").strip()
    if value == "all":
        return None
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return selectors.latest_year(user=request.user) or timezone.localdate().year


@no_personal_data
@require_GET
@staff_page
def stats(request: AuthedRequest) -> HttpResponse:
    """Dashboard: per rule, town and month; precision per rule."""
    year = _year(request)
    rule = (request.GET.get("rule") or "").upper()
    s = selectors.warning_stats(user=request.user, year=year, rule=rule)
    this_year = timezone.localdate().year
    years = sorted({*range(this_year, this_year - 6, -1), *([year] if year else [])}, reverse=True)
    return render(
        request,
        "warnings/stats.html",
        {
            "s": s,
            "year": year,
            "rule": rule,
            "rules": Rule.choices,
            "years": years,
            "rule_chart": mark_safe(charts.rule_chart(s.by_rule)),  # noqa: S308 (our SVG)
            "month_chart": mark_safe(charts.month_chart(s.by_month_rule)),  # noqa: S308
            "precision_chart": mark_safe(charts.precision_chart(s.by_rule))  # noqa: S308
            if s.total.investigated
            else "",
            "xlsx_query": urlencode({"year": year or "all", "rule": rule}),
            "outcomes": [(label, s.outcomes[code]) for code, label in Outcome.choices],
            "tab": "stats",
        },
    )


@no_personal_data
@require_GET
@staff_page
def stats_xlsx(request: AuthedRequest) -> HttpResponse:
    year = _year(request)
    rule = (request.GET.get("rule") or "").upper()
    s = selectors.warning_stats(user=request.user, year=year, rule=rule)
    response = HttpResponse(
        exports.stats_xlsx(s),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"warnings-stats-{year or 'all'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
