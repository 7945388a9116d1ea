"""The machine's Mosquitto with the deployment's settings (deploy/mosquitto.conf), on a port of
its own and with its persistence in a folder of its own: for the broker-settings test and the
care benchmarks, which must measure the broker the deployment ships, not the machine's."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

SETTINGS = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"


class BrokerFailed(RuntimeError):
    """Mosquitto refused the settings or did not listen in time (the message says which)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(folder: Path, port: int, *, wait: float = 10) -> subprocess.Popen:
    """Start ``mosquitto`` on 127.0.0.1:``port``; returns once it listens."""
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence_location {folder}/\n"
        + SETTINGS.read_text()
    )
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return broker
        except OSError:
            if broker.poll() is not None:
                raise BrokerFailed(f"mosquitto refused {conf}: {broker.stderr.read()}") from None
            if time.monotonic() > deadline:
                broker.kill()
                raise BrokerFailed(f"mosquitto did not listen within {wait:.0f} s") from None
            time.sleep(0.05)
