"""Data of the policy library: dated parameter values set by administrators, and the
candidates found by "policy finds people" (政策找人)."""

from __future__ import annotations

from django.db import models

from dajiuzhu.core.models import Division, User


class ParameterOverride(models.Model):
    """A dated value of an OpenFisca parameter added on a page (e.g. a new 低保标准 from
    2024-07-01). Applied on top of the YAML parameters; no code change."""

    name = models.CharField("参数", max_length=100)
    start = models.DateField("生效日期")
    value = models.DecimalField("取值", max_digits=14, decimal_places=4)
    reference = models.CharField("依据", max_length=300)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "start"]
        verbose_name = "政策参数取值"
        constraints = [
            models.UniqueConstraint(fields=["name", "start"], name="one_value_per_start")
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.start}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class EligibilityRun(models.Model):
    """One population run of the rules for a month."""

    month = models.CharField("月份", max_length=7, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    persons = models.BigIntegerField(default=0)
    households = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    summary = models.JSONField(default=dict)
    sources = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "政策找人运行"


class CandidateStatus(models.TextChoices):
    OPEN = "open", "待跟进"
    CONTACTED = "contacted", "已联系"
    APPLIED = "applied", "已帮助申请"
    NOT_ELIGIBLE = "not_eligible", "核实不符合"
    RESOLVED = "resolved", "数据已更新(不再是候选)"


class Candidate(models.Model):
    """A household (or one of its members) likely eligible for a programme it does not
    receive, for its town to follow up. Identified by household number and person_key; the
    registry turns them into names for authorised staff."""

    month = models.CharField("月份", max_length=7)
    programme = models.CharField("救助项目", max_length=30)
    household_no = models.CharField("户号", max_length=30)
    # The member a person-level programme (特困, 单人保) is about; 0 for household programmes
    # (a real person_key is never 0 in practice: 1 in 2^64).
    person_key = models.BigIntegerField("人员假名", default=0)
    town = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name="镇(街道)"
    )
    division_code = models.CharField("户籍区划", max_length=15)
    estimated_amount = models.DecimalField(
        "测算金额(元/月)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    figures = models.JSONField("测算依据", default=dict)
    status = models.CharField(
        "状态", max_length=15, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    note = models.CharField("跟进记录", max_length=500, blank=True)
    run = models.ForeignKey(EligibilityRun, on_delete=models.PROTECT, related_name="candidates")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["town_id", "programme", "household_no"]
        verbose_name = "政策找人候选"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "programme", "household_no", "person_key"],
                name="one_candidate_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["town", "month", "status"])]
