"""Unified intake (一门受理) and the case workflow: applications, one case per programme, the
statutory or short steps with their due dates, authorisations, 容缺 documents, objections
during 公示, and staff relatives (近亲属备案)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import Department, Division, User
from dajiuzhu.registry.models import Household, Person


class Channel(models.TextChoices):
    PHONE = "phone", "掌上办(手机)"
    WEB = "web", "网上办"
    WINDOW = "window", "窗口受理"
    PORTAL = "portal", "政务服务平台"


class Application(models.Model):
    """One household's application for one or more programmes, from one channel."""

    application_no = models.CharField("申请编号", max_length=20, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField("受理渠道", max_length=10, choices=Channel.choices)
    # The window that took it (any window of the city, 全城办); the competent town for the
    # remote channels.
    accepted_division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name="受理窗口"
    )
    # The applicant's 户籍 town (57号 第四条), to which the application is routed.
    town = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name="户籍地镇(街道)"
    )
    submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_label = models.CharField("提交方", max_length=60, blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    warning = models.ForeignKey(
        "warnings.Warning", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 「协助申请」 from a 政策找人 candidate (the chain candidate → application → decision).
    candidate = models.ForeignKey(
        "policy.Candidate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declared_changes = models.JSONField("申报的家庭成员变化", default=list)
    commitment_signed = models.BooleanField("已签署告知承诺书", default=False)
    verification_report = models.ForeignKey(
        "verification.VerificationReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    check_note = models.CharField("前置核对说明", max_length=300, blank=True)
    submitted_at = models.DateTimeField("提交时间")
    routed_at = models.DateTimeField("转至户籍地时间", null=True, blank=True)

    class Meta:
        verbose_name = "救助申请"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["town"]), models.Index(fields=["accepted_division"])]

    def __str__(self) -> str:
        return self.application_no


class CaseStatus(models.TextChoices):
    ACCEPTED = "accepted", "已受理"
    INVESTIGATING = "investigating", "入户调查"
    TOWN_REVIEW = "town_review", "镇(街道)初审"
    PUBLICITY = "publicity", "公示中"
    DECIDING = "deciding", "待审批确认"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    STOPPED = "stopped", "已停发"


OPEN_STATUSES = (
    CaseStatus.ACCEPTED,
    CaseStatus.INVESTIGATING,
    CaseStatus.TOWN_REVIEW,
    CaseStatus.PUBLICITY,
    CaseStatus.DECIDING,
)
DECIDED_STATUSES = (CaseStatus.APPROVED, CaseStatus.REFUSED, CaseStatus.STOPPED)


class Case(models.Model):
    """One programme's part of an application, decided by the programme's owner department at
    the level the catalogue names."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="cases")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    programme = models.CharField("救助项目", max_length=30)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    decision_level = models.CharField("决定层级", max_length=10)
    workflow = models.CharField("办理流程", max_length=10)
    town = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "状态", max_length=14, choices=CaseStatus.choices, default=CaseStatus.ACCEPTED
    )
    accepted_on = models.DateField("受理日期")
    due_on = models.DateField("全案办结期限")
    extended = models.BooleanField("已延长", default=False)
    extension_reason = models.CharField("延长理由", max_length=500, blank=True)
    proposed_amount = models.DecimalField(
        "测算金额(元/月)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(
        "核定金额(元/月)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount_override_reason = models.CharField("调整金额理由", max_length=500, blank=True)
    start_month = models.CharField("发放起始月份", max_length=7, blank=True)
    # 停发: the last month paid (inclusive); blank while the case runs.
    end_month = models.CharField("停发月份(含当月)", max_length=7, blank=True)
    stop_reasons = models.TextField("停发理由", blank=True)
    stopped_on = models.DateField("停发决定日期", null=True, blank=True)
    decision_reasons = models.TextField("决定理由", blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 先行救助 (临时救助 急难型): paid first, the file completed afterwards.
    advance_paid_on = models.DateField("先行救助日期", null=True, blank=True)
    advance_amount = models.DecimalField(
        "先行救助金额", max_digits=12, decimal_places=2, null=True, blank=True
    )
    advance_file_due = models.DateField("补办手续期限", null=True, blank=True)
    # 近亲属备案: staff related to the applicant's household, who may not handle the case.
    relative_flag = models.BooleanField("工作人员近亲属", default=False)
    related_staff = models.JSONField(default=list)
    escalated = models.BooleanField("逾期已上报区级", default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "救助案件"
        ordering = ["-accepted_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(
                    status__in=["accepted", "investigating", "town_review", "publicity", "deciding"]
                ),
                name="one_open_case_per_household_programme",
            ),
        ]
        indexes = [models.Index(fields=["town", "status"]), models.Index(fields=["due_on"])]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.programme}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AmountChangeKind(models.TextChoices):
    ADJUST = "adjust", "调整金额"
    GRADUAL_EXIT = "gradual_exit", "渐退"


class AmountChange(models.Model):
    """A later change of an approved case's monthly amount (动态管理), from a month on. The
    amount paid for a month is the latest change whose ``from_month`` is not after it, or the
    decided amount before any change."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="amount_changes")
    from_month = models.CharField("自月份起", max_length=7)
    amount = models.DecimalField("金额(元/月)", max_digits=12, decimal_places=2)
    kind = models.CharField("类别", max_length=12, choices=AmountChangeKind.choices)
    reason = models.CharField("理由", max_length=500)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "金额调整"
        ordering = ["from_month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "from_month"], name="one_change_per_month")
        ]


class StepRecord(models.Model):
    """One step of a case with its due date (from the working-day limits of the catalogue)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField("步骤", max_length=20)
    order = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField(default=1)  # a re-investigation is round 2
    due_on = models.DateField("期限", null=True, blank=True)
    started_on = models.DateField("开始日期", null=True, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("结果", max_length=500, blank=True)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["order", "round", "id"]
        verbose_name = "办理步骤"


class AuthMethod(models.TextChoices):
    OTP = "otp", "手机验证码签署"
    PAPER = "paper", "纸质授权书扫描件"


class Document(models.Model):
    """An uploaded file (PDF, JPEG or PNG, at most 10 MB), kept in the database."""

    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField("类别", max_length=20)
    name = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "申请材料"


class MemberAuthorisation(models.Model):
    """An adult member's signed check authorisation (and 告知承诺) for this application."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="authorisations"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=6, choices=AuthMethod.choices)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "person"], name="one_auth_per_member")
        ]


class SigningCode(models.Model):
    """A one-time code sent to a member's phone to sign the authorisation (hash only)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


class MissingDocument(models.Model):
    """容缺受理: a document still owed, with its deadline; the case proceeds meanwhile."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="missing_documents"
    )
    name = models.CharField("材料名称", max_length=100)
    deadline = models.DateField("补交期限")
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField("补交时间", null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]


class Objection(models.Model):
    """An objection raised during 公示, and how it was dealt with."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="objections")
    text = models.TextField("异议内容")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    handling = models.CharField("处理方式", max_length=20)  # reinvestigation / minzhu_pingyi


class StaffRelative(models.Model):
    """近亲属备案: a staff member's declared relative."""

    staff = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    relation = models.CharField("关系", max_length=20)
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "person"], name="relative_once_per_staff")
        ]
