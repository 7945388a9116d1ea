"""Issue 14's device load through Mosquitto.

60,000 devices (30,000 people × motion sensor + pendant) registered in a fresh SQLite home; a
separate `dajiuzhu care intake` process (QoS 1, manual ack after commit); one publisher sends
heartbeats round-robin at ``--rate`` messages/s for ``--seconds``, on top of them motion from
the motion sensors at ``--motion-rate`` messages/s, and a pendant alarm every ``--press-every``
seconds (every fourth a fall, the others a button). Measured:

* publish → alarm committed (the alarm row's ``created_at`` against the publish time), and
  publish → alarm *visible in the operators' event stream*: a reader polls for new alarms at each
  poll exactly as the console's stream does (``selectors.alarms_after``), so this includes the
  stream's poll (``CARE_STREAM_POLL_SECONDS``); the browser's rendering is not included;
* the backlog (published − stored) every 10 s while publishing (it must not grow) and how much
  of it still waits in the publisher (published − acknowledged by the broker), at the end of
  publishing, and how long it took to drain;
* every 10 s, the CPU the intake, the publisher (this process) and the broker used (per cent of
  one core) and the size of SQLite's write-ahead log;
* the intake's peak memory (VmHWM) and this process's.

The broker is the machine's ``mosquitto`` started for the run on 127.0.0.1:18884 with the
deployment's settings (deploy/mosquitto.conf: Mosquitto's defaults of 20 messages in flight and
1,000 queued per session would cap the intake's transactions at 20 messages and drop messages
past a half-second pause); ``--url`` uses another broker instead. The issue's figure is 2,000
messages/s for 10 minutes; this run states its own rate and length.

``--pause-every S --pause-for P`` stops the intake (SIGSTOP) for P seconds every S seconds, as
a busy shared machine or a long checkpoint would: a backlog builds, and the presses published
during a pause and in the 5 s after it are reported apart (``around_pauses``: from publishing,
or from the intake's continuing for one published while it was stopped, to the stream). With
``--broker-settings FILE`` the broker runs with another version's settings (for a before/after:
that version's source first on ``PYTHONPATH``).

    .venv/bin/python benchmarks/care_load.py --rate 2000 --motion-rate 100 --seconds 600
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _care import care_home, clear_session, start_broker
from _common import emit, peak_rss_mib, percentile

OWN_PORT = 18884


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=80)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--motion-rate", type=float, default=0)
    parser.add_argument("--press-every", type=float, default=2.0)
    parser.add_argument("--url", help="an existing broker (default: one started for the run)")
    parser.add_argument("--broker-settings", type=Path, help="instead of deploy/mosquitto.conf")
    parser.add_argument("--pause-every", type=float, default=0, help="stop the intake every S s")
    parser.add_argument("--pause-for", type=float, default=3.0, help="for this many seconds")
    args = parser.parse_args()
    started = time.perf_counter()
    own_broker = None
    if args.url is None:
        own_broker = start_broker(
            Path(tempfile.mkdtemp(prefix="djz-bench-broker-")), OWN_PORT, args.broker_settings
        )
        args.url = f"mqtt://127.0.0.1:{OWN_PORT}"
    devices = care_home(args.people, "L")
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from dajiuzhu.care.intake import topic_for
    from dajiuzhu.care.models import Alarm, DeviceEvent
    from dajiuzhu.care.mqtt import make_client, parse_url

    pendants = [d for d in devices if d.endswith("-p")]
    sensors = [d for d in devices if not d.endswith("-p")]
    setup_seconds = time.perf_counter() - started
    connection.close()

    client_id = f"bench-load-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DAJIUZHU_MQTT_CLIENT_ID": client_id}
    intake = subprocess.Popen(
        [sys.executable, "-m", "dajiuzhu.cli", "care", "intake", "--url", args.url], env=env
    )
    published: dict[str, float] = {}  # press event_id → publish time (wall clock)
    seen: dict[str, float] = {}
    stop = threading.Event()

    def stream_reader() -> None:
        """What the console's stream does: every CARE_STREAM_POLL_SECONDS, the alarms after the
        last one."""
        from django.conf import settings

        last = 0
        while not stop.is_set():
            for alarm in Alarm.objects.filter(pk__gt=last, technical=False).order_by("pk"):
                last = alarm.pk
                seen.setdefault(alarm.event_ref, time.time())
            time.sleep(settings.CARE_STREAM_POLL_SECONDS)
        connection.close()

    broker = parse_url(args.url)
    pub = make_client(f"{client_id}-pub", clean=True, manual_ack=False)
    # paho sends at most 20 QoS 1 messages unacknowledged by default: at 2,000/s that window,
    # not the intake, would limit the rate. Acknowledged ones are counted, so that what waits
    # in the publisher (published − acknowledged) and what waits for the intake (acknowledged −
    # stored) are told apart.
    pub.max_inflight_messages_set(1000)
    acked = [0]
    pub.on_publish = lambda client, userdata, mid, reason_code, properties: acked.__setitem__(
        0, acked[0] + 1
    )
    pub.connect(broker.host, broker.port, keepalive=30)
    pub.loop_start()
    try:
        time.sleep(3)  # the intake connected and subscribed
        reader = threading.Thread(target=stream_reader, daemon=True)
        reader.start()
        sent = beats = motions = 0
        t0 = time.time()
        next_press = next_sample = t0
        backlog: list[dict] = []
        watched = {"intake": intake.pid, "publisher": os.getpid()}
        if own_broker is not None:
            watched["broker"] = own_broker.pid
        last_cpu = {name: _cpu_seconds(pid) for name, pid in watched.items()}
        wal = Path(f"{connection.settings_dict['NAME']}-wal")
        pauses: list[tuple[float, float]] = []  # (stopped, continued), wall clock
        next_pause = t0 + args.pause_every if args.pause_every else float("inf")
        stopped = False
        while (elapsed := time.time() - t0) < args.seconds:
            now = time.time()
            if not stopped and now >= next_pause:
                intake.send_signal(signal.SIGSTOP)
                stopped = True
                pauses.append((now, now + args.pause_for))
                next_pause += args.pause_every
            elif stopped and now >= pauses[-1][1]:
                intake.send_signal(signal.SIGCONT)
                stopped = False
            while beats < int(elapsed * args.rate):
                body = {
                    "event_id": f"hb-{beats}",
                    "type": "heartbeat",
                    "at": timezone.now().isoformat(),
                    "battery": 80,
                }
                pub.publish(topic_for(devices[beats % len(devices)]), json.dumps(body), qos=1)
                beats += 1
                sent += 1
            while motions < int(elapsed * args.motion_rate):
                body = {
                    "event_id": f"mo-{motions}",
                    "type": "motion",
                    "at": timezone.now().isoformat(),
                }
                pub.publish(topic_for(sensors[motions % len(sensors)]), json.dumps(body), qos=1)
                motions += 1
                sent += 1
            if time.time() >= next_press:
                event_id = f"press-{len(published)}"
                kind = "fall" if len(published) % 4 == 3 else "button"
                body = {"event_id": event_id, "type": kind, "at": timezone.now().isoformat()}
                published[event_id] = time.time()
                pub.publish(topic_for(pendants[len(published) % len(pendants)]), json.dumps(body))
                sent += 1
                next_press += args.press_every
            if time.time() >= next_sample:
                stored_now = DeviceEvent.objects.aggregate(n=Max("pk"))["n"] or 0
                cpu = {name: _cpu_seconds(pid) for name, pid in watched.items()}
                backlog.append(
                    {
                        "at_s": round(elapsed),
                        "backlog": sent - stored_now,
                        "in_publisher": sent - acked[0],
                        "cpu": {n: round((cpu[n] - last_cpu[n]) * 10) for n in cpu},  # % of 10 s
                        "wal_mib": round(wal.stat().st_size / 2**20) if wal.exists() else 0,
                    }
                )
                last_cpu = cpu
                next_sample += 10
            time.sleep(0.002)
        publishing = time.time() - t0
        intake.send_signal(signal.SIGCONT)
        stored_at_end = DeviceEvent.objects.count()
        drain_started = time.time()
        while DeviceEvent.objects.count() < sent and time.time() - drain_started < 120:
            time.sleep(0.2)
        drained = time.time() - drain_started
        stored = DeviceEvent.objects.count()
        time.sleep(1.5)  # the reader's last poll
        stop.set()
        reader.join(timeout=5)
        intake_hwm = _vm_hwm_mib(intake.pid)
    finally:
        pub.loop_stop()
        pub.disconnect()
        intake.terminate()
        intake.wait(timeout=10)
        clear_session(args.url, client_id)
        if own_broker is not None:
            own_broker.terminate()
            own_broker.wait(timeout=30)

    created = dict(
        Alarm.objects.filter(event_ref__in=list(published)).values_list("event_ref", "created_at")
    )
    commit_ms = [(created[e].timestamp() - t) * 1000 for e, t in published.items() if e in created]
    visible_ms = [(seen[e] - t) * 1000 for e, t in published.items() if e in seen]
    # Around a pause: the time from publishing (or, for a press published while the intake was
    # stopped, from the moment it continued) to the stream — what a pause costs beyond itself.
    near = [
        (seen[e] - max(t, b)) * 1000
        for e, t in published.items()
        if e in seen
        for a, b in pauses
        if a <= t <= b + 5
    ]
    apart = [
        (seen[e] - t) * 1000
        for e, t in published.items()
        if e in seen and not any(a <= t <= b + 5 for a, b in pauses)
    ]

    def spread(values: list[float]) -> dict[str, int] | None:
        if not values:
            return None
        return {
            "presses": len(values),
            "p50": round(percentile(values, 0.5)),
            "p99": round(percentile(values, 0.99)),
            "max": round(max(values)),
        }

    emit(
        {
            "benchmark": "care_load",
            "database": "sqlite",
            "devices": len(devices),
            "broker": (str(args.broker_settings or "deploy/mosquitto.conf"))
            if own_broker is not None
            else args.url,
            "rate_per_second": args.rate,
            "publishing_seconds": round(publishing, 1),
            "messages_published": sent,
            "motion_per_second": args.motion_rate,
            "backlog_every_10_s": [b["backlog"] for b in backlog],
            "backlog_max": max(b["backlog"] for b in backlog),
            "of_which_in_publisher_every_10_s": [b["in_publisher"] for b in backlog],
            "cpu_percent_every_10_s": {
                name: [b["cpu"][name] for b in backlog] for name in backlog[0]["cpu"]
            },
            "sqlite_wal_mib_every_10_s": [b["wal_mib"] for b in backlog],
            "acknowledged_by_broker": acked[0],
            "messages_stored": stored,
            "backlog_at_end_of_publishing": sent - stored_at_end,
            "drain_seconds": round(drained, 1),
            "presses": len(published),
            "alarms_for_presses": len(created),
            "press_to_commit_ms": {
                "p50": round(percentile(commit_ms, 0.5)),
                "p99": round(percentile(commit_ms, 0.99)),
            },
            "press_to_stream_ms": {
                "p50": round(percentile(visible_ms, 0.5)),
                "p99": round(percentile(visible_ms, 0.99)),
                "max": round(max(visible_ms)),
            },
            "pauses": {"count": len(pauses), "every_s": args.pause_every, "for_s": args.pause_for}
            if pauses
            else None,
            "press_to_stream_around_pauses_ms": spread(near) if pauses else None,
            "press_to_stream_apart_from_pauses_ms": spread(apart) if pauses else None,
            "intake_peak_rss_mib": round(intake_hwm),
            "bench_peak_rss_mib": round(peak_rss_mib()),
            "setup_seconds": round(setup_seconds, 1),
        }
    )


if __name__ == "__main__":
    main()
