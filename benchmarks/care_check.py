"""`care check` over a city's special-hardship population (issue 14: 60,000 people ≤ 2 s).

A fresh SQLite home; the registry loaded through ``hukou_sync``; each person a motion sensor and
a pendant (bulk-inserted, as `care devices import` would leave them), installed ten days before
T; a week of history per person: a motion at 07:00 and a heartbeat at 09:55 every morning, and a
motion half an hour before T; every device heard a minute before T (its ``last_heard_at``). So
the check at T finds nothing to raise — the worker's steady state every minute.

Measured: the check at T (first and again), and with 1 % of people silent since yesterday
evening (INACTIVITY and NO_MORNING_ACTIVITY raised for them, each audited). Baseline in the
same run: reading every active device row (the least the check has to do).

    .venv/bin/python benchmarks/care_check.py --people 60000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_home, peak_rss_mib
from registry_bulk import rows as hukou_rows

BATCH = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--silent", type=float, default=0.01)
    args = parser.parse_args()
    os.environ["DAJIUZHU_HOME"] = fresh_home()
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    from dajiuzhu.cli import setup_django

    setup_django()
    from django.utils import timezone

    from dajiuzhu.care.models import Alarm, Device, DeviceEvent
    from dajiuzhu.care.rules import LOCAL, care_check
    from dajiuzhu.core.reference import reference_data_load
    from dajiuzhu.registry.models import Person
    from dajiuzhu.registry.services import hukou_sync

    reference_data_load()
    started = time.perf_counter()
    T = timezone.now().astimezone(LOCAL).replace(hour=12, minute=0, second=0, microsecond=0)
    today = T.date()
    hukou_sync(rows=hukou_rows(args.people), as_of=today - timedelta(days=365), source="bench")
    people = list(Person.objects.values_list("pk", "hukou_division_id").order_by("pk"))
    silent = set(pk for pk, _ in people[:: max(int(1 / args.silent), 1)]) if args.silent else set()
    installed = today - timedelta(days=10)
    heard = T - timedelta(minutes=1)
    devices = []
    for pk, division in people:
        for kind in ("motion", "pendant"):
            devices.append(
                Device(
                    device_id=f"C-{pk:07d}-{kind[0]}",
                    kind=kind,
                    person_id=pk,
                    division_code=division,
                    installed_at=installed,
                    last_heard_at=heard,
                    last_battery=80,
                    # as the intake leaves it: the latest motion of a motion sensor
                    last_motion_at=None
                    if kind != "motion"
                    else datetime.combine(today - timedelta(days=1), dtime(7), tzinfo=LOCAL)
                    if pk in silent
                    else T - timedelta(minutes=30),
                )
            )
    Device.objects.bulk_create(devices, batch_size=BATCH)
    motion = dict(Device.objects.filter(kind="motion").values_list("person_id", "pk"))
    events = []

    def add(pid: int, n: str, type_: str, at: datetime) -> None:
        events.append(
            DeviceEvent(
                device_id=motion[pid],
                person_id=pid,
                event_id=n,
                type=type_,
                at=at,
                received_at=at,
                battery=80,
                raw="{}",
            )
        )
        if len(events) >= BATCH:
            DeviceEvent.objects.bulk_create(events)
            events.clear()

    for pid in motion:
        for back in range(7, -1, -1):
            day = today - timedelta(days=back)
            morning = datetime.combine(day, dtime(7), tzinfo=LOCAL)
            if not (pid in silent and back == 0):  # silent: no motion today, device alive
                add(pid, f"m-{back}", "motion", morning)
            add(pid, f"h-{back}", "heartbeat", morning + timedelta(hours=2, minutes=55))
        if pid not in silent:
            add(pid, "m-now", "motion", T - timedelta(minutes=30))
    DeviceEvent.objects.bulk_create(events)
    setup_seconds = time.perf_counter() - started
    n_events = DeviceEvent.objects.count()

    t0 = time.perf_counter()
    rows = list(Device.objects.filter(status="active").order_by("pk"))
    baseline = time.perf_counter() - t0
    del rows

    if os.environ.get("CARE_CHECK_PROFILE"):
        import cProfile
        import pstats

        care_check(at=T)
        cProfile.runctx("care_check(at=T)", globals(), locals(), "/tmp/care_check.prof")
        pstats.Stats("/tmp/care_check.prof").sort_stats("cumulative").print_stats(25)
        return
    t0 = time.perf_counter()
    first = care_check(at=T)
    first_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = care_check(at=T)
    again_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    later = care_check(at=T + timedelta(minutes=1))
    later_seconds = time.perf_counter() - t0
    emit(
        {
            "benchmark": "care_check",
            "database": "sqlite",
            "people": len(people),
            "devices": len(devices),
            "events": n_events,
            "silent_people": len(silent),
            "setup_seconds": round(setup_seconds, 1),
            "first_check_seconds": round(first_seconds, 2),
            "first_raised": {k: v for k, v in first.raised.items()},
            "again_seconds": round(again_seconds, 2),
            "again_raised": sum(again.raised.values()),
            "next_minute_seconds": round(later_seconds, 2),
            "next_minute_raised": sum(later.raised.values()),
            "baseline_read_devices_seconds": round(baseline, 2),
            "ratio_check_to_baseline": round(again_seconds / baseline, 1),
            "alarms": Alarm.objects.count(),
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


if __name__ == "__main__":
    main()
