"""Monthly payment rosters (发放名册) per district and programme, their payments, and the bank's
returns. A roster is prepared by a caseworker and released by an approver (two people); a
released roster never changes — a correction is a supplementary roster of the same month."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.cases.models import Case
from dajiuzhu.core.models import Division, User
from dajiuzhu.registry.models import Household, Person


class RosterStatus(models.TextChoices):
    PREPARED = "prepared", "待审核"
    RELEASED = "released", "已审核发放"


class Roster(models.Model):
    district = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    programme = models.CharField("救助项目", max_length=30)
    month = models.CharField("发放月份", max_length=7)
    # 1 is the month's regular roster; 2, 3 … its supplementary rosters (补发).
    seq = models.PositiveSmallIntegerField("批次", default=1)
    status = models.CharField(
        "状态", max_length=10, choices=RosterStatus.choices, default=RosterStatus.PREPARED
    )
    prepared_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField("编制时间")
    released_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField("审核发放时间", null=True, blank=True)
    paid_date = models.DateField("发放日期", null=True, blank=True)
    lines = models.PositiveIntegerField("笔数", default=0)
    total = models.DecimalField("金额合计", max_digits=14, decimal_places=2, default=0)
    lake_batch = models.PositiveIntegerField("数据湖批次", null=True, blank=True)

    class Meta:
        verbose_name = "发放名册"
        ordering = ["-month", "district_id", "programme", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "programme", "month", "seq"], name="one_roster_per_seq"
            ),
            # At most one roster of a month and programme is being prepared at a time.
            models.UniqueConstraint(
                fields=["district", "programme", "month"],
                condition=Q(status="prepared"),
                name="one_prepared_roster",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.district_id} {self.programme} #{self.seq}"

    @property
    def supplementary(self) -> bool:
        return self.seq > 1


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "待发放"
    PAID = "paid", "已发放"
    RETURNED = "returned", "银行退回"
    REPAID = "repaid", "已重新发放"


class Payment(models.Model):
    """One case's payment for one month. A returned payment is re-sent under the same
    ``payment_id`` on a supplementary roster (``resent_on``), so the lake keeps one row for
    it."""

    payment_id = models.CharField("发放流水号", max_length=40, unique=True)
    roster = models.ForeignKey(Roster, on_delete=models.PROTECT, related_name="payments")
    resent_on = models.ForeignKey(
        Roster, null=True, blank=True, on_delete=models.PROTECT, related_name="resent"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    programme = models.CharField("救助项目", max_length=30)
    month = models.CharField("所属月份", max_length=7)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    status = models.CharField(
        "状态", max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    paid_date = models.DateField("发放日期", null=True, blank=True)
    returned_on = models.DateField("退回日期", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=200, blank=True)
    repay_requested = models.BooleanField("待重新发放", default=False)

    class Meta:
        verbose_name = "发放记录"
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "month"], name="one_payment_per_case_month")
        ]
        indexes = [models.Index(fields=["person", "month"]), models.Index(fields=["status"])]


class ReturnImport(models.Model):
    """One bank returns file as imported (its digest makes a second import a no-op)."""

    sha256 = models.CharField(max_length=64)
    district = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("文件名", max_length=120)
    rows = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-imported_at"]


class PublishedApproval(models.Model):
    """The ``assistance_recipients`` row last published for a case: a month's roster publishes
    only the approvals that are new or changed (start, end, monthly amount)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="+")
    row = models.CharField(max_length=80)
    published_at = models.DateTimeField()
