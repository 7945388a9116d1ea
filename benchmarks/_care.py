"""A fresh SQLite home for the care benchmarks: ``people`` people from the registry's bulk rows,
each with a motion sensor and a pendant, bulk-inserted as the intake would leave them (heard
a moment ago)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.factories
from _common import fresh_home
from registry_bulk import rows as hukou_rows
from tests.factories.broker import BrokerFailed, start_mosquitto


def care_home(people: int, prefix: str) -> list[str]:
    """Set the home up, start Django and return the device ids (``<prefix>-<pk>-m|p``)."""
    os.environ["DAJIUZHU_HOME"] = fresh_home()
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    from dajiuzhu.cli import setup_django

    setup_django()
    from django.utils import timezone

    from dajiuzhu.care.models import Device
    from dajiuzhu.core.reference import reference_data_load
    from dajiuzhu.registry.models import Person
    from dajiuzhu.registry.services import hukou_sync

    reference_data_load()
    today = timezone.localdate()
    hukou_sync(rows=hukou_rows(people), as_of=today - timedelta(days=365), source="bench")
    now = timezone.now()
    Device.objects.bulk_create(
        [
            Device(
                device_id=f"{prefix}-{pk:07d}-{kind[0]}",
                kind=kind,
                person_id=pk,
                division_code=division,
                installed_at=today - timedelta(days=10),
                last_heard_at=now,
                last_motion_at=now if kind == "motion" else None,
            )
            for pk, division in Person.objects.values_list("pk", "hukou_division_id")
            for kind in ("motion", "pendant")
        ],
        batch_size=5000,
    )
    return list(Device.objects.order_by("pk").values_list("device_id", flat=True))


def start_broker(folder: Path, port: int, settings: Path | None = None) -> subprocess.Popen:
    """The machine's ``mosquitto`` on 127.0.0.1:``port`` with the deployment's settings
    (deploy/mosquitto.conf, or another version's file) and its persistence in ``folder``;
    returns once it listens."""
    try:
        return start_mosquitto(folder, port, settings=settings)
    except BrokerFailed as exc:
        raise SystemExit(f"the benchmark's broker did not start: {exc}") from None


def clear_session(url: str, client_id: str) -> None:
    """Clear an intake's persistent session on the broker: a session left behind keeps its
    subscription, and the broker queues every later run's messages for it too (and, past its
    queue limit, works to drop them) — later runs would measure a busier broker."""
    from dajiuzhu.care.mqtt import make_client, parse_url

    broker = parse_url(url)
    client = make_client(client_id, clean=True, manual_ack=False)
    client.connect(broker.host, broker.port)
    client.loop(timeout=0.5)
    client.disconnect()
