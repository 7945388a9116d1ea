"""The machine's Mosquitto with the deployment's settings (deploy/mosquitto.conf), on a port of
its own and with its persistence in a folder of its own: for the broker-settings test and the
care benchmarks, which must measure the broker the deployment ships, not the machine's.

Started as root, Mosquitto drops to its own user (``mosquitto``) before it writes its
persistence file, so the folder is given to that user; otherwise every save fails ("Error
saving in-memory database … Permission denied" in its log) and a restart of the broker loses
its sessions. The folder's parents must be open to that user too (a ``tempfile.mkdtemp()`` in
/tmp is; pytest's ``tmp_path`` is not). Its log goes to ``mosquitto.log`` in the folder."""

from __future__ import annotations

import os
import pwd
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


def _writable_by_broker(folder: Path) -> None:
    if os.geteuid() != 0:
        return  # Mosquitto runs as this user
    try:
        broker_user = pwd.getpwnam("mosquitto")
    except KeyError:
        return  # no such user: Mosquitto stays root
    os.chown(folder, broker_user.pw_uid, broker_user.pw_gid)


def start_mosquitto(
    folder: Path, port: int, *, settings: Path | None = None, wait: float = 10
) -> subprocess.Popen:
    """Start ``mosquitto`` on 127.0.0.1:``port`` with ``settings`` (by default the
    deployment's, deploy/mosquitto.conf); returns once it listens."""
    _writable_by_broker(folder)
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence_location {folder}/\n"
        + (settings or SETTINGS).read_text()
    )
    log = folder / "mosquitto.log"
    with log.open("a") as out:
        broker = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return broker
        except OSError:
            if broker.poll() is not None:
                raise BrokerFailed(f"mosquitto refused {conf}: {log.read_text()[-2000:]}") from None
            if time.monotonic() > deadline:
                broker.kill()
                raise BrokerFailed(f"mosquitto did not listen within {wait:.0f} s") from None
            time.sleep(0.05)


def saved(folder: Path) -> bool:
    """The broker has written its persistence file and logged no failure to save it."""
    log = folder / "mosquitto.log"
    failed = log.exists() and "Error saving in-memory database" in log.read_text()
    return (folder / "mosquitto.db").exists() and not failed
