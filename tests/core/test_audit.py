import json

import pytest
from django.db import DatabaseError, connection, transaction

from dajiuzhu.cli import main
from dajiuzhu.core.audit import audit_record, audit_verify
from dajiuzhu.core.models import AuditEvent, AuditHead
from dajiuzhu.registry.selectors import household_file
from tests.conftest import make_household


def _tamper(event_id: int) -> None:
    """Alter one stored event as someone with database access would, past the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
        cursor.execute(
            "UPDATE core_auditevent SET purpose = %s WHERE id = %s", ["supervision", event_id]
        )


def test_every_write_and_read_is_chained(db, tn_clerk):
    household, people = make_household("320402001")
    before = AuditEvent.objects.count()
    household_file(user=tn_clerk, household_id=household.pk, purpose="casework")
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "household.view"
    assert event.actor == tn_clerk
    assert event.purpose == "casework"
    assert event.detail["persons"] == [p.pk for p in people]
    previous = AuditEvent.objects.filter(id__lt=event.id).order_by("-id").first()
    assert event.prev_hash == previous.hash
    assert AuditHead.objects.get().last_hash == event.hash
    assert audit_verify().ok


def test_the_model_and_the_database_refuse_changes(db):
    event = audit_record(
        actor=None, action="test.event", object_type="test", object_id=1, purpose="administration"
    )
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(purpose="supervision")


def test_verify_names_the_first_altered_event(db, capsys):
    first = audit_record(
        actor=None, action="test.a", object_type="test", object_id=1, purpose="administration"
    )
    second = audit_record(
        actor=None, action="test.b", object_type="test", object_id=2, purpose="administration"
    )
    audit_record(
        actor=None, action="test.c", object_type="test", object_id=3, purpose="administration"
    )
    assert main(["audit", "verify"]) == 0
    _tamper(second.pk)
    report = audit_verify()
    assert not report.ok
    assert report.first_broken_id == second.pk
    assert report.first_broken_id != first.pk
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["first_broken_event"] == second.pk


def test_verify_notices_a_deleted_last_event(db):
    audit_record(
        actor=None, action="test.a", object_type="test", object_id=1, purpose="administration"
    )
    last = audit_record(
        actor=None, action="test.b", object_type="test", object_id=2, purpose="administration"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    report = audit_verify()
    assert not report.ok
    assert "head" in report.reason
