"""Pages of the care centre: the 24-hour console (live through server-sent events), an alarm
with the person's file, the maintenance list, the device registry, the grid worker's visits on
the phone, and the person's care file with the plan. Thin: parse, call, render.

The live stream is a plain streaming response that lives ``CARE_STREAM_SECONDS`` and ends; the
browser's EventSource reconnects by itself with ``Last-Event-ID``, so nothing is missed. That
works under the current gunicorn (threaded WSGI) server, where each open stream holds one thread
for that while — see docs/care.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dajiuzhu.care import access, charts, figures, population, selectors, services
from dajiuzhu.care.models import ClosureCode, DeviceKind, Outcome
from dajiuzhu.core.access import NotFound, require_role
from dajiuzhu.core.roles import REGISTRY_READ_ROLES, Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.web.actions import post_action
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest

KEEP_ALIVE_SECONDS = 10


def _open_context(request: AuthedRequest) -> dict:
    user = request.user
    now = timezone.now()
    alarms = list(selectors.alarms_open(user=user))
    for a in alarms:
        a.overdue = selectors.overdue(a, now)
    return {
        "alarms": alarms,
        "escalated": selectors.escalated_to_me(user=user, now=now),
        "escalation_reason": access.escalation_reason(user),
        "can_answer": user.role in access.ANSWER_ROLES,
    }


@shows_personal_data("care_alarm_list")
@require_GET
@staff_page
def console(request: AuthedRequest) -> HttpResponse:
    """The operators' console: open people's alarms, live; figures of the day."""
    user = request.user
    context = _open_context(request)
    return render(
        request,
        "care/console.html",
        {
            **context,
            "last_id": selectors.alarm_last_id(user=user),
            "closed": selectors.alarms_recent_closed(user=user),
            "f": selectors.figures(user=user, day=timezone.localdate()),
            "tab": "console",
        },
    )


@shows_personal_data("care_alarm_list")
@require_GET
@staff_page
def open_alarms(request: AuthedRequest) -> HttpResponse:
    """The open alarms (the console re-fetches this fragment when the stream says so)."""
    return render(request, "care/_open.html", _open_context(request))


@shows_personal_data("care_alarm_list")
@require_GET
@staff_page
def stream(request: AuthedRequest) -> StreamingHttpResponse:
    """Server-sent events: ``alarm`` for every new people's alarm in the user's scope."""
    user = request.user
    selectors.alarm_last_id(user=user)  # the role check, before the stream starts
    try:
        last = int(request.headers.get("Last-Event-ID") or request.GET.get("after") or 0)
    except ValueError:
        last = 0
    seconds, poll = settings.CARE_STREAM_SECONDS, settings.CARE_STREAM_POLL_SECONDS

    def events() -> Iterator[str]:
        nonlocal last
        yield "retry: 2000\n\n"
        deadline = time.monotonic() + seconds
        # Escalations falling due from a little before this connection (the browser's
        # reconnect gap) are announced once each; older ones are on the list already.
        checked = timezone.now() - timedelta(seconds=5)
        quiet_since = time.monotonic()
        while True:
            for alarm in selectors.alarms_after(user=user, after_id=last):
                last = alarm.pk
                card = render_to_string("care/_event.html", {"a": alarm})
                data = "".join(f"data: {line}\n" for line in card.strip().splitlines())
                yield f"id: {alarm.pk}\nevent: alarm\n{data}\n"
            now = timezone.now()
            for alarm in selectors.escalations_due_between(user=user, since=checked, until=now):
                yield f"event: escalation\ndata: {alarm.pk}\n\n"
            checked = now
            if time.monotonic() >= deadline:
                return
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:  # for proxies in between
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            time.sleep(poll)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@shows_personal_data("care_alarm")
@require_GET
@staff_page
def alarm_detail(request: AuthedRequest, alarm_id: int) -> HttpResponse:
    user = request.user
    alarm = selectors.alarm_get(user=user, alarm_id=alarm_id)
    alarm.overdue = selectors.overdue(alarm)
    file = selectors.person_file(user=user, person_id=alarm.person_id, purpose=Purpose.CARE)
    return render(
        request,
        "care/alarm.html",
        {
            "a": alarm,
            "escalation_targets": selectors.escalation_targets(alarm)
            if alarm.overdue or alarm.escalated
            else [],
            "file": file,
            "outcomes": Outcome.choices,
            "closures": ClosureCode.choices,
            "can_answer": user.role in access.ANSWER_ROLES,
            "tab": "maintenance" if alarm.technical else "console",
        },
    )


def _act(request: AuthedRequest, alarm_id: int, write: Callable[[], object], done: str):
    selectors.alarm_get(user=request.user, alarm_id=alarm_id)  # scope first
    return post_action(
        request,
        write,
        done=done,
        back=lambda: redirect("care:alarm", alarm_id=alarm_id),
        refusals=(ServiceError,),
    )


@shows_personal_data("care_alarm")
@require_POST
@staff_page
def accept(request: AuthedRequest, alarm_id: int) -> HttpResponse:
    return _act(
        request,
        alarm_id,
        lambda: services.alarm_accept(actor=request.user, alarm_id=alarm_id),
        "已接警,请立即回拨对象或联系人",
    )


@shows_personal_data("care_alarm")
@require_POST
@staff_page
def outcome(request: AuthedRequest, alarm_id: int) -> HttpResponse:
    return _act(
        request,
        alarm_id,
        lambda: services.alarm_record_outcome(
            actor=request.user,
            alarm_id=alarm_id,
            outcome=request.POST.get("outcome", "")[:12],
            note=request.POST.get("note", "")[: services.MAX_NOTE + 1],
        ),
        "处置结果已记录",
    )


@shows_personal_data("care_alarm")
@require_POST
@staff_page
def close(request: AuthedRequest, alarm_id: int) -> HttpResponse:
    return _act(
        request,
        alarm_id,
        lambda: services.alarm_close(
            actor=request.user,
            alarm_id=alarm_id,
            closure_code=request.POST.get("closure_code", "")[:12],
        ),
        "报警已关闭",
    )


@shows_personal_data("care_alarm_list")
@require_GET
@staff_page
def maintenance(request: AuthedRequest) -> HttpResponse:
    """Technical alarms (offline, low battery) and the rejected messages per reason."""
    user = request.user
    require_role(user, {Role.CALL_OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.CASEWORKER})
    counts = (
        selectors.rejection_counts(user=user)
        if user.role in (Role.CALL_OPERATOR, Role.SUPERVISOR, Role.ADMIN)
        else []
    )
    return render(
        request,
        "care/maintenance.html",
        {
            "alarms": selectors.alarms_open(user=user, technical=True)[:200],
            "counts": counts,
            "can_answer": user.role in access.ANSWER_ROLES,
            "tab": "maintenance",
        },
    )


def _register_device(request: AuthedRequest) -> bool:
    """Register the posted device; False (with the message shown on the page) when refused."""
    post = request.POST
    try:
        installed = date.fromisoformat(post.get("installed_at", ""))
    except ValueError:
        messages.error(request, "请填写安装日期(YYYY-MM-DD)")
        return False
    try:
        services.device_register(
            actor=request.user,
            device_id=post.get("device_id", "")[:64],
            kind=post.get("kind", "")[:10],
            id_number=post.get("id_number", "")[:20],
            installed_at=installed,
            status=post.get("status", "active")[:8],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, "设备已登记")
    return True


@shows_personal_data("care_alarm_list")
@require_http_methods(["GET", "POST"])
@staff_page
def devices(request: AuthedRequest) -> HttpResponse:
    """The device registry of the user's jurisdiction; a form registers (or updates) one."""
    user = request.user
    selectors.devices_list(user=user, limit=0)  # the role check first
    if request.method == "POST" and _register_device(request):
        return redirect("care:devices")
    return render(
        request,
        "care/devices.html",
        {
            "devices": selectors.devices_list(user=user),
            "kinds": DeviceKind.choices,
            "can_register": user.role in access.DEVICE_ROLES,
            "tab": "devices",
        },
    )


@shows_personal_data("care_alarm_list")
@require_GET
@staff_page
def visits(request: AuthedRequest) -> HttpResponse:
    """The grid worker's visits (phone): dispatched for alarms, or due by the plan."""
    return render(
        request,
        "care/visits.html",
        {"visits": selectors.my_visits(user=request.user), "tab": "visits"},
    )


@shows_personal_data("care_visit")
@require_POST
@staff_page
def arrive(request: AuthedRequest, visit_id: int) -> HttpResponse:
    try:
        services.visit_record_arrival(
            actor=request.user,
            visit_id=visit_id,
            findings=request.POST.get("findings", "")[: services.MAX_NOTE + 1],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已记录到达和现场情况")
    return redirect("care:visits")


@shows_personal_data("care_person")
@require_GET
@staff_page
def person(request: AuthedRequest, person_id: int) -> HttpResponse:
    """The person's care file (一户一档的一策): plan, contacts, devices, device history."""
    user = request.user
    file = selectors.person_file(user=user, person_id=person_id, purpose=Purpose.CARE)
    return render(
        request,
        "care/person.html",
        {
            "file": file,
            "versions": selectors.plan_versions(user=user, person_id=person_id),
            "workers": selectors.grid_workers(division_code=services.person_division(file.person)),
            "can_edit": user.role in access.PLAN_WRITE_ROLES,
            "tab": "devices",
        },
    )


@shows_personal_data("care_person")
@require_POST
@staff_page
def away(request: AuthedRequest, person_id: int) -> HttpResponse:
    """A caseworker sets or clears the person's away flag (the inactivity rules are silent)."""
    file = selectors.person_file(user=request.user, person_id=person_id, purpose=Purpose.CARE)
    on = request.POST.get("away") == "on"
    services.away_set(actor=request.user, person=file.person, away=on)
    messages.success(request, "已设为外出" if on else "已取消外出")
    return redirect("care:person", person_id=person_id)


def _days(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and 1 <= int(value) <= 366 else None


@shows_personal_data("care_person")
@require_POST
@staff_page
def plan(request: AuthedRequest, person_id: int) -> HttpResponse:
    user = request.user
    file = selectors.person_file(user=user, person_id=person_id, purpose=Purpose.CARE)
    post = request.POST
    try:
        review = date.fromisoformat(post.get("review_date", ""))
    except ValueError:
        messages.error(request, "请填写复核日期(YYYY-MM-DD)")
        return redirect("care:person", person_id=person_id)
    worker = None
    if post.get("grid_worker"):
        workers = selectors.grid_workers(division_code=services.person_division(file.person))
        worker = next((w for w in workers if str(w.pk) == post["grid_worker"]), None)
        if worker is None:
            raise NotFound
    contacts = [
        {"name": n.strip()[:30], "relation": r.strip()[:20], "phone": p.strip()[:20]}
        for n, r, p in zip(
            post.getlist("contact_name"),
            post.getlist("contact_relation"),
            post.getlist("contact_phone"),
            strict=False,
        )
        if n.strip()
    ]
    hours = post.get("inactivity_hours", "").strip()
    try:
        services.plan_save(
            actor=user,
            person=file.person,
            services=[s[:30] for s in post.getlist("services")][:20],
            visit_every_days=_days(post.get("visit_every_days", "")),
            visit_schedule=post.get("visit_schedule", "")[:200],
            review_date=review,
            grid_worker=worker,
            contacts=contacts[:5],
            inactivity_hours=int(hours) if hours.isdigit() else None,
            note=post.get("note", "")[: services.MAX_NOTE],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "关爱计划已保存为新版本")
    return redirect("care:person", person_id=person_id)


def _figures_range(request: HttpRequest) -> tuple[date, date, str]:
    """The local days of the figures: ``?from=…&to=…`` (default the last 7 days)."""
    today = timezone.localdate()
    start, end, error = today - timedelta(days=6), today, ""
    try:
        if request.GET.get("from"):
            start = date.fromisoformat(request.GET["from"][:10])
        if request.GET.get("to"):
            end = date.fromisoformat(request.GET["to"][:10])
    except ValueError:
        return today - timedelta(days=6), today, "日期格式应为 YYYY-MM-DD,已显示最近 7 天"
    if end < start:
        start, end, error = end, start, "起止日期已对调"
    if (end - start).days + 1 > figures.MAX_DAYS:
        start = end - timedelta(days=figures.MAX_DAYS - 1)
        error = f"最多统计 {figures.MAX_DAYS} 天,已从 {start.isoformat()} 起统计"
    return start, end, error


@no_personal_data
@require_GET
@staff_page
def figures_page(request: AuthedRequest) -> HttpResponse:
    """The alarm-receiving figures per day, shift and operator, with charts and XLSX."""
    start, end, error = _figures_range(request)
    f = figures.alarm_figures(user=request.user, start=start, end=end)
    if error:
        messages.warning(request, error)
    return render(
        request,
        "care/figures.html",
        {
            "f": f,
            "day_chart": mark_safe(charts.shares_chart(f.by_day, "按日接警及时率")),  # noqa: S308
            "shift_chart": mark_safe(charts.shares_chart(f.by_shift, "按班次接警及时率")),  # noqa: S308
            "operator_chart": mark_safe(  # noqa: S308 (our SVG)
                charts.answer_chart(f.by_operator, "各坐席接警时间(秒)")
            ),
            "query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
            "tab": "figures",
        },
    )


@no_personal_data
@require_GET
@staff_page
def figures_xlsx(request: AuthedRequest) -> HttpResponse:
    start, end, _error = _figures_range(request)
    f = figures.alarm_figures(user=request.user, start=start, end=end)
    response = HttpResponse(
        figures.figures_xlsx(f),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"care-figures-{start.isoformat()}-{end.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@shows_personal_data("care_alarm_list")  # a scoped list: empty outside the scope
@require_GET
@staff_page
def population_list(request: AuthedRequest) -> HttpResponse:
    """The special-hardship population per town and community, with each person's plan."""
    get = request.GET
    filters = {
        "town": get.get("town", "")[:15].strip(),
        "community": get.get("community", "")[:15].strip(),
        "category": get.get("category", "")[:24],
        "plan_status": get.get("plan_status", "")[:12],
        "name": get.get("name", "")[:50].strip(),
    }
    if filters["community"] and not filters["community"].startswith(filters["town"] or "-"):
        filters["community"] = ""
    p = population.population_page(
        user=request.user, purpose=Purpose.CARE, page=get.get("page"), **filters
    )
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "care/population.html",
        {
            "p": p,
            "filters": filters,
            "categories": [(c.value, c.label) for c in population.CARE_CATEGORIES],
            "statuses": population.PLAN_STATUSES,
            "query": urlencode(query),
            "can_open_household": request.user.role in REGISTRY_READ_ROLES,
            "tab": "population",
        },
    )
