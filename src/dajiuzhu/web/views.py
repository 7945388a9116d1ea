from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dajiuzhu.core import services as core_services
from dajiuzhu.core.access import is_staff_user
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.idnumber import InvalidPhone
from dajiuzhu.web.marks import no_personal_data
from dajiuzhu.web.requests import AuthedRequest

log = logging.getLogger("dajiuzhu.web")


@no_personal_data
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@no_personal_data
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every site: the platform's icon."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


@no_personal_data
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("healthz.database_unreachable", extra={"error": type(exc).__name__})
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


class StaffLoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = False


staff_login = no_personal_data(StaffLoginView.as_view())


@no_personal_data
@require_POST
def staff_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@no_personal_data
@login_required
def workbench(request: AuthedRequest) -> HttpResponse:
    if not is_staff_user(request.user):
        return redirect("web:portal")
    return render(request, "web/workbench.html")


def _maybe_url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@no_personal_data
def portal(request: HttpRequest) -> HttpResponse:
    buttons = [
        {
            "label": "政策计算器",
            "hint": "回答几个问题,看看可能享受哪些救助",
            "url": _maybe_url("policy:calculator"),
        },
        {
            "label": "救助政策",
            "hint": "32项救助政策,通俗易懂",
            "url": _maybe_url("policy:resident_programmes"),
        },
        {"label": "我要申请", "hint": "一证一书,网上申请", "url": _maybe_url("cases:portal_apply")},
        {
            "label": "办理进度",
            "hint": "每一步、每个时限都看得见",
            "url": _maybe_url("cases:portal_list"),
        },
        {
            "label": "我的救助金",
            "hint": "每月发放金额、日期和状态",
            "url": _maybe_url("payments:portal"),
        },
        {
            "label": "投诉举报",
            "hint": "反映骗取救助、优亲厚友、办理不当,可匿名",
            "url": _maybe_url("supervision:complaint_portal"),
        },
    ]
    return render(request, "web/portal_home.html", {"buttons": buttons})


def client_ip(request: HttpRequest) -> str:
    """The client's address: from the trusted proxy's header when one is configured (the last
    entry, the one that proxy added), else the connection's."""
    header = settings.CLIENT_IP_HEADER
    if header:
        key = "HTTP_" + header.upper().replace("-", "_")
        value = request.META.get(key, "").split(",")[-1].strip()
        if value:
            return value[:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


@no_personal_data
def portal_login(request: HttpRequest) -> HttpResponse:
    context = {"phone": "", "sent": False, "error": ""}
    if request.method == "POST":
        phone = request.POST.get("phone", "")[:20]
        context["phone"] = phone
        try:
            if request.POST.get("action") == "verify":
                context["sent"] = True
                user = core_services.otp_verify(phone=phone, code=request.POST.get("code", "")[:6])
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, "登录成功")
                wanted = request.POST.get("next") or request.GET.get("next") or ""
                if wanted.startswith("/portal/") and url_has_allowed_host_and_scheme(
                    wanted, allowed_hosts={request.get_host()}
                ):
                    return redirect(wanted)  # back to the page that asked for the log-in
                return redirect("web:portal")
            if not request.session.session_key:
                request.session.save()  # a session to count this client's sends by
            core_services.otp_send(
                phone=phone,
                session_key=request.session.session_key or "",
                client_ip=client_ip(request),
            )
            context["sent"] = True
            messages.info(request, "验证码已发送,请查收短信")
        except InvalidPhone as exc:
            context["error"] = exc.message
        except ServiceError as exc:
            context["error"] = exc.message
    return render(request, "web/portal_login.html", context)


@no_personal_data
@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:portal")


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "未找到", "您要查看的内容不存在,或不在您的管辖范围内。")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "无权访问", "您的角色无权进行此操作。")


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "请求有误", "请求内容不正确或过大,请检查后重试。")


def error_500(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "系统繁忙", "系统出现问题,已记录。请稍后重试。")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, 403, "页面已过期", "页面已过期或来源不正确,请刷新页面后重新提交。")
