"""The demo's embedded MQTT broker (amqtt, MQTT 3.1.1), on loopback only.

Production and CI use Mosquitto; this exists so that ``make demo`` needs no broker installed.
amqtt keeps persistent sessions in memory: a restart of this broker loses queued messages (a
Mosquitto with persistence does not) — fine for a demo, stated in docs/care.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

DEFAULT_PORT = 18830


def broker_config(port: int) -> dict:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def _serve(port: int) -> None:
    from amqtt.broker import Broker

    broker = Broker(broker_config(port))
    await broker.start()
    try:
        await asyncio.Event().wait()
    finally:
        await broker.shutdown()


def run_broker(port: int | None = None) -> None:
    """Serve until interrupted."""
    port = port or int(os.environ.get("DAJIUZHU_MQTT_PORT", DEFAULT_PORT))
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (or the demo's SIGINT) stops it
        asyncio.run(_serve(port))
