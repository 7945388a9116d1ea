"""The audit chain: every write and every read of a person's data is one event.

Each event stores the MAC of the previous event and its own MAC, HMAC-SHA256 over its
canonical content with the audit key (``$DAJIUZHU_HOME/keys/audit.key`` or
``DAJIUZHU_AUDIT_KEY``), which never enters the database: someone who can write the database
but does not hold the key cannot recompute the chain after editing an event. Appends are
serialised by locking ``AuditHead`` inside the caller's transaction, so the event commits or
rolls back with the action it records. A long transaction gathers its events
(``audit_gathered``) and appends them at its end, so that the head stays locked only for its
last statements.

Truncation (deleting the newest events and setting the head back) cannot be seen from the
database alone, so the head is also written outside it: **checkpoints**, one JSON line each
(``count``, ``head`` MAC, time, writer, the previous line's MAC, and a MAC over all of them),
appended to ``settings.AUDIT_CHECKPOINT_FILE`` by the audit path after every
``AUDIT_CHECKPOINT_EVERY``-th event commits and by the worker every minute when the head has
moved (and to syslog when ``AUDIT_SYSLOG`` is set). ``audit_verify`` checks the file, the
chain against it and the head, and names what was changed. See docs/decisions/0005.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.models import AuditEvent, AuditHead, User
from dajiuzhu.home import load_key

GENESIS = "0" * 64
log = logging.getLogger("dajiuzhu.audit")


# --- keys -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _keys() -> tuple[bytes, bytes]:
    """Two keys derived from the audit key: one for the chain, one for checkpoint lines."""
    root = load_key("audit")
    chain = hmac.digest(root, b"dajiuzhu audit chain v2", "sha256")
    checkpoint = hmac.digest(root, b"dajiuzhu audit checkpoint v1", "sha256")
    return chain, checkpoint


def reset_key_cache() -> None:
    _keys.cache_clear()


# --- events -----------------------------------------------------------------------------------


def _canonical(event: Any) -> bytes:
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


def event_mac(event: Any) -> str:
    """HMAC-SHA256 of the event's canonical content (which includes the previous MAC)."""
    return hmac.new(_keys()[0], _canonical(event), hashlib.sha256).hexdigest()


def legacy_event_hash(event: Any) -> str:
    """The unkeyed SHA-256 of the first scheme, used once when an old chain is re-sealed."""
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
    entry = AuditEntry(action, object_type, object_id, purpose, detail)
    return audit_record_many(actor=actor, entries=[entry], label=label)[0]


@dataclass(frozen=True)
class AuditEntry:
    """One event of ``audit_record_many``: what was done to which object, and why."""

    action: str
    object_type: str
    object_id: str | int
    purpose: str
    detail: dict[str, Any] | None = None


def audit_record_many(
    *, actor: User | None, entries: list[AuditEntry], label: str | None = None
) -> list[AuditEvent]:
    """Append several events by one actor in one statement, in order (a check raising a
    thousand alarms locks the head once, not a thousand times). Inside :func:`audit_gathered`
    the events are only made here, and appended when the gathering block ends."""
    if not entries:
        return []
    who = actor if actor is not None and actor.pk else None
    events = [
        AuditEvent(
            at=timezone.now(),
            actor=who,
            actor_label=label or actor_label(actor),
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id),
            purpose=entry.purpose,
            detail=entry.detail or {},
        )
        for entry in entries
    ]
    pending = _gathered.get()
    if pending is not None:
        pending.extend(events)
    else:
        _append(events)
    return events


_gathered: ContextVar[list[AuditEvent] | None] = ContextVar("audit_gathered", default=None)


@contextmanager
def audit_gathered() -> Iterator[None]:
    """Gather the events a block records and append them to the chain together as the block
    ends — inside the caller's transaction, so that they still commit or roll back with what
    they record.

    The chain's head is locked from an append until the transaction commits, and every other
    audited request of the city (a case page, a resident's status page) waits for it. A long
    transaction that audits early — a submission records each adult's authorisation, then runs
    the household check and writes the case — would hold it throughout; gathered, it holds it
    only for its last statements. Each event keeps the time it was recorded; the chain's order
    is the order of appending. Use it inside ``transaction.atomic()``; nested, the outermost
    block appends. If the block raises, its events are dropped with the transaction.

    Only around code that lets every audited call's error end the block: an inner savepoint
    that records an event and is then rolled back while the block goes on would still have
    its event appended (Django tells nobody of a savepoint's rollback). In a submission every
    audited call either succeeds or fails the whole submission; the household check that may
    be refused is refused before it records anything."""
    if _gathered.get() is not None:
        yield
        return
    pending: list[AuditEvent] = []
    token = _gathered.set(pending)
    try:
        yield
    finally:
        _gathered.reset(token)
    if pending:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("audit_gathered() belongs inside transaction.atomic()")
        _append(pending)


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` after the head, in order, and move the head (one locked update)."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS, "count": 0}
        )
        checkpoints = []
        prev, count = head.last_hash, head.count
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event_mac(event)
            count += 1
            if count % settings.AUDIT_CHECKPOINT_EVERY == 0:
                checkpoints.append((count, prev))
        AuditEvent.objects.bulk_create(events, batch_size=500)
        head.last_hash, head.count = prev, count
        head.save(update_fields=["last_hash", "count"])
        for count, mac in checkpoints:
            # Only once it is committed: a rolled-back event must never be a checkpoint.
            transaction.on_commit(partial(_checkpoint_quietly, count, mac, "audit"))


# --- checkpoints ------------------------------------------------------------------------------


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def _line_mac(body: dict[str, Any]) -> str:
    data = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(_keys()[1], data, hashlib.sha256).hexdigest()


def _last_line(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    if not size:
        return b""
    start = max(0, size - 8192)
    tail = os.pread(fd, size - start, start).rstrip(b"\n")
    return tail.rsplit(b"\n", 1)[-1]


def checkpoint_write(
    *, count: int, head: str, by: str, only_if_moved: bool = False, **extra: Any
) -> dict[str, Any] | None:
    """Append one signed line. Lines are chained (``prev``) under an exclusive file lock, so
    that a line removed from the middle is noticed. Returns the line, or None when
    ``only_if_moved`` and the last line already holds this count."""
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last_raw = _last_line(fd)
        try:
            last = json.loads(last_raw) if last_raw else None
        except ValueError:
            last = {"mac": "unreadable"}  # audit_verify reports the damaged line
        if only_if_moved and last is not None and last.get("count") == count:
            return None
        body: dict[str, Any] = {
            "v": 1,
            "count": count,
            "head": head,
            "at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
            "by": by,
            "prev": last.get("mac", "") if last else GENESIS,
            **extra,
        }
        body["mac"] = _line_mac(body)
        line = json.dumps(body, sort_keys=True, ensure_ascii=False) + "\n"
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    _syslog(line.strip())
    return body


def _checkpoint_quietly(count: int, head: str, by: str) -> None:
    try:
        checkpoint_write(count=count, head=head, by=by)
    except OSError:  # the action itself has committed; the worker writes the next one
        log.exception("audit.checkpoint.failed", extra={"count": count})


def audit_checkpoint(*, by: str = "worker") -> dict[str, Any] | None:
    """Write the current head as a checkpoint if it moved since the last line (the worker's
    minute job, ``dajiuzhu audit checkpoint``)."""
    head = AuditHead.objects.filter(id=1).first()
    if head is None or head.count == 0:
        return None
    return checkpoint_write(count=head.count, head=head.last_hash, by=by, only_if_moved=True)


@lru_cache(maxsize=4)
def _syslog_handler(address: str) -> logging.Handler:
    if address.startswith("/"):
        return logging.handlers.SysLogHandler(address=address)
    host, _, port = address.rpartition(":")
    return logging.handlers.SysLogHandler(address=(host or "127.0.0.1", int(port or 514)))


def _syslog(line: str) -> None:
    """A copy off the host when AUDIT_SYSLOG names a syslog socket or host:port (optional)."""
    address = settings.AUDIT_SYSLOG
    if not address:
        return
    try:
        record = logging.makeLogRecord(
            {"msg": f"dajiuzhu-audit-checkpoint {line}", "levelno": 20, "levelname": "INFO"}
        )
        _syslog_handler(address).emit(record)
    except OSError:
        log.exception("audit.checkpoint.syslog_failed")


@dataclass
class Checkpoint:
    line: int
    count: int
    head: str
    at_utc: str
    by: str
    extra: dict[str, Any]

    @property
    def at(self) -> str:
        """The line's time as people read it (Asia/Shanghai)."""
        try:
            when = datetime.fromisoformat(self.at_utc)
        except ValueError:
            return self.at_utc
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")


def _read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[Problem]]:
    checkpoints: list[Checkpoint] = []
    problems: list[Problem] = []
    if not path.exists():
        return checkpoints, problems
    prev = GENESIS
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                body = json.loads(raw)
                mac = body.pop("mac")
                ok = hmac.compare_digest(mac, _line_mac(body))
                count, head = int(body["count"]), str(body["head"])
            except (ValueError, KeyError, TypeError, AttributeError):
                ok, mac = False, ""
            if not ok:
                problems.append(
                    Problem(
                        "checkpoint_file",
                        f"检查点文件第{number}行被改动(签名不符)",
                        line=number,
                    )
                )
                prev = mac
                continue
            if body.get("prev") != prev:
                problems.append(
                    Problem(
                        "checkpoint_file",
                        f"检查点文件第{number}行之前有行被删除或调换",
                        line=number,
                    )
                )
            prev = mac
            extra = {
                k: v for k, v in body.items() if k not in ("v", "count", "head", "at", "by", "prev")
            }
            checkpoints.append(
                Checkpoint(number, count, head, str(body.get("at")), str(body.get("by")), extra)
            )
    return checkpoints, problems


# --- verification -----------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # event | deleted | truncated | head | checkpoint | checkpoint_file
    message: str
    event_id: int | None = None
    position: int | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
    problems: list[Problem] = field(default_factory=list)
    checkpoints: int = 0
    checkpoint_file: str = ""
    notes: list[str] = field(default_factory=list)


def audit_verify() -> ChainReport:
    """Recompute the chain with the key, compare it with every checkpoint and the head."""
    path = checkpoint_path()
    checkpoints, problems = _read_checkpoints(path)
    at_position: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        at_position.setdefault(cp.count, cp)
    notes = [_reseal_note(cp) for cp in checkpoints if "resealed" in cp.extra]

    prev, position, last_id = GENESIS, 0, None
    broken: Problem | None = None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=5000):
        position += 1
        if broken is None:
            mark = at_position.get(position)
            if event.prev_hash != prev:
                broken = Problem(
                    "deleted",
                    f"事件{event.id}(第{position}个)与前一事件衔接不上:其前有事件被删除、插入或改写",
                    event_id=event.id,
                    position=position,
                )
            elif not hmac.compare_digest(event_mac(event), event.hash):
                broken = Problem(
                    "event",
                    f"事件{event.id}(第{position}个)被改动:内容与其签名不符",
                    event_id=event.id,
                    position=position,
                )
            elif mark is not None and mark.head != event.hash:
                broken = Problem(
                    "checkpoint",
                    f"事件{event.id}(第{position}个)与{mark.at}的检查点(第{mark.line}行)不符:"
                    "链从此处起被重写",
                    event_id=event.id,
                    position=position,
                    line=mark.line,
                )
        prev, last_id = event.hash, event.id
    if broken is not None:
        problems.insert(0, broken)

    beyond = [cp for cp in checkpoints if cp.count > position]
    if beyond:
        last_cp = max(beyond, key=lambda c: c.count)
        after = f"(事件{last_id})" if last_id else ""
        problems.append(
            Problem(
                "truncated",
                f"{last_cp.at}的检查点(第{last_cp.line}行)记录了{last_cp.count}个事件,"
                f"数据库只有{position}个:第{position}个{after}之后的事件被删除",
                event_id=last_id,
                position=position,
                line=last_cp.line,
            )
        )
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != position):
        problems.append(
            Problem(
                "head",
                f"链头被改写或链尾事件缺失:链头记录{head.count}个事件,链上实有{position}个",
                position=position,
            )
        )
    if position and not path.exists():
        notes.append(f"没有检查点文件({path}):无法发现链尾事件被删除")
    first = problems[0] if problems else None
    return ChainReport(
        ok=not problems,
        checked=position,
        first_broken_id=broken.event_id if broken else None,
        reason=first.message if first else "",
        problems=problems,
        checkpoints=len(checkpoints),
        checkpoint_file=str(path),
        notes=notes,
    )


def _reseal_note(cp: Checkpoint) -> str:
    extra = cp.extra
    if extra.get("legacy_intact"):
        state = "重新签名前原SHA-256链完好"
    else:
        where = extra.get("legacy_broken_event")
        state = f"重新签名前原SHA-256链已断开({'事件' + str(where) if where else '链尾'}):" + str(
            extra.get("legacy_reason", "")
        )
    return f"{cp.at}用审计密钥重新签名了{extra['resealed']}个旧事件;{state}"
