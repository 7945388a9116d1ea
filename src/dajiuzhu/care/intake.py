"""The intake: one code path for every device message, whatever carried it (MQTT, HTTPS,
``care replay``) — ``ingest(topic, payload, received_at)``.

A message is validated exactly as shared/policy/CARE.md says; a rejected one is counted per
reason (``Rejection``), never alarmed, never an exception. An accepted one is stored once per
(device, event_id) — a redelivery changes nothing — updates the device's last message and
battery and the person's away spell, and raises the immediate alarms (BUTTON, FALL, SMOKE,
GAS) and LOW_BATTERY in the same transaction. The caller acknowledges the message only after
``ingest`` returned (its effect is committed then); a database error propagates, so the
message is not acknowledged and comes again.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dajiuzhu.care import alarms
from dajiuzhu.care.models import (
    IMMEDIATE_RULES,
    AwaySpell,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventType,
    Rejection,
    RejectReason,
    Rule,
)
from dajiuzhu.care.parameters import CareParameters, care_parameters
from dajiuzhu.core import statements

log = logging.getLogger("dajiuzhu.care")

TOPIC = re.compile(r"^dajiuzhu/v1/devices/(?P<device>[A-Za-z0-9._:-]{1,64})/events$")
SUBSCRIPTION = "dajiuzhu/v1/devices/+/events"
MAX_EVENT_ID = 100
CHUNK = 500  # ids in one IN (…) at most
_TYPES = frozenset(EventType.values)  # the enum builds its list anew on every read


def topic_for(device_id: str) -> str:
    return f"dajiuzhu/v1/devices/{device_id}/events"


@dataclass
class IngestResult:
    status: str  # accepted | duplicate | rejected
    reason: str = ""
    device_id: str = ""
    event_id: str = ""
    alarms: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Message:
    event_id: str
    type: str
    at: datetime
    battery: int | None
    lat: float | None
    lon: float | None
    raw: str


def _parse(raw: bytes, received_at: datetime, params: CareParameters) -> _Message:
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Rejected(RejectReason.MALFORMED) from None
    if not isinstance(data, dict):
        raise _Rejected(RejectReason.MALFORMED)
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_EVENT_ID:
        raise _Rejected(RejectReason.BAD_EVENT_ID)
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise _Rejected(RejectReason.UNKNOWN_TYPE)
    at = _parse_time(data.get("at"))
    if at > received_at + timedelta(seconds=params.future_tolerance_seconds):
        raise _Rejected(RejectReason.FUTURE_TIME)
    battery = data.get("battery")
    if battery is not None:
        if isinstance(battery, bool) or not isinstance(battery, int | float):
            raise _Rejected(RejectReason.BAD_BATTERY)
        if not (0 <= battery <= 100) or battery != int(battery):
            raise _Rejected(RejectReason.BAD_BATTERY)
        battery = int(battery)
    lat: float | None = None
    lon: float | None = None
    location = data.get("location")
    if location is not None:
        if not isinstance(location, dict):
            raise _Rejected(RejectReason.BAD_LOCATION)
        coords: list[float] = []
        for value, bound in ((location.get("lat"), 90), (location.get("lon"), 180)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Rejected(RejectReason.BAD_LOCATION)
            if not math.isfinite(value) or abs(value) > bound:
                raise _Rejected(RejectReason.BAD_LOCATION)
            coords.append(float(value))
        lat, lon = coords
    return _Message(event_id, kind, at, battery, lat, lon, text)


def _no_constants(name: str):
    raise ValueError(name)  # NaN / Infinity are not JSON


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise _Rejected(RejectReason.BAD_TIME)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _Rejected(RejectReason.BAD_TIME) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise _Rejected(RejectReason.BAD_TIME)  # CARE.md: an ISO 8601 time *with offset*
    if at.year < 2000:
        raise _Rejected(RejectReason.BAD_TIME)
    return at.astimezone(UTC)


def _count_rejection(reason: str, device_id: str, received_at: datetime) -> None:
    day = timezone.localdate(received_at)
    with transaction.atomic():
        row, _ = Rejection.objects.get_or_create(reason=reason, day=day)
        Rejection.objects.filter(pk=row.pk).update(
            count=F("count") + 1, last_device=device_id[:64], last_at=received_at
        )


def ingest(
    topic: str,
    payload: bytes | str,
    received_at: datetime | None = None,
    params: CareParameters | None = None,
) -> IngestResult:
    """Take in one device message (see the module's docstring): ``ingest_many`` of one."""
    return ingest_many([(topic, payload, received_at)], params)[0]


def ingest_many(
    messages: Sequence[tuple[str, bytes | str, datetime | None]],
    params: CareParameters | None = None,
) -> list[IngestResult]:
    """Take in messages in the order given, in one transaction; one result each, in order.

    Never raises for bad input; a database error propagates (none of the messages is then
    acknowledged). The devices are read (and locked, in one order, so that two intakes never
    deadlock) in one query, the known (device, event_id) pairs in one, the new events are
    written in one insert and the devices' last messages in one update: a batch of heartbeats
    costs a handful of statements, not several per message. ``params``: the care parameters
    of the day received, when every message is of that day and the caller has them."""
    by_day: dict[date, CareParameters] = {}

    def params_of(received: datetime) -> CareParameters:
        if params is not None:
            return params
        day = timezone.localdate(received)
        if day not in by_day:
            by_day[day] = care_parameters(day)
        return by_day[day]

    results: list[IngestResult | None] = [None] * len(messages)
    staged: list[tuple[int, str, bytes, datetime, CareParameters]] = []
    rejected: list[tuple[int, str, str, datetime]] = []
    for index, (topic, payload, received) in enumerate(messages):
        received = received or timezone.now()
        raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        match = TOPIC.match(topic or "")
        device_id = match["device"] if match else ""
        day_params = params_of(received)
        if match is None:
            rejected.append((index, RejectReason.BAD_TOPIC, device_id, received))
        elif len(raw) > day_params.max_payload_bytes:
            rejected.append((index, RejectReason.OVERSIZED, device_id, received))
        else:
            staged.append((index, device_id, raw, received, day_params))
    with transaction.atomic():
        if staged:
            _take_in(staged, results, rejected)
        for index, reason, device_id, received in rejected:
            _count_rejection(reason, device_id, received)
            log.info("care.intake.rejected", extra={"reason": reason, "device": device_id})
            results[index] = IngestResult("rejected", reason=reason, device_id=device_id)
    return [r for r in results if r is not None]


def _take_in(
    staged: list[tuple[int, str, bytes, datetime, CareParameters]],
    results: list[IngestResult | None],
    rejected: list[tuple[int, str, str, datetime]],
) -> None:
    ids = sorted({device_id for _, device_id, _, _, _ in staged})
    devices: dict[str, Device] = {}
    for start in range(0, len(ids), CHUNK):
        devices.update(
            (d.device_id, d)
            for d in Device.objects.select_for_update()
            .filter(device_id__in=ids[start : start + CHUNK])
            .order_by("device_id")
        )
    parsed: list[tuple[int, Device, _Message, datetime, CareParameters]] = []
    for index, device_id, raw, received, day_params in staged:
        device = devices.get(device_id)
        try:
            if device is None:
                raise _Rejected(RejectReason.UNKNOWN_DEVICE)
            if device.status != DeviceStatus.ACTIVE:
                raise _Rejected(RejectReason.REMOVED_DEVICE)
            msg = _parse(raw, received, day_params)
        except _Rejected as refused:
            rejected.append((index, refused.reason, device_id, received))
            continue
        parsed.append((index, device, msg, received, day_params))
    if not parsed:
        return
    known = _known_events({(device.pk, msg.event_id) for _, device, msg, _, _ in parsed})
    fresh: list[tuple[int, Device, _Message, CareParameters, DeviceEvent]] = []
    for index, device, msg, received, day_params in parsed:
        results[index] = IngestResult("accepted", device_id=device.device_id, event_id=msg.event_id)
        key = (device.pk, msg.event_id)
        if key in known:  # stored before, or earlier in this batch
            results[index].status = "duplicate"  # type: ignore[union-attr]
            continue
        known.add(key)
        event = DeviceEvent(
            device=device,
            person_id=device.person_id,
            event_id=msg.event_id,
            type=msg.type,
            at=msg.at,
            received_at=received,
            battery=msg.battery,
            lat=msg.lat,
            lon=msg.lon,
            raw=msg.raw,
        )
        fresh.append((index, device, msg, day_params, event))
    stored = _store_events(fresh, results)
    changed: dict[int, Device] = {}
    fields: set[str] = set()
    for index, device, msg, day_params, event in stored:
        result = results[index]
        assert result is not None
        touched = _update_device(device, msg, day_params, event, result)
        if touched:
            changed[device.pk] = device
            fields.update(touched)
        if msg.type in (EventType.AWAY_ON, EventType.AWAY_OFF):
            _away(device, msg)
        rule = IMMEDIATE_RULES.get(msg.type)
        if rule is not None:
            alarm = alarms.alarm_raise(_candidate(rule, device, msg, event))
            if alarm is not None:
                result.alarms.append(alarm.pk)
    if changed:
        statements.update_objects(list(changed.values()), sorted(fields))


def _known_events(keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (device pk, event_id) pairs are stored already."""
    pks = sorted({pk for pk, _ in keys})
    event_ids = sorted({event_id for _, event_id in keys})
    found: set[tuple[int, str]] = set()
    for start in range(0, len(event_ids), CHUNK):
        found.update(
            DeviceEvent.objects.filter(
                device_id__in=pks, event_id__in=event_ids[start : start + CHUNK]
            ).values_list("device_id", "event_id")
        )
    return found & keys


def _store_events(
    fresh: list[tuple[int, Device, _Message, CareParameters, DeviceEvent]],
    results: list[IngestResult | None],
) -> list[tuple[int, Device, _Message, CareParameters, DeviceEvent]]:
    """Insert the new events; the ones stored, in order. The events an alarm may point to
    (an immediate rule's, a battery at the limit) go in through ``bulk_create``, which gives
    them their ids; the others — nearly all: heartbeats and motion — in one prepared
    statement, as ``bulk_create``'s statement building cost a quarter of the intake's CPU at
    2,000 messages/s. Should another intake have stored one of them meanwhile (the unique
    constraint decides), they are inserted one by one and that one counts as a duplicate."""
    if not fresh:
        return []
    linked = [
        item[-1]
        for item in fresh
        if item[2].type in IMMEDIATE_RULES or _battery_low(item[2], item[3])
    ]
    try:
        with transaction.atomic():
            if linked:
                DeviceEvent.objects.bulk_create(linked, batch_size=CHUNK)
            statements.insert_objects([item[-1] for item in fresh if item[-1].pk is None])
        return fresh
    except IntegrityError:
        pass
    stored = []
    for item in fresh:
        event = item[-1]
        event.pk = None
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            results[item[0]].status = "duplicate"  # type: ignore[union-attr]
            continue
        stored.append(item)
    return stored


def _update_device(
    device: Device,
    msg: _Message,
    params: CareParameters,
    event: DeviceEvent,
    result: IngestResult,
) -> list[str]:
    """Move the device's last message, motion and battery on (in memory); the fields changed.
    A battery falling to the limit raises LOW_BATTERY."""
    fields = []
    latest = device.last_heard_at is None or msg.at >= device.last_heard_at
    if latest:
        device.last_heard_at = msg.at
        fields.append("last_heard_at")
    if msg.type == EventType.MOTION and (
        device.last_motion_at is None or msg.at > device.last_motion_at
    ):
        device.last_motion_at = msg.at
        fields.append("last_motion_at")
    if msg.battery is not None and latest:
        device.last_battery = msg.battery
        fields.append("last_battery")
        low = _battery_low(msg, params)
        if low and not device.battery_low:
            alarm = alarms.alarm_raise(_candidate(Rule.LOW_BATTERY, device, msg, event))
            if alarm is not None:
                result.alarms.append(alarm.pk)
        if low != device.battery_low:
            device.battery_low = low
            fields.append("battery_low")
    return fields


def _candidate(rule: str, device: Device, msg: _Message, event: DeviceEvent) -> alarms.Candidate:
    """The alarm a message raises: one per message (its spell is the device and event id)."""
    return alarms.Candidate(
        rule=rule,
        spell=f"{device.device_id}:{msg.event_id}",
        device=device,
        person_id=device.person_id,
        division_code=device.division_code,
        raised_at=msg.at,
        event=event,
    )


def _battery_low(msg: _Message, params: CareParameters) -> bool:
    """The message reports a battery at or below the limit (CARE.md: LOW_BATTERY)."""
    return msg.battery is not None and msg.battery <= params.low_battery_percent


def _away(device: Device, msg: _Message) -> None:
    open_spell = (
        AwaySpell.objects.select_for_update()
        .filter(person_id=device.person_id, end__isnull=True)
        .first()
    )
    if msg.type == EventType.AWAY_ON and open_spell is None:
        AwaySpell.objects.create(person_id=device.person_id, start=msg.at)
    elif msg.type == EventType.AWAY_OFF and open_spell is not None:
        open_spell.end = max(msg.at, open_spell.start)
        open_spell.save(update_fields=["end"])


__all__ = ["SUBSCRIPTION", "IngestResult", "ingest", "ingest_many", "topic_for"]
