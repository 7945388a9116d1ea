from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import Department, User


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RECEIVING = "receiving", "处理中"
    PUBLISHED = "published", "已发布"
    DUPLICATE = "duplicate", "重复文件(未重复入库)"
    FAILED = "failed", "失败"
    RETRACTED = "retracted", "已撤回"


class Channel(models.TextChoices):
    FILE = "file", "文件"
    API_ROWS = "api_rows", "接口推送"
    API_FILE = "api_file", "接口上传文件"
    PAGE = "page", "页面上传"
    CLI = "cli", "命令行"
    RESUBMIT = "resubmit", "更正后重报"
    PLATFORM = "platform", "平台业务(发放名册)"


class Batch(models.Model):
    """One delivery of a dataset by a department: the catalog row of a lake batch.

    A batch is visible to readers only when ``status`` is published; publication flips the
    status in the same transaction that records quarantine and quality, so a reader never sees
    half a batch.
    """

    dataset = models.CharField("数据集", max_length=40, db_index=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="batches")
    steward = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.CharField("提交方", max_length=100)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        "状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.RECEIVING
    )
    received_at = models.DateTimeField("接收时间")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    rows = models.BigIntegerField("行数", default=0)
    accepted = models.BigIntegerField("入库行数", default=0)
    rejected = models.BigIntegerField("隔离行数", default=0)
    replaced_in_file = models.BigIntegerField("文件内重复键", default=0)
    seconds = models.FloatField("耗时(秒)", default=0)
    completeness = models.FloatField("完整性", null=True, blank=True)
    validity = models.FloatField("合法性", null=True, blank=True)
    accuracy = models.FloatField("准确性", null=True, blank=True)
    timeliness = models.FloatField("时效性", null=True, blank=True)
    overlaps = models.BooleanField("与已有批次键重叠", default=False)
    clustered = models.BooleanField("已按人员排序", default=False)
    period_max = models.CharField("数据截至", max_length=10, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField("错误信息", blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)
    # Who works on the batch and whether it still lives (exchange/recovery.py): the owning
    # process ("host:pid:start"), its last heartbeat (while queued: when it was last enqueued),
    # and how many times a worker took it.
    owner = models.CharField(max_length=160, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retract_reason = models.CharField("撤回原因", max_length=500, blank=True)
    upload_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "数据批次"
        indexes = [models.Index(fields=["dataset", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="retracted") | ~Q(retract_reason=""),
                name="retraction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset}#{self.pk}"

    @property
    def note(self) -> str:
        """What a department must notice about a published batch that loaded nothing."""
        if self.status != BatchStatus.PUBLISHED:
            return ""
        if self.rows == 0:
            return "文件只有表头,没有数据行:本批次为空,未入库任何数据"
        if self.accepted == 0 and self.rejected:
            return f"全部{self.rejected}行均不符合约定,已隔离,未入库任何数据"
        return ""


class QuarantineRow(models.Model):
    """A row set aside: its row number, the problems, and the original values (encrypted:
    they may hold an ID number)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.BigIntegerField("行号")
    problems = models.JSONField("问题")  # [{"field", "code", "message"}]
    raw_enc = models.BinaryField()

    class Meta:
        ordering = ["batch", "row_number"]
        verbose_name = "隔离数据"


class DatasetState(models.Model):
    """One row per dataset, locked while a batch is published so that overlap detection and
    publication are serialised per dataset."""

    dataset = models.CharField(max_length=40, primary_key=True)
    last_published_at = models.DateTimeField(null=True, blank=True)


class SharingAgreement(models.Model):
    """A consuming department may read a dataset for a purpose, limited to some fields."""

    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="agreements")
    dataset = models.CharField("数据集", max_length=40)
    purpose = models.CharField("用途", max_length=20)
    fields = models.JSONField("可读字段")
    scope = models.CharField("使用场景", max_length=200)
    legal_basis = models.CharField("依据", max_length=200, blank=True)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "共享协议"
        ordering = ["dataset", "consumer"]
