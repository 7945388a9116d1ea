"""Demo devices: a motion sensor and a pendant (and for some a smoke detector) for special-
hardship people of 天宁区 and 武进区 — people with a hardship category if the registry holds
any, otherwise the oldest residents — each with a first care plan naming the grid worker."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from dajiuzhu.care import services
from dajiuzhu.care.models import Device
from dajiuzhu.core import crypto
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.registry.models import Category, HardshipCategory, Person

CARE_CATEGORIES = (
    Category.TEKUN,
    Category.ELDERLY_ALONE,
    Category.SEVERE_DISABILITY,
    Category.LEFT_BEHIND_ELDERLY,
)
DISTRICTS = ("320402", "320412")


def _people(count: int) -> list[Person]:
    people = list(
        Person.objects.filter(
            pk__in=HardshipCategory.objects.filter(category__in=CARE_CATEGORIES).values("person")
        ).order_by("pk")[:count]
    )
    if len(people) < count:
        for district in DISTRICTS:
            people += list(
                Person.objects.filter(hukou_division__code__startswith=district, status="normal")
                .exclude(pk__in=[p.pk for p in people])
                .order_by("birth_date", "pk")[: (count - len(people)) // 2 + 1]
            )
    return people[:count]


def demo_escalation_groups() -> None:
    """city_supervisor is the duty supervisor, city_call2 the second operator group."""
    from django.contrib.auth.models import Group

    from dajiuzhu.care.access import DUTY_GROUP, SECOND_GROUP

    for group, username in ((DUTY_GROUP, "city_supervisor"), (SECOND_GROUP, "city_call2")):
        user = User.objects.filter(username=username).first()
        if user is not None:
            Group.objects.get_or_create(name=group)[0].user_set.add(user)


@transaction.atomic
def demo_devices(count: int = 20) -> list[str]:
    """Register the demo devices once (a second run finds them and does nothing)."""
    demo_escalation_groups()
    if Device.objects.filter(device_id__startswith="DEMO-").exists():
        return list(
            Device.objects.filter(device_id__startswith="DEMO-", kind="pendant").values_list(
                "device_id", flat=True
            )
        )
    installed = timezone.localdate() - timedelta(days=30)
    pendants = []
    for n, person in enumerate(_people(count), start=1):
        number = crypto.decrypt(person.id_number_enc, field="person.id_number")
        kinds = [("M", "motion"), ("P", "pendant")] + ([("S", "smoke")] if n % 3 == 0 else [])
        for suffix, kind in kinds:
            services.device_register(
                actor=None,
                device_id=f"DEMO-{n:04d}-{suffix}",
                kind=kind,
                id_number=number,
                installed_at=installed,
            )
        pendants.append(f"DEMO-{n:04d}-P")
        division = services.person_division(person)
        grid = next(
            (
                u
                for u in User.objects.filter(role=Role.GRID_WORKER, is_active=True)
                if u.scope_prefix and division.startswith(u.scope_prefix)
            ),
            None,
        )
        services.plan_save(
            actor=None,
            person=person,
            services=["智能设备", "电话问候", "上门走访"],
            visit_schedule="每周电话问候,每月上门一次",
            visit_every_days=30,
            review_date=timezone.localdate() + timedelta(days=180),
            grid_worker=grid,
            contacts=[{"name": "联系人", "relation": "子女", "phone": "13900000000"}],
        )
    return pendants
