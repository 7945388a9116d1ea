"""The audit chain: every write and every read of a person's data is one event.

Each event stores the hash of the previous event; ``audit_verify`` recomputes the chain and
names the first event that does not match. Appends are serialised by locking ``AuditHead``
inside the caller's transaction, so the event commits or rolls back with the action it records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.models import AuditEvent, AuditHead, User

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "purpose": event.purpose,
        "detail": event.detail,
        "prev": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def actor_label(actor: User | None, *, system: str = "system") -> str:
    if actor is None:
        return system
    return f"{actor.username}:{actor.role}"


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str | int,
    purpose: str,
    detail: dict[str, Any] | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Never put a raw ID number or phone into ``detail``."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS, "count": 0}
        )
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_label=label or actor_label(actor),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            purpose=purpose,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = event_hash(event)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""


def audit_verify() -> ChainReport:
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=5000):
        if event.prev_hash != prev:
            return ChainReport(
                False, checked, event.id, "prev_hash does not match the event before"
            )
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.id, "content does not match its hash")
        prev = event.hash
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != checked):
        return ChainReport(
            False, checked, None, "events are missing at the end of the chain (head mismatch)"
        )
    return ChainReport(True, checked)
