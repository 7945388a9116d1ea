from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.pdf import PdfUnavailable, render_pdf
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry import selectors as registry
from dajiuzhu.verification import selectors, services, wording
from dajiuzhu.verification.render import STATUS
from dajiuzhu.web.decorators import staff_page
from dajiuzhu.web.forms import posted_id
from dajiuzhu.web.marks import shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


def _default_month() -> str:
    """The latest month the wage data reach (else last month)."""
    from dajiuzhu.policy.inputs import latest_period

    first = timezone.localdate().replace(day=1)
    return latest_period("wages") or (first - timedelta(days=1)).strftime("%Y-%m")


def _latest_month() -> str:
    from dajiuzhu.policy.inputs import latest_period

    return latest_period("wages") or ""


@shows_personal_data("household_list")
@staff_page
def home(request: AuthedRequest) -> HttpResponse:
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
def household(request: AuthedRequest, household_id: int) -> HttpResponse:
    """Members, their authorisations, past reports; record an authorisation; run a check."""
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "authorise":
        _authorise(request, registry.household_get(user=user, household_id=household_id))
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
            "latest": _latest_month(),
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


def _authorise(request: AuthedRequest, household) -> None:
    """Record a member's authorisation from the form; a person who is not a current member of
    this household (a missing or foreign id) or a bad date gets a message."""
    person_id = posted_id(request, "person")
    current = household.memberships.filter(end_date__isnull=True)
    if person_id is None or not current.filter(person_id=person_id).exists():
        messages.error(request, "请选择本户的家庭成员")
        return
    try:
        signed_on = date.fromisoformat(request.POST.get("signed_on", "")[:10])
        expires_on = date.fromisoformat(request.POST.get("expires_on", "")[:10])
    except ValueError:
        messages.error(request, "签署日期和有效期至的格式应为YYYY-MM-DD")
        return
    try:
        services.authorisation_record(
            actor=request.user,
            person_id=person_id,
            signed_on=signed_on,
            expires_on=expires_on,
            document_ref=request.POST.get("document_ref", "")[:60],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "授权书已登记")


def _report_context(request: AuthedRequest, report_id: int) -> dict:
    """The report with every figure as words: names, conditions, disabilities, local times."""
    r = selectors.report_get(user=request.user, report_id=report_id, purpose=Purpose.VERIFICATION)
    labels = selectors.member_labels(user=request.user, report=r)
    data = r.report
    members = [
        {
            **m,
            **labels.get(m["person_id"], {"name": "?", "id_number": ""}),
            "relation_label": selectors.RELATIONS.get(m["relation"], m["relation"]),
            "disability": wording.disability(
                m["inputs"]["disability_grade"], m["inputs"]["disability_kind"]
            ),
        }
        for m in data["members"]
    ]
    names = {str(m["person_id"]): m["name"] for m in members}

    def who(subject: str) -> str:
        return "全户" if subject == "household" else names.get(subject, "")

    def worded(c: dict) -> dict:
        return {
            **c,
            "mark": wording.held_mark(c),
            "figures": wording.condition_figures(c),
            "any_of": [worded(a) for a in c.get("any_of", [])],
        }

    def step(s: dict, subject: str) -> dict:
        label = s["label_zh"]
        for pid, name in names.items():  # the income steps name members by their row id
            if label.startswith(f"{pid} "):
                label = name + label[len(pid) :]
        value = s["value"]
        if isinstance(value, float):
            value = f"{value:,.2f}"
        return {**s, "label_zh": label, "value": value}

    programmes = [
        {
            **p,
            "who": who(p["subject"]),
            "rate_pct": f"{p['rate'] * 100:g}" if p.get("rate") else "",
        }
        for p in data["explanation"]["programmes"]
    ]
    rules = [
        {
            **x,
            "who": who(x["subject"]),
            "value_text": f"{x['value']:,.2f}"
            if isinstance(x.get("value"), float)
            else x.get("value"),
            "conditions": [worded(c) for c in x["conditions"]],
            "steps": [step(s, x["subject"]) for s in x["steps"]],
        }
        for x in data["explanation"]["rules"]
    ]
    sources = [
        {
            **s,
            "status_label": STATUS.get(s["status"], s["status"]),
            "shown_batches": [
                {"id": b["id"], "received": wording.local_time(b["received_at"])}
                for b in s["batches"][:3]
            ],
        }
        for s in data["sources"]
    ]
    return {
        "r": r,
        "data": data,
        "members": members,
        "programmes": programmes,
        "rules": rules,
        "sources": sources,
        "gaps": data.get("gaps", []),
        "purpose_label": Purpose(data["purpose"]).label
        if data.get("purpose") in Purpose.values
        else data.get("purpose", ""),
    }


@shows_personal_data("report")
@staff_page
def report(request: AuthedRequest, report_id: int) -> HttpResponse:
    return render(request, "verification/report.html", _report_context(request, report_id))


@shows_personal_data("report")
@staff_page
def report_pdf(request: AuthedRequest, report_id: int) -> HttpResponse:
    """The report as a PDF (the same content as the page)."""
    context = _report_context(request, report_id)
    try:
        body = render_pdf("verification/report_pdf.html", context)
    except PdfUnavailable as exc:
        messages.error(request, exc.message)
        return redirect("verification:report", report_id=report_id)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="report-{context["r"].pk}.pdf"'
    return response
