"""Administration pages: staff accounts and the audit log (search, chain verification).

Thin: reads go through ``core.selectors``/``core.audit_search``, writes through
``core.accounts`` and ``core.services``; a refusal becomes the page's message."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dajiuzhu.core import accounts, audit_search, selectors, services
from dajiuzhu.core.access import AccessDenied, NotFound, is_admin
from dajiuzhu.core.models import Division, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.web.decorators import denied, staff_page
from dajiuzhu.web.forms import posted_id
from dajiuzhu.web.marks import no_personal_data
from dajiuzhu.web.requests import AuthedRequest

ONLY_ADMIN = "仅市级系统管理员可以管理工作人员账号。"
STAFF_ROLES = [(r.value, r.label) for r in Role if r != Role.RESIDENT]
USER_NOT_FOUND = "未找到该工作人员账号:编号不存在,请从账号列表进入"


def _context_lists() -> dict:
    return {
        "roles": STAFF_ROLES,
        "departments": selectors.department_list(),
        "divisions": Division.objects.exclude(level="grid").order_by("code")[:2000],
    }


@no_personal_data
@staff_page
def users(request: AuthedRequest) -> HttpResponse:
    """Staff accounts: find, and create one."""
    if not is_admin(request.user):
        return denied(request, ONLY_ADMIN)
    form = {"username": "", "display_name": "", "role": "", "scope": "", "department": ""}
    if request.method == "POST":
        form = {k: request.POST.get(k, "")[:60].strip() for k in form}
        try:
            user = services.user_create(
                actor=request.user,
                username=form["username"],
                password=request.POST.get("password", "")[:128],
                role=form["role"] if form["role"] != Role.RESIDENT else "",
                scope_code=form["scope"],
                department_code=form["department"] or None,
                display_name=form["display_name"],
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已新建账号 {user.username}")
            return redirect("core:user", user_id=user.pk)
    q = request.GET.get("q", "")[:50].strip()
    role = request.GET.get("role", "")[:20]
    qs = User.objects.exclude(role=Role.RESIDENT).select_related("scope", "department")
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(display_name__icontains=q)
    if role:
        qs = qs.filter(role=role)
    page = Paginator(qs.order_by("username"), 50).get_page(request.GET.get("page"))
    locked = accounts.locked_usernames([u.username for u in page])
    return render(
        request,
        "core/users.html",
        {"page": page, "q": q, "role": role, "locked": locked, "form": form, **_context_lists()},
    )


@no_personal_data
@staff_page
def user(request: AuthedRequest, user_id: int) -> HttpResponse:
    if not is_admin(request.user):
        return denied(request, ONLY_ADMIN)
    staff = User.objects.exclude(role=Role.RESIDENT).select_related("scope", "department")
    target = staff.filter(pk=user_id).first()
    if target is None:
        raise NotFound
    return render(
        request,
        "core/user.html",
        {
            "u": target,
            "is_locked": accounts.is_locked(target),
            "history": audit_search.events_about_user(actor=request.user, user_id=target.pk),
            **_context_lists(),
        },
    )


@no_personal_data
@require_POST
@staff_page
def user_action(request: AuthedRequest) -> HttpResponse:
    """One change to an account (the user's id in the form): update, password, unlock,
    deactivate, activate. A missing or unknown id answers with a message."""
    if not is_admin(request.user):
        return denied(request, ONLY_ADMIN)
    user_id = posted_id(request, "user_id")
    action = request.POST.get("action", "")
    try:
        if user_id is None:
            raise NotFound
        if action == "update":
            accounts.user_update(
                actor=request.user,
                user_id=user_id,
                role=request.POST.get("role", "")[:20],
                scope_code=request.POST.get("scope", "")[:15],
                department_code=request.POST.get("department", "")[:30],
                display_name=request.POST.get("display_name", "")[:50],
            )
            messages.success(request, "账号信息已更新")
        elif action == "password":
            password = accounts.user_reset_password(
                actor=request.user,
                user_id=user_id,
                password=request.POST.get("password", "")[:128],
            )
            if request.POST.get("password"):
                messages.success(request, "密码已重置为您输入的新密码,账号锁定已解除")
            else:
                messages.success(
                    request, f"密码已重置,新密码:{password}（只显示这一次,请当面或电话告知本人）"
                )
        elif action == "unlock":
            was = accounts.user_unlock(actor=request.user, user_id=user_id)
            messages.success(request, "账号已解锁" if was else "该账号未被锁定,失败记录已清除")
        elif action in ("deactivate", "activate"):
            accounts.user_set_active(
                actor=request.user, user_id=user_id, active=action == "activate"
            )
            messages.success(request, "账号已启用" if action == "activate" else "账号已停用")
        else:
            messages.error(request, "未知操作,请从账号页面提交")
    except NotFound:
        messages.error(request, USER_NOT_FOUND)
        return redirect("core:users")
    except AccessDenied as exc:
        return denied(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("core:user", kwargs={"user_id": user_id}))


@no_personal_data
@staff_page
def audit(request: AuthedRequest) -> HttpResponse:
    """Search the audit log; run the chain verification. A search by ID number is posted (the
    number stays out of the URL) and continues with the person's record id."""
    if request.method == "POST":
        try:
            person_id = audit_search.person_by_id_number(
                actor=request.user, id_number=request.POST.get("id_number", "")[:20]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("core:audit")
        if person_id is None:
            messages.error(request, "人员库中没有该身份证号码的人员")
            return redirect("core:audit")
        return redirect(reverse("core:audit") + f"?person={person_id}")
    filters = audit_search.Filters.from_query(request.GET)
    try:
        qs = audit_search.events(actor=request.user, filters=filters)
    except ServiceError as exc:
        messages.error(request, exc.message)
        qs = audit_search.events(actor=request.user, filters=audit_search.Filters())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = audit_search.rows(page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit.html",
        {
            "f": filters,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "purposes": Purpose.choices,
            "actions": audit_search.ACTION_LABELS,
            "report": None,
        },
    )


@no_personal_data
@require_POST
@staff_page
def audit_verify(request: AuthedRequest) -> HttpResponse:
    report = audit_search.verify(actor=request.user)
    return render(request, "core/audit_verify.html", {"report": report})
