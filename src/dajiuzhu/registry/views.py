from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dajiuzhu.core.access import AccessDenied, NotFound
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry import selectors
from dajiuzhu.web.marks import shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


def _purpose(request: HttpRequest) -> str:
    purpose = request.GET.get("purpose") or Purpose.CASEWORK
    return purpose if purpose in Purpose.values else Purpose.CASEWORK


@shows_personal_data("household_list")
@login_required
def household_search(request: AuthedRequest) -> HttpResponse:
    """Search households. The query travels in a POST body: it may be an ID number."""
    query = request.POST.get("q", "")[:50] if request.method == "POST" else ""
    try:
        rows = selectors.household_search(user=request.user, query=query, purpose=Purpose.CASEWORK)
    except AccessDenied:
        return render(
            request,
            "web/error.html",
            {"title": "无权访问", "message": "您的角色无权查看家庭档案。"},
            status=403,
        )
    return render(request, "registry/household_search.html", {"rows": rows, "q": query})


@shows_personal_data("household")
@login_required
def household_detail(request: AuthedRequest, household_id: int) -> HttpResponse:
    try:
        f = selectors.household_file(
            user=request.user, household_id=household_id, purpose=_purpose(request)
        )
    except NotFound:
        raise Http404 from None
    except AccessDenied:
        return render(
            request,
            "web/error.html",
            {"title": "无权访问", "message": "您的角色无权查看家庭档案。"},
            status=403,
        )
    from dajiuzhu.web.household_links import household_links

    links = household_links(
        user=request.user,
        household=f.household,
        person_ids=[m.person_id for m in f.members],
        purpose=_purpose(request),
    )
    return render(
        request,
        "registry/household_detail.html",
        {"f": f, "purposes": Purpose.choices, "purpose": _purpose(request), "links": links},
    )
