"""Runs of the fund checks: every check computed first on the lake (no database writes), then
the results applied in one transaction — new findings go to the paying district's queue, findings
that are gone withdraw those nobody has acted on yet (with the reason, naming a retracted batch)
and leave a note on the others, findings that come back are reinstated. A run that fails while
computing or applying leaves the recorded findings exactly as they were. Audited: one event per
check and run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from dajiuzhu.analytics.engine import Lake, engine_name, open_lake
from dajiuzhu.core.access import require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.exchange.models import Batch
from dajiuzhu.exchange.retractions import retracted_batches, withdrawal_reason
from dajiuzhu.supervision import parameters
from dajiuzhu.supervision.checks import CHECK_CODES, CHECKS
from dajiuzhu.supervision.checks.common import CheckContext
from dajiuzhu.supervision.models import CheckRun, Finding, RunStatus, Status, Trigger

log = logging.getLogger("dajiuzhu.supervision")
CENT = Decimal("0.01")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR = 2000
Key = tuple[int, str, str]  # (person_key, program_code, payment_id)


def check_month(month: str) -> str:
    """``YYYY-MM`` from 2000 up to the current month (a clear error otherwise)."""
    text = (month or "").strip()
    m = MONTH.match(text)
    today = timezone.localdate()
    if m is None:
        raise ServiceError("supervision.month", "月份格式不正确(应为YYYY-MM)", field="month")
    if not (FIRST_YEAR, 1) <= (int(m[1]), int(m[2])) <= (today.year, today.month):
        raise ServiceError(
            "supervision.month", f"核查月份应在{FIRST_YEAR}-01至{today:%Y-%m}之间", field="month"
        )
    return text


def resolve_checks(codes: Iterable[str] | None) -> list[str]:
    """Check codes in the order of SUPERVISION.md; unknown codes are a clear error."""
    wanted = {str(c).strip().upper() for c in codes or () if str(c).strip()}
    unknown = sorted(wanted - set(CHECKS))
    if unknown:
        raise ServiceError(
            "supervision.unknown_check",
            f"未知的核查项:{'、'.join(unknown)}(可选:{', '.join(CHECK_CODES)})",
            field="check",
        )
    return [c for c in CHECK_CODES if c in wanted] or list(CHECK_CODES)


@dataclass
class Found:
    check: str
    month: str
    person_key: int
    program_code: str
    payment_id: str
    amount: Decimal
    household_no: str
    division_code: str
    evidence: dict[str, str]

    @property
    def key(self) -> Key:
        return (self.person_key, self.program_code, self.payment_id)

    @property
    def fingerprint(self) -> str:
        text = repr(
            (str(self.amount), self.household_no, self.division_code, sorted(self.evidence.items()))
        )
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class RunReport:
    run: CheckRun
    checks: list[dict[str, Any]] = field(default_factory=list)


def compute(lake: Lake, *, month: str, codes: list[str]) -> dict[str, list[Found]]:
    """What each check finds for the month (routed to the payee's 户籍 household, division)."""
    ctx = CheckContext(lake=lake, month=month)
    rows = {code: lake.to_rows(CHECKS[code].findings(ctx)) for code in codes}
    wanted = {r["person_key"] for found in rows.values() for r in found}
    where: dict[int, tuple[str, str]] = {}
    if wanted:  # every finding is a payee's: their 户籍 homes are cached already
        homes = ctx.payee_homes().semi_join(lake.keys_table(wanted), "person_key")
        for r in lake.to_rows(homes):
            where[r["person_key"]] = (r["home_no"] or "", r["division_code"] or "")
    results: dict[str, list[Found]] = {}
    for code in codes:
        spec = CHECKS[code]
        seen: set[Key] = set()
        results[code] = []
        for r in rows[code]:
            home = where.get(r["person_key"], ("", ""))
            f = Found(
                check=code,
                month=month,
                person_key=int(r["person_key"]),
                program_code=r["program_code"] or "",
                payment_id=r["payment_id"] or "",
                amount=Decimal(r["amount"] or 0).quantize(CENT),
                household_no=home[0],
                division_code=home[1],
                evidence=spec.evidence(r),
            )
            if f.key not in seen:
                seen.add(f.key)
                results[code].append(f)
        results[code].sort(
            key=lambda f: (f.division_code, f.person_key, f.program_code, f.payment_id)
        )
    return results


def has_payments(lake: Lake, month: str) -> bool:
    return bool(lake.scalar(CheckContext(lake=lake, month=month).payments().count()))


def check_run(
    *,
    month: str,
    checks: Iterable[str] | None = None,
    engine: str | None = None,
    trigger: str = Trigger.CLI,
    actor: User | None = None,
    batch_id: int | None = None,
) -> RunReport:
    """Run ``checks`` (default: all seven) for ``month`` and record the findings.

    Raises ServiceError for a bad month, unknown checks, or a month with no payments and no
    recorded findings (a month whose payments were all retracted withdraws its findings)."""
    if actor is not None:
        require_role(actor, {Role.ADMIN, Role.SUPERVISOR})
    month = check_month(month)
    codes = resolve_checks(checks)
    name = engine_name(engine)
    run = CheckRun.objects.create(
        month=month,
        engine=name,
        checks=codes,
        trigger=trigger,
        batch_id=batch_id,
        started_at=timezone.now(),
    )
    try:
        with open_lake(name) as lake:
            any_payment = has_payments(lake, month)
            existing = {
                code: {
                    (f.person_key, f.program_code, f.payment_id): f
                    for f in Finding.objects.filter(check_code=code, month=month)
                }
                for code in codes
            }
            if not any_payment and not any(existing.values()):
                raise ServiceError(
                    "supervision.no_payments",
                    f"{month}没有救助金发放记录:数据集 assistance_payments(救助金发放)中"
                    f"没有发放所属月份为{month}的记录,无可核查的内容",
                    field="month",
                )
            results = compute(lake, month=month, codes=codes)
        summaries = _apply(run, results, existing, actor)
    except BaseException as exc:  # record the failed run whatever happened, then re-raise
        CheckRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=getattr(exc, "message", type(exc).__name__)[:2000],
        )
        raise
    CheckRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), summary=summaries
    )
    run.refresh_from_db()
    log.info("supervision.check.done", extra={"run": run.pk, "month": month, "engine": name})
    return RunReport(run=run, checks=summaries)


def due_date_for(day: date) -> date:
    return add_working_days(day, parameters.rectification_days(day))


ROUTE_FIELDS = ("amount", "household_no", "division_code", "district_code", "evidence")


def _values(f: Found) -> dict[str, Any]:
    return {
        "amount": f.amount,
        "household_no": f.household_no,
        "division_code": f.division_code,
        "district_code": f.division_code[:6],
        "evidence": f.evidence,
        "fingerprint": f.fingerprint,
    }


@transaction.atomic
def _apply(
    run: CheckRun,
    results: dict[str, list[Found]],
    existing: dict[str, dict[Key, Finding]],
    actor: User | None,
) -> list[dict[str, Any]]:
    now = timezone.now()
    due = due_date_for(timezone.localdate(now))
    summaries = []
    for code, found_list in results.items():
        spec = CHECKS[code]
        known = existing[code]
        found = {f.key: f for f in found_list}
        retracted = retracted_batches(spec.datasets)
        label = f"重新核查({timezone.localdate(now):%Y-%m-%d})时已不满足“{spec.label}”"
        counts = dict.fromkeys(
            ("created", "updated", "unchanged", "withdrawn", "reinstated", "basis_gone"), 0
        )
        withdrawn_ids: list[int] = []
        for key, old in known.items():
            f = found.get(key)
            if f is None:
                if old.status == Status.WITHDRAWN:
                    continue
                why = withdrawal_reason(f"{label}:{spec.no_longer}", old.found_at, retracted)
                if old.status == Status.OPEN:
                    done = Finding.objects.filter(pk=old.pk, status=Status.OPEN).update(
                        status=Status.WITHDRAWN,
                        withdrawn_at=now,
                        withdrawn_reason=why,
                        updated_at=now,
                    )
                    counts["withdrawn"] += done
                    if done:
                        withdrawn_ids.append(old.pk)
                elif not old.basis_note:
                    counts["basis_gone"] += Finding.objects.filter(pk=old.pk).update(
                        basis_note=why, updated_at=now
                    )
                continue
            if old.status == Status.WITHDRAWN:
                counts["reinstated"] += Finding.objects.filter(
                    pk=old.pk, status=Status.WITHDRAWN
                ).update(
                    status=Status.OPEN,
                    found_at=now,
                    due_date=due,
                    withdrawn_at=None,
                    withdrawn_reason="",
                    escalated=False,
                    escalated_at=None,
                    updated_at=now,
                    **_values(f),
                )
            elif old.status == Status.OPEN and old.fingerprint != f.fingerprint:
                Finding.objects.filter(pk=old.pk).update(updated_at=now, **_values(f))
                counts["updated"] += 1
            else:
                if old.basis_note:
                    Finding.objects.filter(pk=old.pk).update(basis_note="", updated_at=now)
                counts["unchanged"] += 1
        new = [
            Finding(
                check_code=code,
                month=f.month,
                person_key=f.person_key,
                program_code=f.program_code,
                payment_id=f.payment_id,
                status=Status.OPEN,
                found_at=now,
                due_date=due,
                first_run=run,
                **_values(f),
            )
            for key, f in found.items()
            if key not in known
        ]
        Finding.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        counts["created"] = len(new)
        summary = {
            "check": code,
            "month": run.month,
            "engine": run.engine,
            "found": len(found),
            **counts,
            "amount": f"{sum((f.amount for f in found_list), Decimal(0)):.2f}",
        }
        summaries.append(summary)
        audit_record(
            actor=actor,
            action="supervision.check",
            object_type="check_run",
            object_id=run.pk,
            purpose=Purpose.SUPERVISION,
            label=None if actor else f"supervision:{run.trigger}",
            detail={**summary, "withdrawn_ids": withdrawn_ids[:1000]},
        )
    return summaries


def check_for_batch(*, batch_id: int) -> list[RunReport]:
    """Re-run the checks for the months a just-published (or retracted) payments batch covers."""
    from dajiuzhu.exchange import lake as lake_files
    from dajiuzhu.exchange.validation import q

    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.dataset != "assistance_payments":
        return []
    files = lake_files.batch_files(batch.dataset, batch_id)
    if not files:
        return []
    con = lake_files.connect(threads=1, memory_limit="256MB")
    try:
        months = sorted(
            r[0]
            for r in con.execute(
                # the batch's own files (paths the lake wrote), a quoted column name
                f"SELECT DISTINCT {q('month')} FROM {lake_files.files_sql(files)}"  # noqa: S608
            ).fetchall()
            if r[0]
        )
    finally:
        con.close()
    reports = []
    for month in months:
        try:
            reports.append(
                check_run(month=month, trigger=Trigger.PUBLISH, batch_id=batch_id, engine="duckdb")
            )
        except ServiceError as exc:  # a month outside the range, say: logged, the rest still run
            log.warning("supervision.check.skipped", extra={"month": month, "reason": exc.message})
    return reports


def recheck_recent(*, today: date | None = None) -> list[RunReport]:
    """The nightly re-run: this month and the last, and every month with an open finding, so
    that a finding whose basis changed in another dataset (a recipients record sent late, a
    death record corrected) is withdrawn — or a new one found — without waiting for the next
    payments batch. A month with nothing to check is skipped."""
    today = today or timezone.localdate()
    last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    months = {f"{today:%Y-%m}", f"{last:%Y-%m}"}
    months |= set(
        Finding.objects.filter(status=Status.OPEN).values_list("month", flat=True).distinct()
    )
    reports = []
    for month in sorted(months):
        try:
            reports.append(check_run(month=month, trigger=Trigger.NIGHTLY))
        except ServiceError as exc:
            log.info("supervision.check.skipped", extra={"month": month, "reason": exc.message})
    return reports
