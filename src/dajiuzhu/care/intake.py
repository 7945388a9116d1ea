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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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

log = logging.getLogger("dajiuzhu.care")

TOPIC = re.compile(r"^dajiuzhu/v1/devices/(?P<device>[A-Za-z0-9._:-]{1,64})/events$")
SUBSCRIPTION = "dajiuzhu/v1/devices/+/events"
MAX_EVENT_ID = 100


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
    if not isinstance(kind, str) or kind not in EventType.values:
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
    """Take in one device message (see the module's docstring). Never raises for bad input;
    a database error propagates (the message is then not acknowledged). ``params``: the care
    parameters of the day received, when the caller has them already (a batch)."""
    received_at = received_at or timezone.now()
    raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    match = TOPIC.match(topic or "")
    device_id = match["device"] if match else ""
    params = params or care_parameters(timezone.localdate(received_at))
    try:
        if match is None:
            raise _Rejected(RejectReason.BAD_TOPIC)
        if len(raw) > params.max_payload_bytes:
            raise _Rejected(RejectReason.OVERSIZED)
        with transaction.atomic():
            return _take_in(device_id, raw, received_at, params)
    except _Rejected as rejected:
        _count_rejection(rejected.reason, device_id, received_at)
        log.info("care.intake.rejected", extra={"reason": rejected.reason, "device": device_id})
        return IngestResult("rejected", reason=rejected.reason, device_id=device_id)


def _take_in(
    device_id: str, raw: bytes, received_at: datetime, params: CareParameters
) -> IngestResult:
    device = Device.objects.select_for_update().filter(device_id=device_id).first()
    if device is None:
        raise _Rejected(RejectReason.UNKNOWN_DEVICE)
    if device.status != DeviceStatus.ACTIVE:
        raise _Rejected(RejectReason.REMOVED_DEVICE)
    msg = _parse(raw, received_at, params)
    result = IngestResult("accepted", device_id=device_id, event_id=msg.event_id)
    if DeviceEvent.objects.filter(device=device, event_id=msg.event_id).exists():
        result.status = "duplicate"
        return result
    try:
        with transaction.atomic():
            event = DeviceEvent.objects.create(
                device=device,
                person_id=device.person_id,
                event_id=msg.event_id,
                type=msg.type,
                at=msg.at,
                received_at=received_at,
                battery=msg.battery,
                lat=msg.lat,
                lon=msg.lon,
                raw=msg.raw,
            )
    except IntegrityError:  # the same message taken in concurrently by another intake
        result.status = "duplicate"
        return result
    _update_device(device, msg, params, event, result)
    if msg.type in (EventType.AWAY_ON, EventType.AWAY_OFF):
        _away(device, msg)
    rule = IMMEDIATE_RULES.get(msg.type)
    if rule is not None:
        alarm = alarms.alarm_raise(
            rule=rule,
            spell=f"{device.device_id}:{msg.event_id}",
            device=device,
            person_id=device.person_id,
            division_code=device.division_code,
            raised_at=msg.at,
            event=event,
        )
        if alarm is not None:
            result.alarms.append(alarm.pk)
    return result


def _update_device(
    device: Device,
    msg: _Message,
    params: CareParameters,
    event: DeviceEvent,
    result: IngestResult,
) -> None:
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
        low = msg.battery <= params.low_battery_percent
        if low and not device.battery_low:
            alarm = alarms.alarm_raise(
                rule=Rule.LOW_BATTERY,
                spell=f"{device.device_id}:{msg.event_id}",
                device=device,
                person_id=device.person_id,
                division_code=device.division_code,
                raised_at=msg.at,
                event=event,
            )
            if alarm is not None:
                result.alarms.append(alarm.pk)
        if low != device.battery_low:
            device.battery_low = low
            fields.append("battery_low")
    if fields:
        device.save(update_fields=fields)


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


__all__ = ["SUBSCRIPTION", "IngestResult", "ingest", "topic_for"]
