"""Re-seal an existing audit chain with the keyed MAC (docs/decisions/0004).

Until now an event's hash was an unkeyed SHA-256, which anyone who can write the database can
recompute after editing an event. This migration checks the old chain once, then recomputes
every event's ``prev_hash``/``hash`` as HMAC-SHA256 with the audit key (past the append-only
trigger, which it restores) and writes one signed checkpoint line that records how many events
were re-sealed and whether the old chain was intact. A break found now is therefore not
laundered: ``audit verify`` repeats the note on every run. A new database has no events and
nothing to do.
"""

from contextlib import contextmanager

from django.db import migrations

GENESIS = "0" * 64
CHUNK = 2000
SQLITE_TRIGGER = (
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
)


@contextmanager
def _append_only_suspended(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_change")
        else:
            cursor.execute(SQLITE_TRIGGER)


def _chunks(AuditEvent):
    last = 0
    while True:
        chunk = list(AuditEvent.objects.filter(id__gt=last).order_by("id")[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].id


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditHead = apps.get_model("core", "AuditHead")
    if not AuditEvent.objects.exists():
        return
    from dajiuzhu.core import audit  # the current MAC and checkpoint format

    prev, count, broken, reason = GENESIS, 0, None, ""
    for chunk in _chunks(AuditEvent):
        for event in chunk:
            count += 1
            if broken is None and event.prev_hash != prev:
                broken, reason = event.id, "prev_hash does not match the event before"
            elif broken is None and audit.legacy_event_hash(event) != event.hash:
                broken, reason = event.id, "content does not match its hash"
            prev = event.hash
    head = AuditHead.objects.filter(id=1).first()
    intact = broken is None
    if intact and head is not None and (head.count != count or head.last_hash != prev):
        intact, reason = False, "events are missing at the end of the chain (head mismatch)"

    prev = GENESIS
    with _append_only_suspended(schema_editor.connection):
        for chunk in _chunks(AuditEvent):
            for event in chunk:
                event.prev_hash = prev
                event.hash = audit.event_mac(event)
                prev = event.hash
            AuditEvent.objects.bulk_update(chunk, ["prev_hash", "hash"])
    AuditHead.objects.update_or_create(id=1, defaults={"last_hash": prev, "count": count})
    audit.checkpoint_write(
        count=count,
        head=prev,
        by="reseal",
        resealed=count,
        legacy_intact=intact,
        legacy_broken_event=broken,
        legacy_reason=reason,
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]
    # Irreversible: the old scheme's hashes are not kept.
    operations = [migrations.RunPython(forwards)]
