"""复核 (periodic review) of approved monthly cases: one task per case and due month, the
check it re-ran, the outcome the rules propose, the home visit where one is needed, and the
approver's decision (carried out through ``cases.dynamic``)."""

from __future__ import annotations

from django.db import models

from dajiuzhu.cases.models import Case
from dajiuzhu.core.models import User


class Basis(models.TextChoices):
    STABLE = "stable", "收入来源稳定(每年复核)"
    REGULAR = "regular", "有劳动能力成员、收入稳定(每年复核)"
    IRREGULAR = "irregular", "有劳动能力成员、收入不稳定(每半年复核)"
    GRADUAL_EXIT = "gradual_exit", "渐退期满复核"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "待核对"
    CHECKED = "checked", "待审批确认"
    DONE = "done", "已办结"


class Outcome(models.TextChoices):
    CONTINUE = "continue", "继续保障"
    ADJUST = "adjust", "调整金额"
    GRADUAL_EXIT = "gradual_exit", "渐退"
    STOP = "stop", "停发"


class Review(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reviews")
    due_month = models.CharField("应复核月份", max_length=7)
    basis = models.CharField("复核周期依据", max_length=14, choices=Basis.choices)
    interval_months = models.PositiveSmallIntegerField("复核间隔(月)")
    status = models.CharField(
        "状态", max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    # The check re-run for the review (or why it could not run).
    report = models.ForeignKey(
        "verification.VerificationReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    check_month = models.CharField("核对数据月份", max_length=7, blank=True)
    check_error = models.CharField("核对未完成原因", max_length=300, blank=True)
    checked_at = models.DateTimeField("核对时间", null=True, blank=True)
    # Every able-bodied member with a wage in each month of the check's window.
    regular_income = models.BooleanField("收入稳定", null=True, blank=True)
    # What the rules say now.
    proposed_outcome = models.CharField(
        "建议结果", max_length=14, choices=Outcome.choices, blank=True
    )
    proposed_amount = models.DecimalField(
        "建议金额(元/月)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    proposal_reasons = models.TextField("建议理由", blank=True)
    figures = models.JSONField("测算数据", default=dict)
    # 入户核查 where the check alone cannot settle it.
    visit_needed = models.BooleanField("需入户核查", default=False)
    visit_reasons = models.JSONField("入户核查原因", default=list)
    visit_assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="review_visits"
    )
    visit_assigned_at = models.DateTimeField("派发时间", null=True, blank=True)
    visit_findings = models.TextField("入户核查情况", blank=True)
    visit_done_at = models.DateTimeField("入户核查时间", null=True, blank=True)
    visit_done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The approver's decision.
    outcome = models.CharField("复核结果", max_length=14, choices=Outcome.choices, blank=True)
    amount = models.DecimalField(
        "核定金额(元/月)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    reasons = models.TextField("复核意见", blank=True)
    effective_month = models.CharField("生效月份", max_length=7, blank=True)
    done_month = models.CharField("办结月份", max_length=7, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "复核任务"
        ordering = ["due_month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "due_month"], name="one_review_per_case_month")
        ]
        indexes = [
            models.Index(fields=["status", "due_month"]),
            models.Index(fields=["visit_assignee", "visit_done_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.due_month}"

    @property
    def visit_open(self) -> bool:
        return self.visit_needed and self.visit_done_at is None
