from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.services import ServiceError
from dajiuzhu.registry import selectors as registry
from dajiuzhu.verification import selectors, services
from dajiuzhu.verification.render import STATUS
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.marks import shows_personal_data


def _default_month() -> str:
    """The latest month the wage data reach (else last month)."""
    from dajiuzhu.policy.inputs import latest_period

    first = timezone.localdate().replace(day=1)
    return latest_period("wages") or (first - timedelta(days=1)).strftime("%Y-%m")


@shows_personal_data("household_list")
@staff_page
def home(request: HttpRequest) -> HttpResponse:
    """Find the household to check (by 户号, name or ID number, sent in the body)."""
    query = request.POST.get("q", "")[:50] if request.method == "POST" else ""
    rows = (
        registry.household_search(user=request.user, query=query, purpose=Purpose.VERIFICATION)
        if query
        else []
    )
    return render(request, "verification/home.html", {"rows": rows, "q": query})


@shows_personal_data("household")
@staff_page
def household(request: HttpRequest, household_id: int) -> HttpResponse:
    """Members, their authorisations, past reports; record an authorisation; run a check."""
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "authorise":
        registry.household_get(user=user, household_id=household_id)
        try:
            services.authorisation_record(
                actor=user,
                person_id=int(request.POST.get("person") or 0),
                signed_on=date.fromisoformat(request.POST.get("signed_on", "")),
                expires_on=date.fromisoformat(request.POST.get("expires_on", "")),
                document_ref=request.POST.get("document_ref", "")[:60],
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        except ValueError:
            messages.error(request, "日期格式应为YYYY-MM-DD")
        else:
            messages.success(request, "授权书已登记")
        return redirect("verification:household", household_id=household_id)
    if request.method == "POST" and request.POST.get("action") == "check":
        try:
            report = services.verify(
                actor=user,
                household_id=household_id,
                month=request.POST.get("month", "")[:7],
                purpose=request.POST.get("purpose", Purpose.VERIFICATION),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("verification:household", household_id=household_id)
        return redirect("verification:report", report_id=report.pk)
    f = registry.household_file(user=user, household_id=household_id, purpose=Purpose.VERIFICATION)
    auths = selectors.authorisations_for(user=user, household=f.household)
    today = timezone.localdate()
    valid = {
        a.person_id for a in auths if a.revoked_at is None and a.signed_on <= today <= a.expires_on
    }
    return render(
        request,
        "verification/household.html",
        {
            "f": f,
            "auths": auths,
            "valid": valid,
            "month": _default_month(),
            "reports": selectors.reports_for(user=user, household=f.household),
            "today": today.isoformat(),
            "expires": (today + timedelta(days=365)).isoformat(),
            "purposes": [
                (Purpose.VERIFICATION, Purpose.VERIFICATION.label),
                (Purpose.CASEWORK, Purpose.CASEWORK.label),
                (Purpose.SUPERVISION, Purpose.SUPERVISION.label),
            ],
        },
    )


@shows_personal_data("report")
@staff_page
def report(request: HttpRequest, report_id: int) -> HttpResponse:
    r = selectors.report_get(user=request.user, report_id=report_id, purpose=Purpose.VERIFICATION)
    labels = selectors.member_labels(user=request.user, report=r)
    data = r.report
    members = [
        {
            **m,
            **labels.get(m["person_id"], {"name": "?", "id_number": ""}),
            "relation_label": selectors.RELATIONS.get(m["relation"], m["relation"]),
        }
        for m in data["members"]
    ]
    names = {str(m["person_id"]): m["name"] for m in members}
    programmes = [
        {**p, "who": "全户" if p["subject"] == "household" else names.get(p["subject"], "")}
        for p in data["explanation"]["programmes"]
    ]
    rules = [
        {**x, "who": "全户" if x["subject"] == "household" else names.get(x["subject"], "")}
        for x in data["explanation"]["rules"]
    ]
    return render(
        request,
        "verification/report.html",
        {
            "r": r,
            "data": data,
            "members": members,
            "programmes": programmes,
            "rules": rules,
            "status": STATUS,
        },
    )
