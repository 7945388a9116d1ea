from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from dajiuzhu.web.navigation import navigation_for

PLATFORM_NAME = "常州市智慧大救助管理服务平台"


def platform(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "PLATFORM_NAME": PLATFORM_NAME,
        "nav": navigation_for(user, request.path) if user is not None else [],
        "htmx_available": (
            settings.BASE_DIR / "web" / "static" / "vendor" / "htmx.min.js"
        ).exists(),
    }
