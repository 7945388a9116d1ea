"""``care simulate``: a realistic load on the broker — heartbeats, motion through the day,
rare buttons and falls — from the registered active devices (for the demo and benchmarks)."""

from __future__ import annotations

import json
import os
import random
import time
import uuid

from django.utils import timezone

from dajiuzhu.care.intake import topic_for
from dajiuzhu.care.models import Device, DeviceKind, DeviceStatus
from dajiuzhu.care.mqtt import make_client, parse_url
from dajiuzhu.care.rules import LOCAL

# Per message, the chance that it is something other than a heartbeat, by device kind.
MIX: dict[str, list[tuple[str, float]]] = {
    DeviceKind.MOTION: [("motion", 0.6)],
    DeviceKind.BUTTON: [("button", 0.002)],
    DeviceKind.PENDANT: [("button", 0.002), ("fall", 0.001)],
    DeviceKind.SMOKE: [("smoke", 0.0005)],
    DeviceKind.GAS: [("gas", 0.0005)],
}


def _event(rng: random.Random, kind: str) -> str:
    for name, chance in MIX.get(kind, []):
        if rng.random() < chance:
            return name
    return "heartbeat"


def _connect(client, host: str, port: int, *, attempts: int = 30) -> None:
    """Connect, waiting for a broker that is still starting (the demo starts them together)."""
    for attempt in range(attempts):
        try:
            client.connect(host, port, keepalive=30)
            return
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def simulate(*, url: str, devices: int, rate: float, duration: float, seed: int = 1) -> dict:
    rng = random.Random(seed)
    fleet = list(
        Device.objects.filter(status=DeviceStatus.ACTIVE)
        .order_by("device_id")
        .values_list("device_id", "kind")[:devices]
    )
    if not fleet:
        return {"published": 0, "note": "no active devices registered"}
    broker = parse_url(url)
    client = make_client(f"care-simulate-{os.getpid()}", clean=True, manual_ack=False)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    _connect(client, broker.host, broker.port)
    client.loop_start()
    counts: dict[str, int] = {}
    interval = 1.0 / rate if rate > 0 else 1.0
    start = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - start < duration:
            device_id, kind = fleet[sent % len(fleet)]
            event = _event(rng, kind)
            payload = {
                "event_id": uuid.uuid4().hex,
                "type": event,
                "at": timezone.now().astimezone(LOCAL).isoformat(timespec="seconds"),
                "battery": rng.randint(15, 100) if rng.random() < 0.05 else rng.randint(60, 100),
            }
            if kind == DeviceKind.PENDANT and event != "heartbeat":
                payload["location"] = {
                    "lat": round(31.78 + rng.uniform(-0.05, 0.05), 5),
                    "lon": round(119.95 + rng.uniform(-0.05, 0.05), 5),
                }
            client.publish(topic_for(device_id), json.dumps(payload), qos=1)
            counts[event] = counts.get(event, 0) + 1
            sent += 1
            pause = start + sent * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    finally:
        client.disconnect()
        client.loop_stop()
    return {"published": sent, "by_type": counts, "devices": len(fleet)}
