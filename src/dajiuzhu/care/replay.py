"""``care replay``: a file of messages (JSON lines ``{"topic": …, "payload": "<raw text>"}``, in
time order) through exactly the intake's code path, with the time-based rules run at every
multiple of ``check_every`` seconds of the messages' own clock and finally at ``until``.

The messages' clock is each message's own ``at``; a message is taken in as if received at that
time (capped at ``until``: a message timed more than the tolerance after the replay's end is in
the future and rejected, as the intake rejects one from a device's wrong clock). A line may
carry ``"received_at"`` to set its receipt time explicitly. A message whose time cannot be read
is taken in at the clock of the message before it (the intake rejects it, and counts it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dajiuzhu.care.intake import ingest
from dajiuzhu.care.rules import care_check


@dataclass
class ReplayReport:
    messages: int = 0
    statuses: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    checks: int = 0
    raised: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "messages": self.messages,
            "accepted": self.statuses["accepted"],
            "duplicate": self.statuses["duplicate"],
            "rejected": self.statuses["rejected"],
            "reasons": dict(self.reasons),
            "checks": self.checks,
            "raised": dict(self.raised),
            "bad_lines": len(self.errors),
        }


def _message_time(payload: str) -> datetime | None:
    try:
        data = json.loads(payload)
        at = datetime.fromisoformat(data["at"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        return None
    return at.astimezone(UTC)


def _epoch_multiple_after(at: datetime, seconds: int) -> datetime:
    stamp = int(at.timestamp())
    return datetime.fromtimestamp((stamp // seconds + 1) * seconds, tz=UTC)


def replay(lines: Iterable[str], *, check_every: int, until: datetime) -> ReplayReport:
    if check_every <= 0:
        raise ValueError("check_every must be positive")
    report = ReplayReport()
    until = until.astimezone(UTC)
    clock: datetime | None = None
    next_check: datetime | None = None

    def checks_before(moment: datetime, *, inclusive: bool) -> None:
        nonlocal next_check
        while next_check is not None and (
            next_check < moment or (inclusive and next_check <= moment)
        ):
            result = care_check(at=next_check)
            report.checks += 1
            report.raised.update({k: v for k, v in result.raised.items() if v})
            next_check += timedelta(seconds=check_every)

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            topic, payload = item["topic"], item["payload"]
            if not isinstance(topic, str) or not isinstance(payload, str):
                raise TypeError
        except (ValueError, TypeError, KeyError, RecursionError):
            report.errors.append({"line": number, "message": "不是 {topic, payload} 的 JSON 行"})
            continue
        received = None
        if isinstance(item.get("received_at"), str):
            received = _message_time(json.dumps({"at": item["received_at"]}))
        at = _message_time(payload)
        if received is None:
            received = min(at, until) if at is not None else (clock or until)
        if clock is None or received > clock:
            clock = received
        if next_check is None:
            next_check = _epoch_multiple_after(clock - timedelta(seconds=1), check_every)
        checks_before(received, inclusive=False)
        result = ingest(topic, payload, received)
        report.messages += 1
        report.statuses[result.status] += 1
        if result.reason:
            report.reasons[result.reason] += 1
        if result.alarms:
            report.raised["immediate"] += len(result.alarms)
    if next_check is not None:
        checks_before(until, inclusive=True)
    checked = care_check(at=until)
    report.checks += 1
    report.raised.update({k: v for k, v in checked.raised.items() if v})
    return report
