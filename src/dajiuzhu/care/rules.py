"""The time-based alarm rules at a time T (shared/policy/CARE.md): INACTIVITY,
NO_MORNING_ACTIVITY and OFFLINE. (LOW_BATTERY is decided as the report is taken in: its
``raised_at`` is the report's time, so the intake and a check at any later T agree.)

Everything is computed from the history as of T — messages timed at or before T, away spells
begun at or before T — so ``care check --at T`` replays any moment, and running it again for
the same or a later T finds the same spells, which already have their alarms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q

from dajiuzhu.care import alarms
from dajiuzhu.care.models import (
    Alarm,
    AwaySpell,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceStatus,
    EventType,
    MorningDecision,
    Plan,
    Rule,
)
from dajiuzhu.care.parameters import care_parameters

LOCAL = ZoneInfo("Asia/Shanghai")
# How many past local days NO_MORNING_ACTIVITY looks back from T (a check that ran late, or a
# replay checked only at its end, still finds every morning of the last week).
MORNING_LOOKBACK_DAYS = 7
CHUNK = 500  # ids per IN list (SQLite's bound parameters)


@dataclass
class CheckReport:
    at: datetime
    raised: dict[str, int] = field(
        default_factory=lambda: {Rule.INACTIVITY: 0, Rule.NO_MORNING_ACTIVITY: 0, Rule.OFFLINE: 0}
    )
    alarm_ids: list[int] = field(default_factory=list)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def local_at(day: date, hours: float) -> datetime:
    return local_midnight(day) + timedelta(hours=hours)


@dataclass(frozen=True)
class _Device:
    """The columns of an active device the check needs (not model instances: 120,000 of
    those would cost more than the whole check)."""

    pk: int
    device_id: str
    kind: str
    person_id: int
    division_code: str
    installed_at: date
    last_heard_at: datetime | None
    last_motion_at: datetime | None


def _last_heard(devices: list[_Device], at: datetime) -> dict[int, datetime]:
    """Each device's latest message timed at or before ``at`` (or 00:00 local of its install
    date when it has sent none)."""
    heard: dict[int, datetime] = {}
    past = []
    for d in devices:
        if d.last_heard_at is not None and d.last_heard_at <= at:
            heard[d.pk] = d.last_heard_at
        else:
            past.append(d.pk)
    for start in range(0, len(past), CHUNK):
        rows = (
            DeviceEvent.objects.filter(device_id__in=past[start : start + CHUNK], at__lte=at)
            .values("device_id")
            .annotate(last=Max("at"))
        )
        heard.update({r["device_id"]: r["last"] for r in rows})
    for d in devices:
        heard.setdefault(d.pk, local_midnight(d.installed_at))
    return heard


def _latest_motion(motion: dict[int, list[_Device]], at: datetime) -> dict[int, datetime]:
    """Each person's latest motion timed at or before ``at``: from the devices' last motion
    when all of them lie at or before ``at`` (the check at T = now), else from the events."""
    out: dict[int, datetime] = {}
    unknown = []
    for pid, ds in motion.items():
        known = [d.last_motion_at for d in ds if d.last_motion_at is not None]
        if len(known) == len(ds) and all(t <= at for t in known):
            out[pid] = max(known)
        else:
            unknown.append(pid)
    for start in range(0, len(unknown), CHUNK):
        rows = (
            DeviceEvent.objects.filter(
                person_id__in=unknown[start : start + CHUNK], type=EventType.MOTION, at__lte=at
            )
            .values("person_id")
            .annotate(last=Max("at"))
        )
        out.update({r["person_id"]: r["last"] for r in rows})
    return out


def _away_at(at: datetime) -> tuple[set[int], dict[int, datetime]]:
    """Away spells begun at or before ``at`` (an end after ``at`` is not known yet at T): the
    people away at ``at``, and each person's latest return at or before ``at``."""
    rows = (
        AwaySpell.objects.filter(start__lte=at)
        .values("person_id")
        .annotate(
            open=Count("pk", filter=Q(end__isnull=True) | Q(end__gt=at)),
            last_end=Max("end", filter=Q(end__lte=at)),
        )
        .values_list("person_id", "open", "last_end")
    )
    away, ends = set(), {}
    for pid, open_, last_end in rows:
        if open_:
            away.add(pid)
        if last_end is not None:
            ends[pid] = last_end
    return away, ends


def _inactivity_hours(person_ids: set[int]) -> dict[int, int]:
    """A person's own inactivity hours from the latest version of their plan."""
    latest: dict[int, tuple[int, int | None]] = {}
    with_own = Plan.objects.filter(inactivity_hours__isnull=False).values("person_id")
    for pid, version, hours in Plan.objects.filter(person_id__in=with_own).values_list(
        "person_id", "version", "inactivity_hours"
    ):
        if pid in person_ids and (pid not in latest or version > latest[pid][0]):
            latest[pid] = (version, hours)
    return {pid: h for pid, (_, h) in latest.items() if h}


def _load(queryset) -> list[_Device]:
    return [
        _Device(*row)
        for row in queryset.order_by("pk").values_list(
            "pk",
            "device_id",
            "kind",
            "person_id",
            "division_code",
            "installed_at",
            "last_heard_at",
            "last_motion_at",
        )
    ]


def _motion_devices(person_ids: list[int], today: date) -> dict[int, list[_Device]]:
    out: dict[int, list[_Device]] = defaultdict(list)
    for start in range(0, len(person_ids), CHUNK):
        for d in _load(
            Device.objects.filter(
                status=DeviceStatus.ACTIVE,
                installed_at__lte=today,
                kind=DeviceKind.MOTION,
                person_id__in=person_ids[start : start + CHUNK],
            )
        ):
            out[d.person_id].append(d)
    return out


@transaction.atomic
def care_check(*, at: datetime) -> CheckReport:
    """Evaluate the time-based rules at ``at`` and raise the alarms of new spells.

    Set-based, so that a city's 60,000 people take a couple of seconds: the database first
    narrows each rule to the people or devices that *can* be in a spell at ``at`` (exact
    bounds, below), and only those are loaded and decided one by one as the policy says."""
    report = CheckReport(at=at)
    today = at.astimezone(LOCAL).date()
    params = care_parameters(today)
    active = Device.objects.filter(status=DeviceStatus.ACTIVE, installed_at__lte=today)
    offline_after = timedelta(seconds=params.offline_seconds)

    # OFFLINE: a device last heard within the limit before ``at`` (and not after it — a replay
    # of an earlier T reads the events) is online; only the others are looked at.
    maybe_offline = _load(
        active.exclude(last_heard_at__gte=at - offline_after, last_heard_at__lte=at)
    )
    heard = _last_heard(maybe_offline, at)
    offline: set[int] = set()
    candidates = []
    for d in maybe_offline:
        last = heard[d.pk]
        if at - last > offline_after:
            offline.add(d.pk)
            candidates.append(
                {
                    "spell": f"{d.device_id}:{last.isoformat()}",
                    "person_id": d.person_id,
                    "division_code": d.division_code,
                    "raised_at": last + offline_after,
                    "device": d.pk,
                }
            )
    _raise_new(report, Rule.OFFLINE, candidates)

    # INACTIVITY: the clock starts at or after the latest motion, and nobody's limit is under
    # the shortest one a plan may set (4 h) or the default: a person whose motion sensors all
    # know their last motion, at or before ``at`` and within that bound, cannot be inactive.
    shortest = timedelta(hours=min(4, params.inactivity_hours))
    maybe_inactive = list(
        active.filter(kind=DeviceKind.MOTION)
        .values("person_id")
        .annotate(
            latest=Max("last_motion_at"),
            unknown=Count("pk", filter=Q(last_motion_at__isnull=True) | Q(last_motion_at__gt=at)),
        )
        .filter(Q(unknown__gt=0) | Q(latest__lt=at - shortest))
        .values_list("person_id", flat=True)
    )
    motion = _motion_devices(maybe_inactive, today)
    if motion:
        devices = [d for ds in motion.values() for d in ds]
        heard = _last_heard(devices, at)
        offline_motion = {d.pk for d in devices if at - heard[d.pk] > offline_after}
        latest = _latest_motion(motion, at)
        away, ends = _away_at(at)
        own_hours = _inactivity_hours(set(motion))
        candidates = []
        for pid, ds in motion.items():
            if pid in away or all(d.pk in offline_motion for d in ds):
                continue  # away at T, or no motion device that can tell: silent
            base = latest.get(pid) or local_midnight(min(d.installed_at for d in ds))
            start = max(base, ends[pid]) if pid in ends else base
            limit = timedelta(hours=own_hours.get(pid, params.inactivity_hours))
            if at - start > limit:
                candidates.append(
                    {
                        "spell": f"{pid}:{start.isoformat()}",
                        "person_id": pid,
                        "division_code": ds[0].division_code,
                        "raised_at": start + limit,
                    }
                )
        _raise_new(report, Rule.INACTIVITY, candidates)

    _no_morning_activity(report, at, active.filter(kind=DeviceKind.MOTION))
    return report


def _no_morning_activity(report: CheckReport, at: datetime, motion_devices) -> None:
    """Each local day of the last week whose deadline has passed and that no earlier check
    decided yet: decided once, with the data of this check (a message timed in that morning
    but taken in after the decision changes nothing — as on a live console)."""
    today = at.astimezone(LOCAL).date()
    earliest = motion_devices.aggregate(first=Min("installed_at"))["first"]
    if earliest is None:
        return
    first_day = max(earliest, today - timedelta(days=MORNING_LOOKBACK_DAYS))
    decided = set(
        MorningDecision.objects.filter(day__gte=first_day, day__lte=today).values_list(
            "day", flat=True
        )
    )
    day = first_day
    while day <= today:
        params = care_parameters(day)
        window_from = local_at(day, params.morning_from)
        deadline = local_at(day, params.morning_deadline)
        if at < deadline:
            break
        if day not in decided:
            _morning(report, day, window_from, deadline, motion_devices, params.offline_seconds)
            MorningDecision.objects.get_or_create(day=day, defaults={"at": at})
        day += timedelta(days=1)


def _online_unmoved(
    day: date, window_from: datetime, deadline: datetime, motion_devices, limit: timedelta
) -> set[int]:
    """The people with a motion device installed by ``day`` that is not offline at
    ``deadline`` (heard at most ``limit`` before it) and no motion in [window_from, deadline)."""
    moved = DeviceEvent.objects.filter(
        person_id=OuterRef("person_id"),
        type=EventType.MOTION,
        at__gte=window_from,
        at__lt=deadline,
    )
    if deadline - local_midnight(day) <= limit:
        # A device never heard counts from its install date's midnight and could be online:
        # decide device by device.
        installed: dict[int, list[_Device]] = defaultdict(list)
        for d in _load(motion_devices.filter(installed_at__lte=day)):
            installed[d.person_id].append(d)
        devices = [d for ds in installed.values() for d in ds]
        heard = _last_heard(devices, deadline)
        online = {
            pid for pid, ds in installed.items() if any(deadline - heard[d.pk] <= limit for d in ds)
        }
        moved_people = set(
            DeviceEvent.objects.filter(type=EventType.MOTION, at__gte=window_from, at__lt=deadline)
            .values_list("person_id", flat=True)
            .distinct()
        )
        return online - moved_people
    # Otherwise a device is online exactly when it sent a message in [deadline - limit,
    # deadline]: one range query over all people, keeping those who did not move.
    return set(
        DeviceEvent.objects.filter(
            at__gte=deadline - limit,
            at__lte=deadline,
            device__in=motion_devices.filter(installed_at__lte=day),
        )
        .exclude(Exists(moved))
        .values_list("person_id", flat=True)
        .distinct()
    )


def _morning(
    report: CheckReport,
    day: date,
    window_from: datetime,
    deadline: datetime,
    motion_devices,
    offline_seconds: float,
) -> None:
    limit = timedelta(seconds=offline_seconds)
    candidates = _online_unmoved(day, window_from, deadline, motion_devices, limit)
    if not candidates:
        return
    # Away at some moment of the morning: a spell begun by the deadline, not ended before
    # the window opened.
    away = set(
        AwaySpell.objects.filter(start__lte=deadline)
        .filter(Q(end__isnull=True) | Q(end__gte=window_from))
        .values_list("person_id", flat=True)
    )
    people = sorted(candidates - away)
    division = {}
    for start in range(0, len(people), CHUNK):
        division.update(
            motion_devices.filter(person_id__in=people[start : start + CHUNK])
            .order_by("-pk")
            .values_list("person_id", "division_code")
        )
    _raise_new(
        report,
        Rule.NO_MORNING_ACTIVITY,
        [
            {
                "spell": f"{pid}:{day.isoformat()}",
                "person_id": pid,
                "division_code": division[pid],
                "raised_at": deadline,
            }
            for pid in people
        ],
    )


def _raise_new(report: CheckReport, rule: str, candidates: list[dict]) -> None:
    """Raise the candidates whose spell has no alarm yet (the existing ones are read in
    chunks first, not one query each; the unique constraint still decides a race)."""
    existing: set[str] = set()
    spells = [c["spell"] for c in candidates]
    for start in range(0, len(spells), CHUNK):
        existing.update(
            Alarm.objects.filter(rule=rule, spell__in=spells[start : start + CHUNK]).values_list(
                "spell", flat=True
            )
        )
    new = [c for c in candidates if c["spell"] not in existing]
    device_pks = sorted({c["device"] for c in new if c.get("device")})
    devices: dict[int, Device] = {}
    for start in range(0, len(device_pks), CHUNK):
        devices.update(Device.objects.in_bulk(device_pks[start : start + CHUNK]))
    raised = alarms.alarms_raise_many(
        [
            alarms.Candidate(
                rule=rule,
                spell=c["spell"],
                person_id=c["person_id"],
                division_code=c["division_code"],
                raised_at=c["raised_at"],
                device=devices.get(c["device"]) if c.get("device") else None,
            )
            for c in new
        ]
    )
    for alarm in raised:
        report.raised[alarm.rule] += 1
        report.alarm_ids.append(alarm.pk)
