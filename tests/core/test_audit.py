import hashlib
import json
import socket
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from dajiuzhu.cli import main
from dajiuzhu.core import audit
from dajiuzhu.core.audit import GENESIS, audit_checkpoint, audit_record, audit_verify
from dajiuzhu.core.models import AuditEvent, AuditHead
from dajiuzhu.registry.selectors import household_file
from tests.factories.registry import make_household


@contextmanager
def _as_dba():
    """Write the audit table as someone with database access would: past the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
        yield cursor


def _tamper(event_id: int) -> None:
    with _as_dba() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET purpose = %s WHERE id = %s", ["supervision", event_id]
        )


def _rewrite_from(event_id: int) -> None:
    """A DBA's rewrite: edit one event, recompute the hash of it and of every later event
    and the head — without the audit key, so with plain SHA-256 (the former scheme)."""
    events = list(AuditEvent.objects.order_by("id"))
    with _as_dba() as cursor:
        prev = GENESIS
        for event in events:
            if event.id == event_id:
                event.purpose = "supervision"
            if event.id >= event_id:
                event.prev_hash = prev
                event.hash = hashlib.sha256(audit._canonical(event)).hexdigest()
                cursor.execute(
                    "UPDATE core_auditevent SET purpose = %s, prev_hash = %s, hash = %s "
                    "WHERE id = %s",
                    [event.purpose, event.prev_hash, event.hash, event.id],
                )
            prev = event.hash
    AuditHead.objects.filter(id=1).update(last_hash=prev)


def _delete_after(event_id: int, *, reset_head: bool) -> None:
    with _as_dba() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id > %s", [event_id])
    if reset_head:
        kept = AuditEvent.objects.filter(id__lte=event_id)
        AuditHead.objects.filter(id=1).update(
            count=kept.count(), last_hash=AuditEvent.objects.get(id=event_id).hash
        )


def _events(n: int) -> list[AuditEvent]:
    return [
        audit_record(
            actor=None, action="test.e", object_type="test", object_id=i, purpose="administration"
        )
        for i in range(n)
    ]


def _kinds(report) -> list[str]:
    return [p.kind for p in report.problems]


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


def test_the_chain_is_keyed_with_the_audit_key_not_a_plain_hash(db, monkeypatch):
    event = _events(1)[0]
    assert event.hash != hashlib.sha256(audit._canonical(event)).hexdigest()
    assert event.hash == audit.event_mac(event)
    monkeypatch.setenv("DAJIUZHU_AUDIT_KEY", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=")
    audit.reset_key_cache()
    try:
        assert audit.event_mac(event) != event.hash  # another key, another chain
    finally:
        monkeypatch.delenv("DAJIUZHU_AUDIT_KEY")
        audit.reset_key_cache()


def test_verify_names_the_first_altered_event(db, capsys):
    first, second, _third = _events(3)
    assert main(["audit", "verify"]) == 0
    _tamper(second.pk)
    report = audit_verify()
    assert not report.ok
    assert report.first_broken_id == second.pk
    assert report.first_broken_id != first.pk
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["first_broken_event"] == second.pk
    assert f"event {second.pk}" in captured.err


def test_a_dba_rewrite_of_an_event_and_every_later_hash_and_the_head_is_caught(db, capsys):
    _first, second, third, fourth = _events(4)
    _rewrite_from(second.pk)
    # The rewrite is consistent as far as plain SHA-256 goes: the old verification passed it.
    assert AuditEvent.objects.get(pk=fourth.pk).prev_hash == (
        AuditEvent.objects.get(pk=third.pk).hash
    )
    assert AuditHead.objects.get().last_hash == AuditEvent.objects.get(pk=fourth.pk).hash
    report = audit_verify()
    assert not report.ok
    assert _kinds(report) == ["event"]
    assert report.first_broken_id == second.pk
    assert f"事件{second.pk}" in report.reason and "被改动" in report.reason
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"audit: event (event {second.pk}, position" in err


def test_a_correct_chain_with_checkpoints_passes(db, capsys):
    _events(3)
    assert audit_checkpoint(by="test") is not None
    assert audit_checkpoint(by="test") is None  # the head did not move: no new line
    _events(2)
    assert main(["audit", "checkpoint"]) == 0
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["ok"] is True
    assert out["checkpoints"] == 2
    assert out["problems"] == []


def test_a_truncated_chain_is_caught_even_with_the_head_set_back(db, audit_checkpoints):
    events = _events(5)
    audit_checkpoint(by="test")
    total = AuditHead.objects.get().count
    _delete_after(events[2].pk, reset_head=True)
    report = audit_verify()
    assert not report.ok
    assert _kinds(report) == ["truncated"]
    problem = report.problems[0]
    assert problem.event_id == events[2].pk
    assert problem.position == total - 2
    assert problem.line == 1
    assert f"记录了{total}个事件,数据库只有{total - 2}个" in problem.message


def test_a_deleted_last_event_shows_in_the_head(db):
    _events(1)
    last = _events(1)[0]
    with _as_dba() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    report = audit_verify()
    assert not report.ok
    assert _kinds(report) == ["head"]


def test_a_deleted_middle_event_is_named_by_the_next_one(db):
    _a, b, c = _events(3)
    with _as_dba() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [b.pk])
    report = audit_verify()
    assert _kinds(report) == ["deleted", "head"]
    assert report.first_broken_id == c.pk


def test_a_rewritten_head_is_caught(db):
    _events(2)
    AuditHead.objects.filter(id=1).update(last_hash="f" * 64)
    report = audit_verify()
    assert _kinds(report) == ["head"]
    assert "链头被改写" in report.reason


def test_an_edited_checkpoint_file_is_caught(db, audit_checkpoints):
    _events(2)
    audit_checkpoint(by="test")
    _events(1)
    audit_checkpoint(by="test")
    _events(1)
    audit_checkpoint(by="test")
    lines = audit_checkpoints.read_text().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    first["count"] += 100  # claim more events than there were, keeping the old MAC
    audit_checkpoints.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    report = audit_verify()
    assert [(p.kind, p.line) for p in report.problems] == [("checkpoint_file", 1)]
    audit_checkpoints.write_text("\n".join([lines[0], lines[2]]) + "\n")  # drop the middle one
    report = audit_verify()
    assert [(p.kind, p.line) for p in report.problems] == [("checkpoint_file", 2)]
    assert "之前有行被删除" in report.problems[0].message


def test_the_audit_path_writes_a_checkpoint_every_n_committed_events(
    db, settings, audit_checkpoints, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 3
    start = AuditHead.objects.get().count
    with django_capture_on_commit_callbacks(execute=True):
        _events(7)
    expected = [c for c in range(start + 1, start + 8) if c % 3 == 0]
    lines = [json.loads(line) for line in audit_checkpoints.read_text().splitlines()]
    assert [line["count"] for line in lines] == expected
    assert {line["by"] for line in lines} == {"audit"}
    assert audit_checkpoints.stat().st_mode & 0o777 == 0o600
    assert audit_checkpoints.parent.stat().st_mode & 0o777 == 0o700
    assert audit_verify().ok


def test_a_rolled_back_event_never_becomes_a_checkpoint(
    db, settings, audit_checkpoints, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 1
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _events(2)
        raise RuntimeError("the action failed")
    assert callbacks == []
    assert not audit_checkpoints.exists()


def test_checkpoints_go_to_syslog_when_configured(db, settings):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    settings.AUDIT_SYSLOG = f"127.0.0.1:{receiver.getsockname()[1]}"
    try:
        _events(1)
        line = audit_checkpoint(by="test")
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
    assert "dajiuzhu-audit-checkpoint" in message
    assert f'"count": {line["count"]}' in message
    assert line["mac"] in message


def _legacy_chain(n: int, *, break_at: int | None = None) -> list[AuditEvent]:
    """A chain as the first scheme wrote it (unkeyed SHA-256), in an otherwise empty log."""
    with _as_dba() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    from django.utils import timezone

    prev, events = GENESIS, []
    for i in range(n):
        event = AuditEvent(
            at=timezone.now(),
            actor_label="system",
            action="legacy.e",
            object_type="test",
            object_id=str(i),
            purpose="administration",
            detail={},
            prev_hash=prev,
        )
        event.hash = audit.legacy_event_hash(event)
        if i == break_at:
            event.purpose = "supervision"  # altered after hashing, under the old scheme
        event.save()
        prev = event.hash
        events.append(event)
    AuditHead.objects.update_or_create(id=1, defaults={"last_hash": prev, "count": n})
    return events


def _reseal():
    migration = __import__(
        "dajiuzhu.core.migrations.0003_audit_keyed_reseal", fromlist=["forwards"]
    )
    migration.forwards(apps, SimpleNamespace(connection=connection))


def test_an_existing_chain_is_resealed_once_with_a_signed_record(db, audit_checkpoints):
    events = _legacy_chain(4)
    assert not audit_verify().ok  # the old hashes are not MACs
    _reseal()
    report = audit_verify()
    assert report.ok, report.problems
    assert report.checked == 4
    assert len(report.notes) == 1 and "重新签名了4个旧事件" in report.notes[0]
    assert "原SHA-256链完好" in report.notes[0]
    line = json.loads(audit_checkpoints.read_text())
    assert (line["by"], line["count"], line["legacy_intact"]) == ("reseal", 4, True)
    with pytest.raises(DatabaseError), transaction.atomic():  # the trigger is back
        AuditEvent.objects.filter(pk=events[0].pk).update(purpose="supervision")
    _tamper(events[1].pk)  # after the re-seal, an edit is caught as any other
    assert audit_verify().first_broken_id == events[1].pk


def test_a_chain_broken_before_the_reseal_stays_on_record(db):
    events = _legacy_chain(4, break_at=2)
    _reseal()
    report = audit_verify()
    assert report.ok  # the re-sealed chain itself is intact …
    assert f"原SHA-256链已断开(事件{events[2].pk})" in report.notes[0]  # … but not before


def test_many_events_appended_at_once_chain_and_checkpoint_as_one_by_one(
    db, settings, audit_checkpoints, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 3
    start = AuditHead.objects.get().count
    entries = [
        audit.AuditEntry("test.many", "test", i, "administration", {"i": i}) for i in range(7)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        events = audit.audit_record_many(actor=None, entries=entries, label="care")
        audit.audit_record_many(actor=None, entries=[])
    assert [e.object_id for e in events] == [str(i) for i in range(7)]
    assert all(e.pk for e in events)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    head = AuditHead.objects.get()
    assert (head.count, head.last_hash) == (start + 7, events[-1].hash)
    lines = [json.loads(line) for line in audit_checkpoints.read_text().splitlines()]
    assert [line["count"] for line in lines] == [
        c for c in range(start + 1, start + 8) if c % 3 == 0
    ]
    assert [line["head"] for line in lines] == [
        events[line["count"] - start - 1].hash for line in lines
    ]
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_gathered_events_are_appended_together_at_the_end_of_the_block():
    from dajiuzhu.core.audit import audit_gathered

    audit_record(actor=None, action="t.first", object_type="t", object_id=1, purpose="test")
    start = AuditHead.objects.get(id=1).count  # the reference data's events, and t.first
    with transaction.atomic(), audit_gathered():
        audit_record(actor=None, action="t.a", object_type="t", object_id=2, purpose="test")
        with audit_gathered():  # nested: the outermost block appends
            audit_record(actor=None, action="t.b", object_type="t", object_id=3, purpose="test")
        assert AuditEvent.objects.order_by("id").last().action == "t.first"
        assert AuditHead.objects.get(id=1).count == start
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["t.first", "t.a", "t.b"]
    assert AuditHead.objects.get(id=1).count == start + 2 == len(actions)
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_gathering_block_that_fails_appends_nothing():
    from dajiuzhu.core.audit import audit_gathered

    with pytest.raises(ZeroDivisionError), transaction.atomic(), audit_gathered():
        audit_record(actor=None, action="t.lost", object_type="t", object_id=1, purpose="test")
        1 / 0  # noqa: B018
    assert not AuditEvent.objects.filter(action="t.lost").exists()
    audit_record(actor=None, action="t.next", object_type="t", object_id=2, purpose="test")
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_gathering_outside_a_transaction_is_refused():
    from dajiuzhu.core.audit import audit_gathered

    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"), audit_gathered():
        audit_record(actor=None, action="t.x", object_type="t", object_id=1, purpose="test")
    assert not AuditEvent.objects.filter(action="t.x").exists()
