"""Phone numbers for the synthetic people, so that the grid worker's call link shows in the
demo. The 户籍 delivery carries no phones (residents give theirs at the window); the demo gives
every person one, encrypted with its blind index exactly as the registry stores any phone."""

from __future__ import annotations

from django.db import transaction

from dajiuzhu.core import crypto
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.roles import Purpose
from dajiuzhu.registry.models import Person

# 159 + eight digits from the person's row id: valid mainland mobile numbers, distinct from
# each other and from the demo resident's log-in phone (138…).
PREFIX = "159"
CHUNK = 1000


def demo_phone(person_id: int) -> str:
    return f"{PREFIX}{person_id % 100_000_000:08d}"


@transaction.atomic
def demo_phones() -> int:
    """Give every person without a phone a demo phone. Returns how many were given one."""
    ids = list(Person.objects.filter(phone_enc__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        people = []
        for pk in ids[start : start + CHUNK]:
            phone = demo_phone(pk)
            people.append(
                Person(
                    pk=pk,
                    phone_enc=crypto.encrypt(phone, field="person.phone"),
                    phone_index=crypto.phone_index(phone),
                )
            )
        Person.objects.bulk_update(people, ["phone_enc", "phone_index"])
    if ids:
        audit_record(
            actor=None,
            action="demo.phones",
            object_type="person",
            object_id="*",
            purpose=Purpose.ADMINISTRATION,
            label="demo",
            detail={"count": len(ids)},
        )
    return len(ids)
