"""Authorisations (家庭经济状况核对授权书) and the check reports (核对报告)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import User
from dajiuzhu.registry.models import Household, Person


class Authorisation(models.Model):
    """A member's signed authorisation for the economic-status check: who signed, the scope,
    the date and the expiry. Every adult member must have one before a check runs."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="authorisations")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="authorisations"
    )
    signed_by = models.CharField("签署人", max_length=50)
    scope = models.CharField(
        "授权范围", max_length=200, default="收入、财产、支出等家庭经济状况信息的查询核对"
    )
    signed_on = models.DateField("签署日期")
    expires_on = models.DateField("有效期至")
    document_ref = models.CharField("授权书编号", max_length=60, blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_on"]
        verbose_name = "核对授权书"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("signed_on")),
                name="authorisation_expires_after_signing",
            ),
        ]


class VerificationReport(models.Model):
    """One household economic-status check: its inputs, sources and results, as issued."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="reports")
    month = models.CharField("核对月份", max_length=7)
    purpose = models.CharField("用途", max_length=20)
    requested_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    complete = models.BooleanField("数据完整", default=True)
    report = models.JSONField("报告")  # members by registry id; no ID numbers
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "家庭经济状况核对报告"
