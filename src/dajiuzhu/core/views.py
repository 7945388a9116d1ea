from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dajiuzhu.core import selectors, services
from dajiuzhu.core.access import AccessDenied, NotFound, is_admin
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import CITY_CODE, Division, DivisionLevel
from dajiuzhu.web.forms import posted_id
from dajiuzhu.web.marks import no_personal_data
from dajiuzhu.web.requests import AuthedRequest

TOKEN_NOT_FOUND = "未找到该令牌:编号不存在,请刷新页面后重试"  # noqa: S105 (a message)
PARENT_NOT_FOUND = "上级区划不存在:代码不正确,请从区划列表进入"


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "无权访问", "message": "仅市级系统管理员可以使用此功能。"},
        status=403,
    )


@no_personal_data
@login_required
def divisions(request: AuthedRequest) -> HttpResponse:
    """Browse the division tree; administrators add communities and grids."""
    if not is_admin(request.user):
        return _forbidden(request)
    parent_code = (request.POST.get("parent_code") or request.GET.get("parent") or CITY_CODE)[:15]
    parent = Division.objects.filter(code=parent_code).first()
    if parent is None:
        messages.error(request, PARENT_NOT_FOUND)
        if request.method == "POST":
            return redirect(request.path)
        parent = Division.objects.get(code=CITY_CODE)
    form = {"code": "", "name": ""}
    if request.method == "POST":
        form = {
            "code": request.POST.get("code", "")[:15],
            "name": request.POST.get("name", "")[:60],
        }
        try:
            division = services.division_create(
                actor=request.user, parent_code=parent.code, code=form["code"], name=form["name"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        except AccessDenied:
            return _forbidden(request)
        else:
            messages.success(request, f"已新建{division.get_level_display()}:{division.name}")
            return redirect(f"{request.path}?parent={parent.code}")
    trail: list[Division] = []
    node: Division | None = parent
    while node is not None:
        trail.insert(0, node)
        node = node.parent
    children = selectors.division_list(parent_code=parent.code)
    can_add = parent.level in (DivisionLevel.TOWN, DivisionLevel.COMMUNITY)
    return render(
        request,
        "core/divisions.html",
        {
            "parent": parent,
            "trail": trail,
            "children": children,
            "can_add": can_add,
            "form": form,
        },
    )


@no_personal_data
@login_required
def tokens(request: AuthedRequest) -> HttpResponse:
    if not is_admin(request.user):
        return _forbidden(request)
    created = None
    if request.method == "POST" and request.POST.get("action") == "revoke":
        token_id = posted_id(request, "token_id")
        try:
            if token_id is None:
                raise NotFound
            services.api_token_revoke(actor=request.user, token_id=token_id)
        except NotFound:
            messages.error(request, TOKEN_NOT_FOUND)
        else:
            messages.success(request, "令牌已吊销")
    elif request.method == "POST":
        try:
            _token, created = services.api_token_create(
                actor=request.user,
                department_code=request.POST.get("department", "")[:30],
                name=request.POST.get("name", "")[:100] or "部门系统对接",
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "core/tokens.html",
        {
            "tokens": selectors.api_token_list(user=request.user),
            "departments": selectors.department_list(),
            "created": created,
        },
    )
