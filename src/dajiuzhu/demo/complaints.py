"""Demo complaints and reports (投诉举报) and the monthly 通报, so that `tn_supervisor` and
`city_supervisor` find something in 投诉举报 and on the scorecard at once. Every write goes
through the services (audited), as a reporter and the supervisors would make it."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from django.utils import timezone

from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.supervision import complaints as services
from dajiuzhu.supervision.models import Complaint

REPORTS = [
    # (category, town index in 天宁区, subject, content, name, phone)
    (
        "ineligible_recipient",
        0,
        "某小区一户低保家庭",
        "我们小区有一户人家开着新买的小轿车,儿子在外地开公司,还一直领着低保,请核实。",
        "",
        "",
    ),
    (
        "staff_favour",
        1,
        "社区工作人员",
        "社区有工作人员说要请客送礼才能帮忙办临时救助,我没有送,申请就一直没有下文。",
        "王女士",
        "13900000011",
    ),
    (
        "handling",
        0,
        "低保申请",
        "申请低保已经两个多月了,一直没人来入户调查,打电话问也说不清楚办到哪一步了。",
        "",
        "13900000012",
    ),
    (
        "other",
        2,
        "",
        "公示栏里的救助名单贴出来两天就撕掉了,没有按规定公示满七天。",
        "",
        "",
    ),
]


def demo_complaints() -> list[str]:
    """Four reports about 天宁区 (one taken and answered, one overdue and escalated) and one
    about 武进区; returns their tracking codes. Idempotent: an existing demo keeps its own."""
    if Complaint.objects.exists():
        return list(Complaint.objects.values_list("tracking_code", flat=True))
    towns = list(
        Division.objects.filter(level=DivisionLevel.TOWN, code__startswith="320402").order_by(
            "code"
        )
    )
    if not towns:
        return []
    made = []
    for category, n, subject, content, name, phone in REPORTS:
        made.append(
            services.complaint_submit(
                actor=None,
                category=category,
                division_code=towns[n % len(towns)].code,
                subject=subject,
                content=content,
                name=name,
                phone=phone,
            )
        )
    wj = Division.objects.filter(level=DivisionLevel.DISTRICT, code="320412").first()
    if wj is not None:
        made.append(
            services.complaint_submit(
                actor=None,
                category="ineligible_recipient",
                division_code=wj.code,
                content="邻居家老人去年已经去世了,听说他家还在领特困供养金。",
            )
        )
    supervisor = User.objects.filter(username="tn_supervisor").first()
    if supervisor is not None:
        services.complaint_take(actor=supervisor, complaint_id=made[2].pk)
        services.complaint_close(
            actor=supervisor,
            complaint_id=made[2].pk,
            outcome="经核查,该申请已于本月完成入户调查,正在镇(街道)初审;已督促街道按时限办结,"
            "并向申请人说明办理进度。",
        )
        services.complaint_take(actor=supervisor, complaint_id=made[1].pk)
    # one report past its deadline, escalated to the city as the morning task would
    Complaint.objects.filter(pk=made[0].pk).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    services.complaints_escalate_overdue()
    return [c.tracking_code for c in made]


def demo_notice(month: str) -> None:
    """The demo month's 通报 (the worker makes last month's on the 3rd)."""
    from dajiuzhu.core.pdf import PdfUnavailable
    from dajiuzhu.supervision.notice import notice_generate

    # No WeasyPrint libraries or CJK font: the demo runs without the PDF.
    with suppress(PdfUnavailable):
        notice_generate(actor=None, month=month)
