"""Pluggable SMS backends. The demo prints codes to the console; tests record them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("dajiuzhu.sms")


@dataclass
class SmsMessage:
    phone: str
    text: str


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes the message to the server's console (demo only: it shows the code)."""

    def send(self, message: SmsMessage) -> None:
        print(f"[SMS to {message.phone}] {message.text}", flush=True)


class RecordingSmsBackend(BaseSmsBackend):
    """Keeps messages in memory (``outbox``) for tests."""

    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        RecordingSmsBackend.outbox.append(message)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
