"""The alarm-receiving figures as the standards count them (BS 8521 / the TSA's answer targets):
per local day, per shift and per operator, over people's alarms (technical alarms are the
engineers'), in the user's scope.

* answer time: from the alarm's arrival on the console (``created_at``) to its acceptance;
* share accepted within 60 s and within 180 s: over all alarms of the group (an alarm nobody
  accepted counts as not within either) — targets 97.5 % and 99 %;
* median and nearest-rank 95th percentile answer time, over accepted alarms;
* false-alarm share: over alarms with a recorded outcome;
* time to the door: from arrival on the console to the first visit's recorded arrival.

Groups: the day and the shift by the alarm's arrival in local time (Asia/Shanghai); the operator
is the one who accepted it (alarms nobody accepted form their own row, 「未接警」).
"""

from __future__ import annotations

import io
import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dajiuzhu.care.access import alarms_visible
from dajiuzhu.care.models import Outcome, Visit, VisitStatus
from dajiuzhu.care.rules import LOCAL
from dajiuzhu.core.models import User
from dajiuzhu.core.text import guard_row

TARGET_60 = 0.975
TARGET_180 = 0.99
MAX_DAYS = 92

# The centre's shifts (local time): the early, late and night shift of a 24-hour centre.
SHIFTS = (
    ("early", "早班 08:00–16:00", 8, 16),
    ("late", "中班 16:00–24:00", 16, 24),
    ("night", "夜班 00:00–08:00", 0, 8),
)
UNANSWERED = "未接警"


def shift_of(at: datetime) -> str:
    hour = at.astimezone(LOCAL).hour
    return next(code for code, _label, start, end in SHIFTS if start <= hour < end)


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share:.1%}"


@dataclass
class Row:
    """The figures of one group of alarms."""

    label: str
    alarms: int
    accepted: int
    within_60: float | None
    within_180: float | None
    median_seconds: float | None
    p95_seconds: float | None
    false_alarms: int
    with_outcome: int
    false_alarm_share: float | None
    visits: int
    median_to_door_seconds: float | None

    @property
    def pct_60(self) -> str:
        return _pct(self.within_60)

    @property
    def pct_180(self) -> str:
        return _pct(self.within_180)

    @property
    def pct_false(self) -> str:
        return _pct(self.false_alarm_share)

    @property
    def meets_60(self) -> bool | None:
        return None if self.within_60 is None else self.within_60 >= TARGET_60

    @property
    def meets_180(self) -> bool | None:
        return None if self.within_180 is None else self.within_180 >= TARGET_180


@dataclass
class _Alarm:
    created_at: datetime
    answer: float | None  # seconds; None when nobody accepted it
    operator: str
    outcome: str
    door: float | None  # seconds to the first recorded arrival at the door


def nearest_rank(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(q * len(sorted_values)), 1) - 1]


def compute(label: str, alarms: list[_Alarm]) -> Row:
    n = len(alarms)
    answers = sorted(a.answer for a in alarms if a.answer is not None)
    outcomes = [a.outcome for a in alarms if a.outcome]
    false = sum(1 for o in outcomes if o == Outcome.FALSE_ALARM)
    doors = [a.door for a in alarms if a.door is not None]

    def share(limit: float) -> float | None:
        return sum(1 for s in answers if s <= limit) / n if n else None

    return Row(
        label=label,
        alarms=n,
        accepted=len(answers),
        within_60=share(60),
        within_180=share(180),
        median_seconds=statistics.median(answers) if answers else None,
        p95_seconds=nearest_rank(answers, 0.95),
        false_alarms=false,
        with_outcome=len(outcomes),
        false_alarm_share=false / len(outcomes) if outcomes else None,
        visits=len(doors),
        median_to_door_seconds=statistics.median(doors) if doors else None,
    )


@dataclass
class Figures:
    start: date
    end: date  # inclusive
    total: Row
    by_day: list[Row]
    by_shift: list[Row]
    by_operator: list[Row]


def _alarms(user: User, start: date, end: date) -> list[_Alarm]:
    since = datetime.combine(start, time.min, tzinfo=LOCAL)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL)
    rows = list(
        alarms_visible(user)
        .filter(technical=False, created_at__gte=since, created_at__lt=until)
        .values_list(
            "pk",
            "created_at",
            "accepted_at",
            "accepted_by__username",
            "accepted_by__display_name",
            "outcome",
        )
        .order_by("created_at", "pk")
    )
    arrivals: dict[int, datetime] = {}
    for alarm_id, arrived in (
        Visit.objects.filter(
            alarm_id__in=[r[0] for r in rows], status=VisitStatus.DONE, arrived_at__isnull=False
        )
        .order_by("arrived_at")
        .values_list("alarm_id", "arrived_at")
    ):
        if arrived is not None:
            arrivals.setdefault(alarm_id, arrived)
    out = []
    for pk, created, accepted, username, display, outcome in rows:
        arrived = arrivals.get(pk)
        out.append(
            _Alarm(
                created_at=created,
                answer=(accepted - created).total_seconds() if accepted else None,
                operator=(display or username) if username else UNANSWERED,
                outcome=outcome,
                door=(arrived - created).total_seconds() if arrived else None,
            )
        )
    return out


def alarm_figures(*, user: User, start: date, end: date) -> Figures:
    """The figures of the local days ``start`` to ``end`` (inclusive) in the user's scope."""
    alarms = _alarms(user, start, end)
    days = (end - start).days + 1
    by_day = [
        compute(
            (start + timedelta(days=i)).isoformat(),
            [a for a in alarms if a.created_at.astimezone(LOCAL).date() == start + timedelta(i)],
        )
        for i in range(days)
    ]
    by_shift = [
        compute(label, [a for a in alarms if shift_of(a.created_at) == code])
        for code, label, _s, _e in SHIFTS
    ]
    operators = sorted({a.operator for a in alarms}, key=lambda o: (o == UNANSWERED, o))
    by_operator = [compute(o, [a for a in alarms if a.operator == o]) for o in operators]
    return Figures(
        start=start,
        end=end,
        total=compute("合计", alarms),
        by_day=by_day,
        by_shift=by_shift,
        by_operator=by_operator,
    )


HEADER = (
    "分组",
    "报警数",
    "已接警",
    "60秒内接警比例",
    "180秒内接警比例",
    "接警时间中位数(秒)",
    "接警时间95分位(秒)",
    "误报数",
    "已记录处置结果",
    "误报比例",
    "上门次数",
    "上门到达时间中位数(秒)",
)


def _cells(r: Row) -> list:
    return [
        r.label,
        r.alarms,
        r.accepted,
        r.within_60,
        r.within_180,
        r.median_seconds,
        r.p95_seconds,
        r.false_alarms,
        r.with_outcome,
        r.false_alarm_share,
        r.visits,
        r.median_to_door_seconds,
    ]


def figures_xlsx(f: Figures) -> bytes:
    """The figures as a workbook: one sheet per grouping; shares are numbers formatted as
    percentages, labels pass the platform's formula guard."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for title, first, rows in (
        ("按日", "日期", [*f.by_day, f.total]),
        ("按班次", "班次", [*f.by_shift, f.total]),
        ("按坐席", "坐席", [*f.by_operator, f.total]),
    ):
        ws = wb.create_sheet(title)
        ws.append([f"接警指标 {f.start.isoformat()} 至 {f.end.isoformat()}"])
        ws.append(guard_row([first, *HEADER[1:]]))
        for r in rows:
            line = []
            for i, value in enumerate(_cells(r)):
                if i == 0:
                    line.append(guard_row([value])[0])
                elif i in (3, 4, 9) and value is not None:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "0.0%"
                    line.append(cell)
                else:
                    line.append(value)
            ws.append(line)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
