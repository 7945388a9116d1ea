"""The MQTT consumer behind ``dajiuzhu care intake`` (paho-mqtt 2).

It subscribes to ``dajiuzhu/v1/devices/+/events`` with QoS 1 on a persistent session (fixed
client id, ``clean_session=False``) and acknowledges a message only after its effect is
committed. The messages that have arrived together (at most ``BATCH``; the broker sends a
limited number unacknowledged) are taken in one transaction through ``ingest_many``, and
acknowledged in the order they came once it commits: one commit for many messages. When the
database fails, the whole batch is left unacknowledged and the consumer drops the connection:
the broker keeps the session and sends those messages again on the next connection (an event
is stored once per device and ``event_id``, so nothing is doubled). (paho keeps an unclean
session only in memory; what carries messages across a restart of the intake is the broker's
session.)
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from dajiuzhu.care.intake import SUBSCRIPTION, ingest_many

log = logging.getLogger("dajiuzhu.care.mqtt")

# The demo's embedded broker (care.broker) unless DAJIUZHU_MQTT_URL names another.
DEFAULT_URL = f"mqtt://127.0.0.1:{os.environ.get('DAJIUZHU_MQTT_PORT', '18830')}"
DEFAULT_CLIENT_ID = "dajiuzhu-care-intake"
BATCH = 200  # messages taken in one transaction at most
GATHER_SECONDS = 0.05  # a message waits at most this long for others to share its transaction
SLOW_BATCH_SECONDS = 0.5  # a batch taking longer is logged: devices' messages wait meanwhile


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> Broker:
    parts = urlsplit(url or DEFAULT_URL)
    if parts.scheme not in ("mqtt", "tcp", ""):
        raise ValueError(f"unsupported MQTT URL scheme: {parts.scheme}")
    return Broker(parts.hostname or "127.0.0.1", parts.port or 1883, parts.username, parts.password)


def make_client(client_id: str, *, clean: bool, manual_ack: bool) -> mqtt.Client:
    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )


class Intake:
    """One consumer: ``run()`` serves until stopped, ``loop_for(seconds)`` a while."""

    def __init__(self, url: str, *, client_id: str = DEFAULT_CLIENT_ID) -> None:
        self.broker = parse_url(url)
        self.client = make_client(client_id, clean=False, manual_ack=True)
        if self.broker.username:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.taken = 0
        self.failed = 0
        self._arrived: list[tuple[mqtt.MQTTMessage, datetime]] = []
        self.connected = False
        self._reconnect = False
        self._stop = False

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("care.mqtt.refused", extra={"reason": str(reason_code)})
            return
        self.connected = True
        client.subscribe(SUBSCRIPTION, qos=1)
        log.info("care.mqtt.connected", extra={"session_present": flags.session_present})

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected = False

    def _on_message(self, client, userdata, message) -> None:
        if self._reconnect:
            return  # after a failure nothing more is acknowledged on this connection
        self._arrived.append((message, timezone.now()))

    def _take_in(self) -> None:
        """Take in what has arrived in one transaction, then acknowledge it in order."""
        batch, self._arrived = self._arrived, []
        if not batch or self._reconnect:
            return
        started = time.monotonic()
        try:
            ingest_many([(m.topic, bytes(m.payload), received_at) for m, received_at in batch])
        except DatabaseError:
            self.failed += 1
            log.exception("care.mqtt.commit_failed", extra={"messages": len(batch)})
            if not connection.in_atomic_block:  # never close a connection inside a transaction
                close_old_connections()  # a broken connection is replaced on the next batch
            self._reconnect = True  # unacknowledged: the broker sends them again
            self.client.disconnect()
            return
        took = time.monotonic() - started
        if took > SLOW_BATCH_SECONDS:
            log.warning(
                "care.mqtt.slow_batch %d messages in %.2f s",
                len(batch),
                took,
                extra={"messages": len(batch), "seconds": round(took, 3)},
            )
        for message, _ in batch:
            self.client.ack(message.mid, message.qos)
        self.taken += len(batch)

    def _read(self, timeout: float) -> None:
        """One read from the broker; once a message has come, what else comes within
        GATHER_SECONDS (up to BATCH messages); then take them in together. Taking each message
        in as it came cost a transaction per message: 86 % of a core at 200 messages/s."""
        self.client.loop(timeout=timeout)
        if self._arrived:
            until = time.monotonic() + GATHER_SECONDS
            while len(self._arrived) < BATCH and (left := until - time.monotonic()) > 0:
                self.client.loop(timeout=left)
        self._take_in()

    def connect(self) -> None:
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)

    def loop_for(self, seconds: float) -> None:
        """Serve for about ``seconds``, connecting (again) whenever the connection is down."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop:
            if not self.client.is_connected():
                self._reconnect = False
                try:
                    self.connect()
                except OSError:
                    log.warning("care.mqtt.unreachable", extra={"host": self.broker.host})
                    time.sleep(1)
                    continue
            self._read(0.2)

    def run(self) -> None:
        """Serve until :meth:`request_stop` (a signal handler) or :meth:`stop`."""
        while not self._stop:
            self.loop_for(60)
        self.stop()

    def request_stop(self) -> None:
        """Stop after the message in hand (safe to call from a signal handler)."""
        self._stop = True

    def stop(self) -> None:
        self._stop = True
        if self.client.is_connected():
            self.client.disconnect()
            self.client.loop(timeout=0.2)


def publish(url: str, messages, *, client_id: str, qos: int = 1) -> int:
    """Publish (topic, payload) pairs and wait until the broker has them all."""
    broker = parse_url(url)
    client = make_client(client_id, clean=True, manual_ack=False)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=qos) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=30)
    finally:
        client.disconnect()
        client.loop_stop()
    return len(infos)
