"""The care intake at a small scale (issue 14) — not the issue's 60,000-device claim.

What is measured, on SQLite in a fresh home:

* ``ingest`` called directly (the intake's one code path, no broker): heartbeats per second;
* through Mosquitto on 127.0.0.1:1883: a separate ``dajiuzhu care intake`` process consumes
  QoS 1 messages with manual acknowledgement; messages per second until all are stored, and the
  latency from publishing a button press to its alarm row being committed (polled every 10 ms —
  the console's stream polls once a second on top of that);
* ``care check`` at T over all people and devices.

    .venv/bin/python benchmarks/care_intake.py --people 1000 --messages 5000 --presses 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _care import clear_session
from _common import emit, fresh_home, peak_rss_mib, percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--url", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    home = fresh_home()
    os.environ["DAJIUZHU_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    from dajiuzhu.cli import setup_django

    setup_django()
    from django.utils import timezone

    from dajiuzhu.care.intake import ingest, topic_for
    from dajiuzhu.care.models import Alarm, Device, DeviceEvent
    from dajiuzhu.care.mqtt import publish
    from dajiuzhu.care.rules import care_check
    from dajiuzhu.care.services import device_register
    from dajiuzhu.core.idnumber import make_id_number
    from dajiuzhu.core.services import division_create
    from dajiuzhu.registry.services import person_create

    division_create(actor=None, parent_code="320402001", code="320402001001", name="基准社区")
    installed = timezone.localdate() - timedelta(days=1)
    started = time.perf_counter()
    for i in range(args.people):
        number = make_id_number("320402", date(1940 + i % 30, 1 + i % 12, 1 + i % 28), i % 1000)
        person_create(
            actor=None, id_number=number, name=f"基准{i}", hukou_division_code="320402001001"
        )
        for kind in ("motion", "pendant"):
            device_register(
                actor=None,
                device_id=f"B-{i:06d}-{kind[0]}",
                kind=kind,
                id_number=number,
                installed_at=installed,
            )
    setup_seconds = time.perf_counter() - started
    devices = list(Device.objects.values_list("device_id", flat=True))

    def heartbeat(n: int) -> tuple[str, str]:
        device = devices[n % len(devices)]
        at = timezone.now().isoformat()
        body = {"event_id": f"hb-{uuid.uuid4().hex}", "type": "heartbeat", "at": at, "battery": 80}
        return topic_for(device), json.dumps(body)

    started = time.perf_counter()
    for n in range(args.messages):
        ingest(*heartbeat(n))
    direct = args.messages / (time.perf_counter() - started)

    client_id = f"bench-care-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DAJIUZHU_MQTT_CLIENT_ID": client_id}
    intake = subprocess.Popen(
        [sys.executable, "-m", "dajiuzhu.cli", "care", "intake", "--url", args.url], env=env
    )
    try:
        time.sleep(3)  # connected and subscribed
        before = DeviceEvent.objects.count()
        started = time.perf_counter()
        # In chunks the intake takes in before the next: Mosquitto's default
        # max_queued_messages (1000 per session) drops QoS 1 messages beyond the queue.
        for start in range(0, args.messages, args.chunk):
            batch = [heartbeat(n) for n in range(start, min(start + args.chunk, args.messages))]
            publish(args.url, batch, client_id=f"{client_id}-p")
            while DeviceEvent.objects.count() < before + start + len(batch):
                time.sleep(0.02)
        via_broker = args.messages / (time.perf_counter() - started)
        latencies = []
        for p in range(args.presses):
            device = f"B-{p:06d}-p"
            event_id = f"press-{uuid.uuid4().hex}"
            body = {"event_id": event_id, "type": "button", "at": timezone.now().isoformat()}
            sent = time.perf_counter()
            publish(args.url, [(topic_for(device), json.dumps(body))], client_id=f"{client_id}-b")
            while not Alarm.objects.filter(event_ref=event_id).exists():
                time.sleep(0.01)
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        intake.terminate()
        intake.wait(timeout=10)
        clear_session(args.url, client_id)

    started = time.perf_counter()
    care_check(at=timezone.now())
    first_check = time.perf_counter() - started
    started = time.perf_counter()
    care_check(at=timezone.now())
    second_check = time.perf_counter() - started
    emit(
        {
            "benchmark": "care_intake",
            "people": args.people,
            "devices": len(devices),
            "setup_seconds": round(setup_seconds, 1),
            "ingest_direct_per_second": round(direct),
            "ingest_via_mosquitto_per_second": round(via_broker),
            "press_to_alarm_ms": {
                "p50": round(percentile(latencies, 0.5), 1),
                "p99": round(percentile(latencies, 0.99), 1),
            },
            "check_seconds": {"first": round(first_check, 2), "again": round(second_check, 2)},
            "peak_rss_mib": round(peak_rss_mib()),
            "home": home,
        }
    )


if __name__ == "__main__":
    main()
