"""The platform's local time zone and date, without Django (settings.TIME_ZONE reads this).

Code under Django uses ``django.utils.timezone.localdate()``; the few modules that must work
without settings (the ID-number parser the pure generator shares) use :func:`local_today`.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME_ZONE = "Asia/Shanghai"


def local_today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TIME_ZONE)).date()
