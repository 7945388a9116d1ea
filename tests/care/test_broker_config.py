"""The broker settings the deployment ships (deploy/mosquitto.conf), run on the machine's
mosquitto: a backlog past Mosquitto's default queue of 1,000 messages per session is kept, and
the intake takes more than Mosquitto's default 20 unacknowledged messages per transaction.

Skipped with a visible reason when there is no ``mosquitto`` binary (failed instead when
DAJIUZHU_REQUIRE_ALL=1)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from dajiuzhu.care import mqtt
from dajiuzhu.care.intake import topic_for
from dajiuzhu.care.models import Alarm, DeviceEvent
from tests.care.conftest import t
from tests.conftest import require
from tests.factories.broker import BrokerFailed, free_port, saved, start_mosquitto

BACKLOG = 1500  # past Mosquitto's default max_queued_messages (1000) + max_inflight (20)


class ShippedBroker:
    """The machine's mosquitto with deploy/mosquitto.conf, in a folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.process = self._start()

    def _start(self):
        try:
            return start_mosquitto(self.folder, self.port)
        except BrokerFailed as exc:
            pytest.fail(str(exc))

    def restart(self) -> None:
        """Stop it as an operator would (SIGTERM: it saves its sessions) and start it again."""
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = self._start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def shipped():
    require(shutil.which("mosquitto") is not None, "no mosquitto binary on this machine")
    # Not pytest's tmp_path: its parents are closed to Mosquitto's own user.
    folder = Path(tempfile.mkdtemp(prefix="djz-test-mosquitto-"))
    broker = ShippedBroker(folder)
    yield broker
    broker.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def shipped_broker(shipped):
    return shipped.url


def _subscribe_then_leave(url: str, client_id: str) -> None:
    """Connect the intake's session once, so that it holds the subscription, and leave."""
    first = mqtt.Intake(url, client_id=client_id)
    deadline = time.monotonic() + 10
    while not first.connected and time.monotonic() < deadline:
        first.loop_for(0.2)
    first.loop_for(0.5)  # the subscription's acknowledgement: the session now holds it
    first.stop()


def test_the_intakes_session_and_its_queue_survive_a_restart_of_the_broker(shipped, tn_person):
    """Messages queued for the intake while it is down outlive a restart of the broker: the
    broker must be able to write its persistence file (tests.factories.broker gives the folder
    to Mosquitto's own user; without that every save failed and the restart lost them)."""
    device = tn_person.device("CONF-R", "motion")
    _subscribe_then_leave(shipped.url, "restart-intake")
    at = t("03-01 08:00").isoformat()
    mqtt.publish(
        shipped.url,
        (
            (topic_for(device), json.dumps({"event_id": f"r-{i}", "type": "heartbeat", "at": at}))
            for i in range(300)
        ),
        client_id="restart-pub",
    )
    shipped.restart()
    assert saved(shipped.folder)
    stored = DeviceEvent.objects.filter(device__device_id=device)
    intake = mqtt.Intake(shipped.url, client_id="restart-intake")
    deadline = time.monotonic() + 20
    while stored.count() < 300 and time.monotonic() < deadline:
        intake.loop_for(0.3)
    intake.stop()
    assert stored.count() == 300


def test_a_backlog_past_the_default_queue_is_kept_and_taken_in_large_batches(
    shipped_broker, tn_person, monkeypatch
):
    device = tn_person.device("CONF-1", "motion")
    batches: list[int] = []
    real = mqtt.ingest_many

    def counting(messages, params=None):
        batches.append(len(messages))
        return real(messages, params)

    monkeypatch.setattr(mqtt, "ingest_many", counting)
    _subscribe_then_leave(shipped_broker, "conf-intake")
    at = t("03-01 08:00").isoformat()
    sent = mqtt.publish(
        shipped_broker,
        (
            (topic_for(device), json.dumps({"event_id": f"b-{i}", "type": "heartbeat", "at": at}))
            for i in range(BACKLOG)
        ),
        client_id="conf-publisher",
    )
    assert sent == BACKLOG
    stored = DeviceEvent.objects.filter(device__device_id=device)
    second = mqtt.Intake(shipped_broker, client_id="conf-intake")
    deadline = time.monotonic() + 30
    while stored.count() < BACKLOG and time.monotonic() < deadline:
        second.loop_for(0.3)
    second.stop()
    assert stored.count() == BACKLOG  # Mosquitto's defaults would have dropped 480
    assert max(batches) > 20  # more than the default in flight in one transaction


def test_a_button_behind_a_backlog_is_taken_before_the_heartbeats_ahead_of_it(
    shipped_broker, tn_person, monkeypatch
):
    """With the shipped in-flight limit the intake holds the backlog and takes the press in
    a transaction of its own before the heartbeats published ahead of it."""
    heartbeats = tn_person.device("CONF-H", "motion")
    pendant = tn_person.device("CONF-P", "pendant")
    batches: list[list[str]] = []
    real = mqtt.ingest_many

    def recording(messages, params=None):
        batches.append([json.loads(payload)["type"] for _, payload, _ in messages])
        return real(messages, params)

    monkeypatch.setattr(mqtt, "ingest_many", recording)
    _subscribe_then_leave(shipped_broker, "urgent-intake")
    at = t("03-01 08:00").isoformat()
    backlog = [
        (topic_for(heartbeats), json.dumps({"event_id": f"h-{i}", "type": "heartbeat", "at": at}))
        for i in range(BACKLOG)
    ]
    press = json.dumps({"event_id": "p-1", "type": "button", "at": at})
    mqtt.publish(shipped_broker, [*backlog, (topic_for(pendant), press)], client_id="urgent-pub")
    stored = DeviceEvent.objects.all()
    second = mqtt.Intake(shipped_broker, client_id="urgent-intake")
    deadline = time.monotonic() + 30
    while stored.count() < BACKLOG + 1 and time.monotonic() < deadline:
        second.loop_for(0.3)
    second.stop()
    assert stored.count() == BACKLOG + 1
    assert Alarm.objects.filter(rule="BUTTON", person_id=tn_person.pk).count() == 1
    press_batch = next(i for i, b in enumerate(batches) if "button" in b)
    assert batches[press_batch] == ["button"]  # alone
    last_heartbeat = max(i for i, b in enumerate(batches) if "heartbeat" in b)
    assert press_batch < last_heartbeat  # before the heartbeats published ahead of it
    # every message acknowledged: a new connection of the session gets nothing again
    batches.clear()
    third = mqtt.Intake(shipped_broker, client_id="urgent-intake")
    third.loop_for(1.5)
    third.stop()
    assert batches == []
