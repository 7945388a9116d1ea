"""The decision notice (决定书 / 不予批准通知书), and the stop notice (停发通知书) of a stopped
case, as a PDF, with the reasons and the rights of appeal (行政复议法 第二十条: 60 days;
行政诉讼法 第四十六条: 6 months)."""

from __future__ import annotations

from dajiuzhu.cases.models import Case, CaseStatus
from dajiuzhu.core.pdf import render_pdf
from dajiuzhu.core.services import ServiceError
from dajiuzhu.policy import catalogue

APPEAL_DAYS = 60
LAWSUIT_MONTHS = 6


def notice_context(case: Case) -> dict:
    if case.status == CaseStatus.STOPPED:
        return stop_notice_context(case)
    if case.status not in (CaseStatus.APPROVED, CaseStatus.REFUSED):
        raise ServiceError("case.no_notice", "该案件尚未作出决定,暂无决定书")
    app = case.application
    approved = case.status == CaseStatus.APPROVED
    return {
        "title": "救助决定书" if approved else "不予批准通知书",
        "approved": approved,
        "case": case,
        "application": app,
        "programme": catalogue.programme(case.programme),
        "applicant_name": app.applicant.name,
        "department": case.department.name,
        "appeal_days": APPEAL_DAYS,
        "lawsuit_months": LAWSUIT_MONTHS,
    }


def stop_notice_context(case: Case) -> dict:
    """停发通知书: the last month paid, the reasons, the rights of appeal."""
    if case.status != CaseStatus.STOPPED:
        raise ServiceError("case.no_notice", "该案件未停发,暂无停发通知书")
    app = case.application
    return {
        "title": "停发通知书",
        "approved": False,
        "stopped": True,
        "case": case,
        "application": app,
        "programme": catalogue.programme(case.programme),
        "applicant_name": app.applicant.name,
        "department": case.department.name,
        "appeal_days": APPEAL_DAYS,
        "lawsuit_months": LAWSUIT_MONTHS,
    }


def notice_pdf(case: Case) -> bytes:
    return render_pdf("cases/notice_pdf.html", notice_context(case))
