"""The MQTT consumer behind ``dajiuzhu care intake`` (paho-mqtt 2).

It subscribes to ``dajiuzhu/v1/devices/+/events`` with QoS 1 on a persistent session (fixed
client id, ``clean_session=False``) and acknowledges a message only after its effect is
committed. The messages that have arrived together (at most ``BATCH``) are taken in one
transaction through ``ingest_many``: one commit for many messages.

**The urgent first.** A message that raises an immediate alarm (a button, a fall, smoke, gas)
does not wait behind the heartbeats that came before it: the consumer reads ahead (the broker
sends up to ``max_inflight_messages`` unacknowledged, deploy/mosquitto.conf), and between
transactions it takes the urgent messages it holds first, in a transaction of their own. The
acknowledgements still go in the order the messages came (MQTT 3.1.1, 4.6): a message is
acknowledged once it and every message before it are committed. Nothing else depends on the
order across devices, and a device's own state does not move backwards (its last message is
the latest by the message's own time; away on/off are not urgent and keep their order).

When the database fails, the batch and everything not yet acknowledged are left
unacknowledged and the consumer drops the connection: the broker keeps the session and sends
those messages again on the next connection (an event is stored once per device and
``event_id``, so nothing is doubled). (paho keeps an unclean session only in memory; what
carries messages across a restart of the intake is the broker's session.)
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
from dajiuzhu.care.models import IMMEDIATE_RULES

log = logging.getLogger("dajiuzhu.care.mqtt")

# The demo's embedded broker (care.broker) unless DAJIUZHU_MQTT_URL names another.
DEFAULT_URL = f"mqtt://127.0.0.1:{os.environ.get('DAJIUZHU_MQTT_PORT', '18830')}"
DEFAULT_CLIENT_ID = "dajiuzhu-care-intake"
BATCH = 200  # messages taken in one transaction at most
GATHER_SECONDS = 0.05  # a message waits at most this long for others to share its transaction
SLOW_BATCH_SECONDS = 0.5  # a batch taking longer is logged: devices' messages wait meanwhile
READ_AHEAD = 10_000  # messages held unacknowledged at most (the broker's max_inflight_messages)
# A payload naming an immediate type is taken first. A false match (the word in a text field)
# only takes a message early; a type written with escapes is taken in its turn: either way it
# is stored and alarmed exactly as any other.
_URGENT = tuple(f'"{kind}"'.encode() for kind in IMMEDIATE_RULES)


class _Arrival:
    __slots__ = ("done", "message", "received_at", "urgent")

    def __init__(self, message: mqtt.MQTTMessage, received_at: datetime) -> None:
        self.message = message
        self.received_at = received_at
        payload = message.payload
        self.urgent = any(word in payload for word in _URGENT)
        self.done = False


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
        self._arrived: list[_Arrival] = []  # in the order they came, until acknowledged
        self._waiting = 0  # of them not yet committed
        self._urgent = 0  # of those, urgent
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
        # What is held unacknowledged comes again on the next connection (the broker's session).
        self._arrived, self._waiting, self._urgent = [], 0, 0

    def _on_message(self, client, userdata, message) -> None:
        if self._reconnect:
            return  # after a failure nothing more is acknowledged on this connection
        arrival = _Arrival(message, timezone.now())
        self._arrived.append(arrival)
        self._waiting += 1
        self._urgent += arrival.urgent

    def _take_in(self) -> None:
        """Take in what has arrived, in transactions of at most BATCH messages, the urgent
        ones first; between them, read what has come meanwhile. Returns when nothing is left,
        or when what is left is fewer than BATCH ordinary messages (they gather in ``_read``)."""
        first = True
        while self._waiting and not self._reconnect:
            if not (first or self._urgent or self._waiting >= BATCH):
                return
            first = False
            waiting = [a for a in self._arrived if not a.done]
            urgent = [a for a in waiting if a.urgent]
            if not self._commit((urgent or waiting)[:BATCH]):
                return
            self._acknowledge()
            self._read_available()

    def _commit(self, batch: list[_Arrival]) -> bool:
        """One transaction for these messages; False (and the connection dropped) when the
        database failed."""
        started = time.monotonic()
        try:
            ingest_many([(a.message.topic, bytes(a.message.payload), a.received_at) for a in batch])
        except DatabaseError:
            self.failed += 1
            log.exception("care.mqtt.commit_failed", extra={"messages": len(batch)})
            if not connection.in_atomic_block:  # never close a connection inside a transaction
                close_old_connections()  # a broken connection is replaced on the next batch
            self._reconnect = True  # unacknowledged: the broker sends them again
            self._arrived, self._waiting, self._urgent = [], 0, 0
            self.client.disconnect()
            return False
        took = time.monotonic() - started
        if took > SLOW_BATCH_SECONDS:
            log.warning(
                "care.mqtt.slow_batch %d messages in %.2f s",
                len(batch),
                took,
                extra={"messages": len(batch), "seconds": round(took, 3)},
            )
        for a in batch:
            a.done = True
            self._urgent -= a.urgent
        self._waiting -= len(batch)
        self.taken += len(batch)
        return True

    def _acknowledge(self) -> None:
        """Acknowledge, in the order they came, the messages committed with all before them."""
        done = 0
        for a in self._arrived:
            if not a.done:
                break
            self.client.ack(a.message.mid, a.message.qos)
            done += 1
        if done:
            del self._arrived[:done]

    def _read_available(self) -> None:
        """Read what the broker has sent meanwhile, without waiting (paho reads one packet a
        call), up to READ_AHEAD messages held."""
        while len(self._arrived) < READ_AHEAD and self.client.is_connected():
            before = len(self._arrived)
            self.client.loop(timeout=0)
            if len(self._arrived) == before:
                return

    def _read(self, timeout: float) -> None:
        """One read from the broker; once a message has come, what else comes within
        GATHER_SECONDS (up to BATCH messages, or at once for an urgent one); then take them
        in. Taking each message in as it came cost a transaction per message: 86 % of a core
        at 200 messages/s."""
        self.client.loop(timeout=timeout)
        if self._waiting:
            until = time.monotonic() + GATHER_SECONDS
            while (
                self._waiting < BATCH
                and not self._urgent
                and (left := until - time.monotonic()) > 0
            ):
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
