"""Warnings found by the scans, their investigation, and the scan runs.

A warning's natural identity is (rule, year, person_key, event_ref): re-running a scan finds the
same row again instead of adding one. ``event_ref`` is the accident, incident or certificate
number for the event rules and empty for the medical rules and EARNER_DEATH (a person dies
once). Personal data stays out of this table: the person is the lake's ``person_key`` (the
registry maps it back, audited), the evidence holds figures and codes, never an ID number.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import Division, User
from dajiuzhu.warnings.rules import RULES

# The rules' codes and names, from their declarations (a new rule needs a migration for the
# choices: ``makemigrations warnings``).
# (django-stubs types only the functional API's plain names, not (value, label) pairs)
Rule = models.TextChoices(  # type: ignore[call-overload]
    "Rule", [(s.code, (s.code, s.label)) for s in RULES.values()]
)


class Status(models.TextChoices):
    PUSHED = "pushed", "已推送"
    ASSIGNED = "assigned", "已派发"
    INVESTIGATED = "investigated", "已核查"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤销"


# Statuses in which someone has acted on the warning: a later scan never withdraws these.
ACTED_STATUSES = (Status.ASSIGNED, Status.INVESTIGATED, Status.CLOSED)
# Statuses still waiting for a visit (the deadline applies).
OPEN_STATUSES = (Status.PUSHED, Status.ASSIGNED)


class Outcome(models.TextChoices):
    HELPED_TO_APPLY = "helped_to_apply", "已帮助申请救助"
    ALREADY_COVERED = "already_covered", "已纳入救助"
    NOT_IN_HARDSHIP = "not_in_hardship", "经核查不困难"
    UNREACHABLE = "unreachable", "无法联系"
    MOVED_AWAY = "moved_away", "已迁离"


# Outcomes that count for the rule's precision (the household really needed help).
PRECISE_OUTCOMES = (Outcome.HELPED_TO_APPLY, Outcome.ALREADY_COVERED)


class Trigger(models.TextChoices):
    CLI = "cli", "命令行"
    NIGHTLY = "nightly", "每晚定时"
    REALTIME = "realtime", "实时推送"
    MANUAL = "manual", "手工"


class ScanStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class ScanRun(models.Model):
    """One scan: which rules, which year, which engine, what it found and changed."""

    year = models.PositiveSmallIntegerField("年度")
    engine = models.CharField("计算引擎", max_length=10)
    rules = models.JSONField("规则", default=list)
    trigger = models.CharField("触发方式", max_length=10, choices=Trigger.choices)
    batch_id = models.BigIntegerField("触发批次", null=True, blank=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=ScanStatus.choices, default=ScanStatus.RUNNING
    )
    compute_seconds = models.FloatField("计算耗时", default=0)
    seconds = models.FloatField("总耗时", default=0)
    summary = models.JSONField("结果", default=list)
    error = models.TextField("错误", blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "预警扫描"


class Warning(models.Model):  # the domain's name (shadows the builtin in this module only)
    rule = models.CharField("规则", max_length=24, choices=Rule.choices)
    year = models.PositiveSmallIntegerField("年度")
    person_key = models.BigIntegerField("人员标识", db_index=True)
    event_ref = models.CharField("事件编号", max_length=40, blank=True)
    event_date = models.DateField("事件日期", null=True, blank=True)
    amount = models.DecimalField(
        "年度个人自负", max_digits=14, decimal_places=2, null=True, blank=True
    )
    household_no = models.CharField("户号", max_length=30, blank=True)
    # The person's 户籍 division (9 or 12 digits) as the lake had it; empty when unknown.
    division_code = models.CharField("户籍地区划", max_length=15, blank=True, db_index=True)
    town = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="镇(街道)",
    )
    evidence = models.JSONField("依据摘要", default=dict)
    # A digest of what the scan found (date, amount, household, division, evidence): a re-scan
    # compares digests instead of decoding every recorded warning.
    fingerprint = models.CharField(max_length=32, blank=True)

    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.PUSHED, db_index=True
    )
    pushed_at = models.DateTimeField("推送时间")
    due_date = models.DateField("核查期限")
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warnings_assigned",
        verbose_name="核查人员",
    )
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField("派发时间", null=True, blank=True)
    outcome = models.CharField(
        "核查结果", max_length=20, choices=Outcome.choices, blank=True, default=""
    )
    programme_code = models.CharField("帮助申请的救助项目", max_length=30, blank=True)
    notes = models.TextField("核查情况", blank=True)
    investigated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    investigated_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    escalated = models.BooleanField("已上报区级", default=False)
    escalated_at = models.DateTimeField("上报时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤销时间", null=True, blank=True)
    withdrawn_reason = models.CharField("撤销原因", max_length=500, blank=True)
    # Set when the basis went away after someone had acted: the warning stays, with this note.
    basis_note = models.CharField("依据变化说明", max_length=500, blank=True)
    first_scan = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "预警"
        ordering = ["-pushed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "year", "person_key", "event_ref"], name="warning_natural_identity"
            ),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(assignee__isnull=False),
                name="assigned_warning_has_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["investigated", "closed"]) | ~Q(outcome=""),
                name="investigated_warning_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "year", "status"]),
            models.Index(fields=["town", "status"]),
            models.Index(fields=["due_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule}#{self.pk}"
