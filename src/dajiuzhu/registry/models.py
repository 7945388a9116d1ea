from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import Division


class PersonStatus(models.TextChoices):
    NORMAL = "normal", "正常"
    DECEASED = "deceased", "死亡"
    MOVED_OUT = "moved_out", "迁出"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Person(models.Model):
    """A resident. The ID number is stored encrypted, with a keyed blind index and the lake's
    ``person_key`` (both derived from the same HMAC) for exact lookup and re-identification."""

    id_number_enc = models.BinaryField(editable=False)
    id_index = models.CharField(max_length=64, unique=True, editable=False)
    person_key = models.BigIntegerField(unique=True, editable=False)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    phone_enc = models.BinaryField(null=True, blank=True, editable=False)
    phone_index = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    hukou_division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name="户籍地"
    )
    residence_division = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="居住地",
    )
    status = models.CharField(
        "人口状态", max_length=10, choices=PersonStatus.choices, default=PersonStatus.NORMAL
    )
    death_date = models.DateField("死亡日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "人员"
        indexes = [models.Index(fields=["hukou_division"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    household_no = models.CharField("户号", max_length=30, unique=True)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name="所在区划"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "家庭户"
        indexes = [models.Index(fields=["division"])]

    def __str__(self) -> str:
        return self.household_no


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class Membership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relation = models.CharField("与户主关系", max_length=12, choices=Relation.choices)
    start_date = models.DateField("起始日期")
    end_date = models.DateField("终止日期", null=True, blank=True)

    class Meta:
        verbose_name = "家庭成员关系"
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(end_date__isnull=True),
                name="one_current_household_per_person",
            ),
        ]


class Category(models.TextChoices):
    TEKUN = "tekun", "特困"
    DIBAO = "dibao", "低保"
    DIBIAN = "dibian", "低边"
    ZHICHU = "zhichu", "支出型困难"
    SEVERE_DISABILITY = "severe_disability", "重残"
    ELDERLY_ALONE = "elderly_alone", "独居老人"
    ORPHAN = "orphan", "孤儿"
    UNSUPPORTED_CHILD = "unsupported_child", "事实无人抚养儿童"
    LEFT_BEHIND_ELDERLY = "left_behind_elderly", "留守老人"
    LEFT_BEHIND_CHILD = "left_behind_child", "留守儿童"


class HardshipCategory(models.Model):
    """A dated hardship category held by a person (e.g. 低保 from 2023-03-01)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="categories")
    category = models.CharField("困难类别", max_length=24, choices=Category.choices)
    start_date = models.DateField("起始日期")
    end_date = models.DateField("终止日期", null=True, blank=True)
    source = models.CharField("来源", max_length=60, blank=True)

    class Meta:
        verbose_name = "困难类别"
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category", "start_date"],
                name="category_once_per_start",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="category_dates_ordered",
            ),
        ]
