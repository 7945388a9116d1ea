"""Shared wrappers of staff pages: log-in, staff only, and domain errors as Chinese pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user

DENIED = "您的角色无权使用此功能。"


def denied(request: HttpRequest, message: str = DENIED) -> HttpResponse:
    return render(request, "web/error.html", {"title": "无权访问", "message": message}, status=403)


def staff_page(view):
    """Logged-in staff only; NotFound (out of scope) becomes 404 and AccessDenied a 403
    page with its message."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not is_staff_user(request.user):
            return denied(request)
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except AccessDenied as exc:
            return denied(request, exc.message)

    return login_required(wrapped)


def portal_page(view):
    """The resident's phone portal: logged-in users only (else the phone log-in, then back
    here). A staff account finds nothing of anyone's here: the reads are scoped to the
    resident's own records."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        try:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("web:portal_login"))
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except AccessDenied as exc:
            return render(
                request, "web/error.html", {"title": "无权访问", "message": exc.message}, status=403
            )

    return wrapped
