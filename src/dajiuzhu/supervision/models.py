"""Fund findings of the checks, their rectification by the paying district, and the runs.

A finding's natural identity is (check, month, person_key, program_code, payment_id): re-running
a check finds the same row again instead of adding one. ``payment_id`` is empty for the checks
that find a person rather than a payment (DUPLICATE_PAYMENT, EXCLUSIVE), ``program_code`` empty
for EXCLUSIVE. The person is the lake's ``person_key`` (the registry maps it back, audited); the
evidence holds figures and codes, never an ID number.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import User
from dajiuzhu.supervision.checks import CHECKS

# django-stubs types only the functional API's plain names, not (value, label) pairs
Check = models.TextChoices(  # type: ignore[call-overload]
    "Check", [(s.code, (s.code, s.label)) for s in CHECKS.values()]
)


class Status(models.TextChoices):
    OPEN = "open", "待整改"
    CONFIRMED = "confirmed", "已确认违规(追回、停发)"
    EXPLAINED = "explained", "已说明情况"
    WRONG_DATA = "wrong_data", "数据有误(已退回数据部门)"
    WITHDRAWN = "withdrawn", "已撤销"


# Statuses in which the district has acted: a later run never withdraws these.
ACTED_STATUSES = (Status.CONFIRMED, Status.EXPLAINED, Status.WRONG_DATA)
RESOLUTIONS = ACTED_STATUSES


class Trigger(models.TextChoices):
    CLI = "cli", "命令行"
    PUBLISH = "publish", "发放数据报送"
    NIGHTLY = "nightly", "每晚复核"
    MANUAL = "manual", "手工"


class RunStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class CheckRun(models.Model):
    """One run of the fund checks for a month: which checks, which engine, what it changed."""

    month = models.CharField("月份", max_length=7)
    engine = models.CharField("计算引擎", max_length=10)
    checks = models.JSONField("核查项", default=list)
    trigger = models.CharField("触发方式", max_length=10, choices=Trigger.choices)
    batch_id = models.BigIntegerField("触发批次", null=True, blank=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    summary = models.JSONField("结果", default=list)
    error = models.TextField("错误", blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "资金核查"


class Finding(models.Model):
    check_code = models.CharField("核查项", max_length=24, choices=Check.choices)
    month = models.CharField("发放月份", max_length=7)
    person_key = models.BigIntegerField("人员标识", db_index=True)
    program_code = models.CharField("救助项目", max_length=30, blank=True)
    payment_id = models.CharField("发放流水号", max_length=40, blank=True)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    household_no = models.CharField("户号", max_length=30, blank=True)
    # The payee's 户籍 division as the lake had it (empty: not in 户籍, city level only) and the
    # paying district (its first 6 digits), whose queue the finding goes to.
    division_code = models.CharField("户籍地区划", max_length=15, blank=True, db_index=True)
    district_code = models.CharField("发放区", max_length=6, blank=True, db_index=True)
    evidence = models.JSONField("依据摘要", default=dict)
    fingerprint = models.CharField(max_length=32, blank=True)

    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    found_at = models.DateTimeField("发现时间")
    due_date = models.DateField("整改期限")
    escalated = models.BooleanField("已上报市级", default=False)
    escalated_at = models.DateTimeField("上报时间", null=True, blank=True)
    # The rectification
    notes = models.TextField("整改情况", blank=True)
    recovered_amount = models.DecimalField(
        "追回金额", max_digits=14, decimal_places=2, null=True, blank=True
    )
    payment_stopped = models.BooleanField("已停发", default=False)
    returned_to = models.CharField("退回数据部门", max_length=30, blank=True)
    returned_dataset = models.CharField("有误的数据集", max_length=40, blank=True)
    handled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField("整改时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤销时间", null=True, blank=True)
    withdrawn_reason = models.CharField("撤销原因", max_length=500, blank=True)
    basis_note = models.CharField("依据变化说明", max_length=500, blank=True)
    first_run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "资金核查问题"
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_code", "month", "person_key", "program_code", "payment_id"],
                name="finding_natural_identity",
            ),
            models.CheckConstraint(
                condition=~Q(status="explained") | ~Q(notes=""),
                name="explained_finding_has_notes",
            ),
            models.CheckConstraint(
                condition=~Q(status="wrong_data") | ~Q(returned_to=""),
                name="wrong_data_finding_is_returned",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "check_code", "status"]),
            models.Index(fields=["district_code", "status"]),
            models.Index(fields=["due_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.check_code}#{self.pk}"


# --------------------------------------------------------------------------- spot checks


class AuditContract(models.Model):
    """A contract with a third-party organisation (委托第三方抽查评估): its auditor accounts see
    the cases sampled for it, nothing else."""

    code = models.SlugField("合同编号", max_length=40, unique=True)
    organisation = models.CharField("受托机构", max_length=100)
    auditors = models.ManyToManyField(User, related_name="audit_contracts", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "第三方评估合同"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.organisation


class SpotCheck(models.Model):
    """One quarter's draw, with everything needed to draw it again: the seed, the share and
    the minimum in force, and how many cases each town had decided."""

    quarter = models.CharField("季度", max_length=6)  # 2024Q1
    seed = models.BigIntegerField("随机种子")
    share = models.DecimalField("抽取比例", max_digits=6, decimal_places=4)
    minimum = models.PositiveIntegerField("最少抽取")
    population = models.JSONField("各镇街办结案件数", default=dict)
    contract = models.ForeignKey(
        AuditContract, null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    drawn_at = models.DateTimeField("抽取时间")

    class Meta:
        verbose_name = "抽查"
        ordering = ["-quarter", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["quarter", "seed"], name="spot_check_quarter_seed")
        ]


class SampleStatus(models.TextChoices):
    SAMPLED = "sampled", "待评估"
    NO_FINDINGS = "no_findings", "评估无问题"
    FINDINGS = "findings", "待整改"
    RECTIFIED = "rectified", "已整改"


class FindingCode(models.TextChoices):
    WRONG_AMOUNT = "wrong_amount", "救助金额有误"
    MISSING_INVESTIGATION = "missing_investigation", "缺少入户调查"
    INELIGIBLE = "ineligible", "不符合条件"
    DOCUMENTS = "documents", "材料不全"
    TIMELINESS = "timeliness", "办理超时"
    OTHER = "other", "其他"


class SampledCase(models.Model):
    """A case of the unified intake decided in the quarter, drawn for a spot check (at random,
    or because a member of the household is a staff member's declared relative)."""

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="案件",
    )
    # 近亲属备案: drawn because the household has a staff member's declared relative.
    relative = models.BooleanField("近亲属备案必抽", default=False)
    town_code = models.CharField("镇(街道)", max_length=9, db_index=True)
    division_code = models.CharField("户籍地区划", max_length=15, db_index=True)
    person_key = models.BigIntegerField("人员标识")  # the applicant
    program_code = models.CharField("救助项目", max_length=30)
    start_date = models.DateField("决定日期")
    household_no = models.CharField("户号", max_length=30, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=SampleStatus.choices, default=SampleStatus.SAMPLED
    )
    findings = models.JSONField("评估问题", default=list)
    notes = models.TextField("评估意见", blank=True)
    assessed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField("评估时间", null=True, blank=True)
    due_date = models.DateField("整改期限", null=True, blank=True)
    rectification = models.TextField("整改情况", blank=True)
    rectified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rectified_at = models.DateTimeField("整改时间", null=True, blank=True)

    class Meta:
        verbose_name = "抽查案件"
        ordering = ["town_code", "person_key", "program_code", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["spot_check", "case"], name="sampled_case_once")
        ]


# --------------------------------------------------------------------------- complaints


class ComplaintCategory(models.TextChoices):
    INELIGIBLE = "ineligible_recipient", "不该享受救助的人在领取"
    FAVOUR = "staff_favour", "工作人员索要好处、优亲厚友"
    HANDLING = "handling", "案件办理拖延或不当"
    OTHER = "other", "其他问题"


class ComplaintChannel(models.TextChoices):
    PORTAL = "portal", "手机端(已登录)"
    PUBLIC = "public", "公开网页"


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", "已受理,待办理"
    HANDLING = "handling", "办理中"
    CLOSED = "closed", "已办结"


class Complaint(models.Model):
    """A complaint or report (投诉举报) from a resident on the phone or anyone on the public page.

    It goes to the competent district's supervision queue (``district_code``) with a deadline in
    working days. The reporter's identity (a logged-in resident's account, a name and a phone
    if given) is encrypted and shown only to the supervisor handling the report, each read
    audited; the tracking code alone shows the status and the written outcome, nothing else.
    """

    tracking_code = models.CharField("查询码", max_length=16, unique=True)
    category = models.CharField("类别", max_length=24, choices=ComplaintCategory.choices)
    subject = models.CharField("反映对象或事项", max_length=100, blank=True)
    content = models.TextField("反映内容")
    division_code = models.CharField("所涉区划", max_length=15, db_index=True)
    district_code = models.CharField("承办区", max_length=6, db_index=True)
    channel = models.CharField("渠道", max_length=10, choices=ComplaintChannel.choices)
    reporter = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    reporter_name_enc = models.BinaryField(null=True, blank=True, editable=False)
    reporter_phone_enc = models.BinaryField(null=True, blank=True, editable=False)
    # Keyed hashes of the sender's session and address, to throttle the public form (the
    # address itself is not kept).
    session_index = models.CharField(max_length=64, blank=True, db_index=True)
    client_ip_index = models.CharField(max_length=64, blank=True, db_index=True)

    status = models.CharField(
        "状态",
        max_length=10,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.RECEIVED,
        db_index=True,
    )
    received_at = models.DateTimeField("收到时间")
    due_date = models.DateField("办理期限")
    escalated = models.BooleanField("已上报市级", default=False)
    escalated_at = models.DateTimeField("上报时间", null=True, blank=True)
    handler = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField("承办时间", null=True, blank=True)
    # What the report turned out to concern (linked by the handler).
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    outcome = models.TextField("办理结果", blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "投诉举报"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome=""), name="closed_complaint_has_outcome"
            ),
            models.CheckConstraint(
                condition=Q(status="received") | Q(handler__isnull=False),
                name="handled_complaint_has_handler",
            ),
        ]
        indexes = [
            models.Index(fields=["district_code", "status"]),
            models.Index(fields=["due_date"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def anonymous(self) -> bool:
        named = bool(self.reporter_name_enc) or bool(self.reporter_phone_enc)
        return self.reporter_id is None and not named


# --------------------------------------------------------------------------- monthly notice


class MonthlyNotice(models.Model):
    """The monthly 通报 (PDF) ranking the districts and towns by the scorecard's indicators;
    generated by the worker after the month and by the CLI, generated again on request."""

    month = models.CharField("月份", max_length=7, unique=True)
    pdf = models.BinaryField("PDF", editable=False)
    generated_at = models.DateTimeField("生成时间")
    trigger = models.CharField("触发方式", max_length=10, choices=Trigger.choices)
    size = models.PositiveIntegerField("字节数", default=0)

    class Meta:
        verbose_name = "月度通报"
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month
