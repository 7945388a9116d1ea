"""Scans: every rule computed first (no database writes), then the results applied in one
transaction — new findings become warnings, findings that are gone withdraw the warnings nobody
has acted on yet (with the reason) and leave a note on the others, findings that come back
reinstate withdrawn warnings. A scan that fails while computing or applying leaves the recorded
warnings exactly as they were. Audited: one event per rule and scan (with the ids it withdrew
or reinstated). Also the real-time path (a published or retracted event batch re-runs its rule
for the batch's persons) and the rewrite of the lake summaries the scan reads.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from dajiuzhu.analytics import summaries as lake_summaries
from dajiuzhu.analytics.engine import engine_name, open_lake
from dajiuzhu.core import statements
from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Division, DivisionLevel, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.exchange import lake as lake_files
from dajiuzhu.exchange.models import Batch
from dajiuzhu.exchange.retractions import retracted_batches, withdrawal_reason
from dajiuzhu.exchange.validation import q
from dajiuzhu.warnings import scan
from dajiuzhu.warnings.models import (
    ACTED_STATUSES,
    ScanRun,
    ScanStatus,
    Status,
    Trigger,
    Warning,
)
from dajiuzhu.warnings.rules import READ_SUMMARIES, REALTIME, RULES

log = logging.getLogger("dajiuzhu.warnings")

DEFAULT_DEADLINE_DAYS = 10
AUDIT_ID_LIMIT = 1000


def deadline_days() -> int:
    """Working days a town has to investigate a warning: ``settings.WARNING_DEADLINE_DAYS``
    or ``DAJIUZHU_WARNING_DEADLINE_DAYS``, default 10."""
    value = getattr(settings, "WARNING_DEADLINE_DAYS", None) or os.environ.get(
        "DAJIUZHU_WARNING_DEADLINE_DAYS"
    )
    try:
        days = int(value) if value else DEFAULT_DEADLINE_DAYS
    except ValueError:
        days = DEFAULT_DEADLINE_DAYS
    return max(1, days)


def due_date_for(pushed: datetime) -> date:
    return add_working_days(timezone.localdate(pushed), deadline_days())


def town_codes_known() -> frozenset[str]:
    return frozenset(
        Division.objects.filter(level=DivisionLevel.TOWN).values_list("code", flat=True)
    )


# --------------------------------------------------------------------------- scans


@dataclass
class ScanReport:
    run: ScanRun
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refused(self) -> list[dict[str, Any]]:
        return [r for r in self.rules if r["status"] == "refused"]


ROUTE_FIELDS = (
    "event_date",
    "amount",
    "household_no",
    "division_code",
    "town_id",
    "evidence",
    "fingerprint",
)


@dataclass
class _Known:
    """A recorded warning as a scan compares it (read once, plain values only)."""

    pk: int
    status: str
    basis_note: str
    fingerprint: str


def _existing(code: str, year: int, persons: set[int] | None) -> dict[scan.Key, _Known]:
    rows = Warning.objects.filter(rule=code, year=year).values_list(
        "pk", "person_key", "event_ref", "status", "basis_note", "fingerprint"
    )
    found = {}
    for pk, key, ref, status, note, fingerprint in rows.iterator(chunk_size=5000):
        if persons is not None and key not in persons:
            continue
        found[(key, ref)] = _Known(pk, status, note, fingerprint)
    return found


def scan_run(
    *,
    year: int,
    rules: Iterable[str] | None = None,
    engine: str | None = None,
    persons: Iterable[int] | None = None,
    trigger: str = Trigger.CLI,
    actor: User | None = None,
    batch_id: int | None = None,
) -> ScanReport:
    """Scan ``year`` with ``rules`` (default: all six) and record the warnings.

    ``persons`` restricts the scan to those person keys (the real-time path): only their
    warnings are compared and changed. Raises ServiceError for unknown rules, a year out of
    range, or a year with no data and no recorded warnings; a rule that cannot run (MED_FALL
    without the previous year's disposable income) is reported ``refused`` and left as is.
    """
    if actor is not None:
        require_role(actor, {Role.ADMIN})
    codes = scan.resolve_rules(rules)
    scan.check_year(year)
    name = engine_name(engine)
    keys = None if persons is None else {int(k) for k in persons}
    run = ScanRun.objects.create(
        year=year,
        engine=name,
        rules=codes,
        trigger=trigger,
        batch_id=batch_id,
        started_at=timezone.now(),
    )
    started = time.perf_counter()
    try:
        with open_lake(name) as lake:
            params = scan.parameters(lake, year, codes)
            existing: dict[str, dict[scan.Key, _Known]] = {}

            def read_existing() -> None:
                existing.update({code: _existing(code, year, keys) for code in codes})

            results = scan.compute(
                lake, year=year, codes=codes, params=params, persons=keys, meanwhile=read_existing
            )
            nothing = keys is None and not any(r.has_data for r in results)
            if nothing and not any(existing.values()):
                datasets = "、".join(dict.fromkeys(RULES[c].driver for c in codes))
                raise ServiceError(
                    "scan.no_data",
                    f"{year}年没有可扫描的数据:{datasets}中没有{year}年的记录",
                    field="year",
                )
            reasons: dict[str, dict[scan.Key, str]] = {}
            for result in results:
                if result.refused:
                    continue
                found = {f.key for f in result.findings}
                missing = [
                    k
                    for k, w in existing[result.rule].items()
                    if k not in found and w.status != Status.WITHDRAWN
                ]
                reasons[result.rule] = scan.explain_missing(
                    lake, code=result.rule, year=year, params=params, missing=missing
                )
        compute_seconds = time.perf_counter() - started
        summaries = _apply(run, results, existing, reasons, actor, keys)
    except BaseException as exc:  # record the failed run whatever happened, then re-raise
        ScanRun.objects.filter(pk=run.pk).update(
            status=ScanStatus.FAILED,
            finished_at=timezone.now(),
            seconds=time.perf_counter() - started,
            error=getattr(exc, "message", type(exc).__name__)[:2000],
        )
        raise
    ScanRun.objects.filter(pk=run.pk).update(
        status=ScanStatus.DONE,
        finished_at=timezone.now(),
        compute_seconds=compute_seconds,
        seconds=time.perf_counter() - started,
        summary=summaries,
    )
    run.refresh_from_db()
    log.info(
        "warnings.scan.done",
        extra={"scan": run.pk, "year": year, "engine": name, "trigger": trigger},
    )
    return ScanReport(run=run, rules=summaries)


@transaction.atomic
def _apply(
    run: ScanRun,
    results: list[scan.RuleResult],
    existing: dict[str, dict[scan.Key, _Known]],
    reasons: dict[str, dict[scan.Key, str]],
    actor: User | None,
    persons: set[int] | None,
) -> list[dict[str, Any]]:
    now = timezone.now()
    due = due_date_for(now)
    towns = town_codes_known()
    summaries = []
    for result in results:
        summary: dict[str, Any] = {
            "rule": result.rule,
            "year": run.year,
            "engine": run.engine,
            "status": result.status,
        }
        if result.refused:
            summary["message"] = result.message
            summaries.append(summary)
            continue
        counts = _apply_rule(
            run, result, existing[result.rule], reasons.get(result.rule, {}), now, due, towns
        )
        summary.update(counts.public())
        summary["has_data"] = result.has_data
        summary["seconds"] = round(result.seconds, 3)
        if persons is not None:
            summary["persons"] = len(persons)
        summaries.append(summary)
        audit_record(
            actor=actor,
            action="warning.scan",
            object_type="scan",
            object_id=run.pk,
            purpose=Purpose.WARNING,
            label=None if actor else f"warnings:{run.trigger}",
            detail={
                "rule": result.rule,
                "year": run.year,
                "engine": run.engine,
                **counts.public(),
                "withdrawn_ids": counts.withdrawn_ids[:AUDIT_ID_LIMIT],
                "reinstated_ids": counts.reinstated_ids[:AUDIT_ID_LIMIT],
            },
        )
    return summaries


@dataclass
class _Counts:
    found: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    reinstated: int = 0
    basis_gone: int = 0  # acted on: kept, with a note
    withdrawn_ids: list[int] = field(default_factory=list)
    reinstated_ids: list[int] = field(default_factory=list)

    def public(self) -> dict[str, int]:
        return {
            "found": self.found,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "reinstated": self.reinstated,
            "basis_gone": self.basis_gone,
        }


def _apply_rule(
    run: ScanRun,
    result: scan.RuleResult,
    existing: dict[scan.Key, _Known],
    reasons: dict[scan.Key, str],
    now: datetime,
    due: date,
    towns: frozenset[str],
) -> _Counts:
    """Compare one rule's findings with its recorded warnings and write the differences.
    Status changes are conditional updates, so that an assignment made meanwhile wins."""
    spec = RULES[result.rule]
    counts = _Counts(found=len(result.findings))
    found = {f.key: f for f in result.findings}
    retracted = retracted_batches(spec.datasets)
    label = f"重新扫描({timezone.localdate(now):%Y-%m-%d})时已不满足“{spec.label}”规则"

    def values(f: scan.Finding) -> dict[str, Any]:
        town = f.division_code[:9]
        return {
            "event_date": f.event_date,
            "amount": f.amount,
            "household_no": f.household_no,
            "division_code": f.division_code,
            "town_id": town if town in towns else None,
            "evidence": f.evidence,
            "fingerprint": f.fingerprint,
        }

    gone = [w.pk for k, w in existing.items() if k not in found and w.status != Status.WITHDRAWN]
    pushed_at = dict(Warning.objects.filter(pk__in=gone).values_list("pk", "pushed_at"))
    changed: list[Warning] = []
    for key, w in existing.items():
        f = found.get(key)
        if f is None:
            if w.status == Status.WITHDRAWN:
                continue
            why = withdrawal_reason(
                f"{label}:{reasons.get(key, '依据数据已变化')}", pushed_at[w.pk], retracted
            )
            if w.status == Status.PUSHED:
                done = Warning.objects.filter(pk=w.pk, status=Status.PUSHED).update(
                    status=Status.WITHDRAWN, withdrawn_at=now, withdrawn_reason=why, updated_at=now
                )
                if done:
                    counts.withdrawn += 1
                    counts.withdrawn_ids.append(w.pk)
            elif not w.basis_note:
                counts.basis_gone += Warning.objects.filter(
                    pk=w.pk, status__in=ACTED_STATUSES, basis_note=""
                ).update(basis_note=why, updated_at=now)
            continue
        if w.status == Status.WITHDRAWN:
            done = Warning.objects.filter(pk=w.pk, status=Status.WITHDRAWN).update(
                status=Status.PUSHED,
                pushed_at=now,
                due_date=due,
                withdrawn_at=None,
                withdrawn_reason="",
                escalated=False,
                escalated_at=None,
                updated_at=now,
                **values(f),
            )
            if done:
                counts.reinstated += 1
                counts.reinstated_ids.append(w.pk)
        elif w.status == Status.PUSHED and f.fingerprint != w.fingerprint:
            changed.append(Warning(pk=w.pk, updated_at=now, **values(f)))
        else:
            if w.status in ACTED_STATUSES and w.basis_note:
                Warning.objects.filter(pk=w.pk).update(basis_note="", updated_at=now)
            counts.unchanged += 1
    if changed:
        Warning.objects.bulk_update(changed, [*ROUTE_FIELDS, "updated_at"], batch_size=1000)
        counts.updated = len(changed)
    counts.created = _insert(
        [
            {**values(f), "year": f.year, "person_key": f.person_key, "event_ref": f.event_ref}
            for key, f in found.items()
            if key not in existing
        ],
        rule=result.rule,
        run=run,
        now=now,
        due=due,
    )
    return counts


def _insert(
    rows: list[dict[str, Any]], *, rule: str, run: ScanRun, now: datetime, due: date
) -> int:
    """Insert new warnings in one prepared statement (``executemany``): a first scan of the
    city writes some 15,000 rows, which ``bulk_create`` on SQLite splits into hundreds of
    statements of 30 rows. Values are adapted by the database backend's own adapters; a row
    a concurrent scan inserted a moment ago is kept (ON CONFLICT DO NOTHING)."""
    if not rows:
        return 0
    conn = connections[router.db_for_write(Warning)]
    ops = conn.ops
    fields = {f.attname: f for f in Warning._meta.concrete_fields if not f.primary_key}
    constant = {
        "rule": rule,
        "status": Status.PUSHED,
        "pushed_at": now,
        "due_date": due,
        "first_scan_id": run.pk,
        "created_at": now,
        "updated_at": now,
    }
    varying = ("year", "person_key", "event_ref", *ROUTE_FIELDS)
    defaults = {
        name: f.get_default()
        for name, f in fields.items()
        if name not in constant and name not in varying
    }
    fixed = [
        fields[name].get_db_prep_save(value, conn)
        for name, value in {**constant, **defaults}.items()
    ]
    names = [fields[n].name for n in (*constant, *defaults, *varying)]
    params = [
        [
            *fixed,
            row["year"],
            row["person_key"],
            row["event_ref"],
            ops.adapt_datefield_value(row["event_date"]),
            ops.adapt_decimalfield_value(row["amount"], 14, 2),
            row["household_no"],
            row["division_code"],
            row["town_id"],
            ops.adapt_json_value(row["evidence"], None),
            row["fingerprint"],
        ]
        for row in rows
    ]
    statements.insert_many(Warning, names, params, ignore_conflicts=True)
    return len(rows)


@dataclass
class RealtimeReport:
    batch_id: int
    dataset: str
    rule: str | None
    reports: list[ScanReport] = field(default_factory=list)


def summaries_refresh(*, batch_id: int | None = None) -> list[str]:
    """Rewrite the lake summaries the scan reads (all of them, or those of the batch's
    dataset) when they no longer match the published batches; the names written. Until then
    a scan computes the same rows from the current view, only slower."""
    if batch_id is None:
        return lake_summaries.refresh_all(READ_SUMMARIES)
    batch = Batch.objects.filter(pk=batch_id).only("dataset").first()
    if batch is None:
        return []
    return lake_summaries.refresh_for(batch.dataset, READ_SUMMARIES)


def scan_for_batch(*, batch_id: int) -> RealtimeReport | None:
    """Re-run the event rule fed by a just-published (or retracted) batch for the batch's
    persons and years (this year and last), so that its warnings appear (or are withdrawn)
    within the minute. Older years are left to an explicit ``dajiuzhu scan --year``."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return None
    code = REALTIME.get(batch.dataset)
    report = RealtimeReport(batch_id=batch_id, dataset=batch.dataset, rule=code)
    files = lake_files.batch_files(batch.dataset, batch_id)
    if code is None or not files:
        return report
    spec = RULES[code]
    con = lake_files.connect(threads=1, memory_limit="256MB")
    try:
        rows = con.execute(
            f"SELECT DISTINCT year({q(spec.driver_date)}) AS y, person_key "
            f"FROM {lake_files.files_sql(files)} WHERE {q(spec.driver_date)} IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    years: dict[int, set[int]] = {}
    for y, key in rows:
        years.setdefault(int(y), set()).add(int(key))
    # Only events of this year and last year: a department re-sending its history (an initial
    # load of the disability register, say) must not push warnings about long-past years.
    this_year = timezone.localdate().year
    for y in sorted(years):
        if not this_year - 1 <= y <= this_year:
            continue
        report.reports.append(
            scan_run(
                year=y,
                rules=[code],
                persons=years[y],
                trigger=Trigger.REALTIME,
                batch_id=batch_id,
                engine="duckdb",
            )
        )
    return report
