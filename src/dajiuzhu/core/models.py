from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from dajiuzhu.core.roles import STAFF_ROLES, Role


class DivisionLevel(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区(市)"
    TOWN = "town", "镇(街道)"
    COMMUNITY = "community", "村(社区)"
    GRID = "grid", "网格"


# The city: the only scope an administrator may have (decision 0006).
CITY_CODE = "320400"

# Length of the code at each level: 320400 / 320402 / 320402001 / 320402001001 / …001
LEVEL_CODE_LENGTH = {
    DivisionLevel.CITY: 6,
    DivisionLevel.DISTRICT: 6,
    DivisionLevel.TOWN: 9,
    DivisionLevel.COMMUNITY: 12,
    DivisionLevel.GRID: 15,
}


class Division(models.Model):
    """An administrative division. A user's scope is a code; scoping is a prefix match."""

    code = models.CharField("区划代码", max_length=15, primary_key=True)
    name = models.CharField("名称", max_length=60)
    level = models.CharField("层级", max_length=10, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def scope_prefix(self) -> str:
        """The prefix shared by this division and everything under it.

        The city's code 320400 is a prefix of no district's code (320402…), so the city
        scope is its two-digit-per-level stem "3204".
        """
        if self.level == DivisionLevel.CITY:
            return self.code.rstrip("0")[:4]
        return self.code


class DepartmentKind(models.TextChoices):
    PROVIDER = "provider", "数据提供部门"
    OWNER = "owner", "救助实施部门"
    BOTH = "both", "数据提供和救助实施"


class Department(models.Model):
    code = models.SlugField("部门代码", max_length=30, primary_key=True)
    name = models.CharField("部门名称", max_length=60, unique=True)
    kind = models.CharField("类别", max_length=10, choices=DepartmentKind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = "部门"

    def __str__(self) -> str:
        return self.name

    @property
    def provides_data(self) -> bool:
        return self.kind in (DepartmentKind.PROVIDER, DepartmentKind.BOTH)

    @property
    def runs_programmes(self) -> bool:
        return self.kind in (DepartmentKind.OWNER, DepartmentKind.BOTH)


class User(AbstractUser):
    """Staff and residents. Staff have a role and a scope (division code prefix)."""

    role = models.CharField("角色", max_length=20, choices=Role.choices)
    scope = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="管辖范围",
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name="所属部门",
    )
    display_name = models.CharField("姓名", max_length=50, blank=True)
    # Residents log in by phone: the phone is stored encrypted with a blind index.
    phone_enc = models.BinaryField(null=True, blank=True, editable=False)
    phone_index = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="resident") | Q(scope__isnull=False),
                name="staff_user_has_scope",
            ),
            models.CheckConstraint(
                condition=~Q(role="data_steward") | Q(department__isnull=False),
                name="steward_has_department",
            ),
            # Administrators exist only at city level (decision 0006).
            models.CheckConstraint(
                condition=~Q(role="admin") | Q(scope=CITY_CODE),
                name="admin_is_city_wide",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_platform_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def scope_prefix(self) -> str:
        return self.scope.scope_prefix if self.scope is not None else ""


class ApiToken(models.Model):
    """A department's API token. Only a SHA-256 of the secret is stored."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tokens")
    name = models.CharField("用途说明", max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "部门接口令牌"

    def __str__(self) -> str:
        return f"{self.department_id}:{self.prefix}"


class AuditEvent(models.Model):
    """Append-only audit log chained by HMAC-SHA256 with the audit key (core/audit.py):
    ``prev_hash`` is the previous event's MAC, ``hash`` this event's. Rows are never updated
    or deleted."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=100)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    purpose = models.CharField(max_length=20)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "审计事件"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


class AuditHead(models.Model):
    """One row holding the MAC of the latest event and the count; locked to serialise chain
    appends. Checkpoints of it outside the database show when it was set back."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)


class OtpChallenge(models.Model):
    """A one-time code sent by SMS to a resident's phone. Only a hash of the code is kept."""

    phone_index = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # Who asked (keyed hashes, never the address itself): sends are limited per client as well
    # as per phone, so that one client cannot have codes sent to many phones.
    session_index = models.CharField(max_length=64, blank=True, db_index=True)
    client_ip_index = models.CharField(max_length=64, blank=True, db_index=True)
