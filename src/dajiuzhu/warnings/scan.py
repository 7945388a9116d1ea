"""Evaluate the rules on a lake: what each rule finds for a year, and why earlier findings are
no longer found. Nothing here writes to the database (``services.scan_run`` applies the
results in one transaction after everything has been computed).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from typing import Any

from django.apps import apps
from django.utils import timezone

from dajiuzhu.analytics.engine import Lake
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.yamlfiles import safe_load
from dajiuzhu.warnings.rules import RULE_CODES, RULES, RuleSpec
from dajiuzhu.warnings.rules.common import ROUTING_SUMMARY, RuleContext, spend_expr

log = logging.getLogger("dajiuzhu.warnings")
CENT = Decimal("0.01")
FIRST_YEAR = 2000

Key = tuple[int, str]  # (person_key, event_ref)


@dataclass
class Finding:
    rule: str
    year: int
    person_key: int
    event_ref: str
    event_date: date | None
    amount: Decimal | None
    household_no: str
    division_code: str
    evidence: dict[str, Any]

    @property
    def key(self) -> Key:
        return (self.person_key, self.event_ref)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything a re-scan may find changed (the evidence is built in a fixed
        key order from plain values, so its repr is stable from scan to scan)."""
        text = repr(
            (
                self.event_date.isoformat() if self.event_date else None,
                str(self.amount) if self.amount is not None else None,
                self.household_no,
                self.division_code,
                sorted(self.evidence.items()),
            )
        )
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class RuleResult:
    rule: str
    status: str = "ok"  # ok | refused
    message: str = ""
    has_data: bool = True
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def refused(self) -> bool:
        return self.status == "refused"


@dataclass
class Parameters:
    med_return_threshold: Decimal | None
    disposable_income: Decimal | None  # of year - 1


def resolve_rules(codes: Iterable[str] | None) -> list[str]:
    """Rule codes in the order of RULES.md; unknown codes are a clear error."""
    if not codes:
        return list(RULE_CODES)
    wanted = {str(c).strip().upper() for c in codes if str(c).strip()}
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise ServiceError(
            "scan.unknown_rule",
            f"未知的预警规则:{'、'.join(unknown)}(可选:{', '.join(RULE_CODES)})",
            field="rule",
        )
    return [c for c in RULE_CODES if c in wanted] or list(RULE_CODES)


def check_year(year: int) -> int:
    this_year = timezone.localdate().year
    if not isinstance(year, int) or not FIRST_YEAR <= year <= this_year:
        raise ServiceError(
            "scan.year", f"扫描年度应在{FIRST_YEAR}年至{this_year}年之间", field="year"
        )
    return year


PARAMETER = "warnings.med_return_threshold"


@cache
def _threshold_file() -> dict[date, Decimal]:
    """The parameter's dated values as the policy library ships them (its YAML file)."""
    path = resources.files("dajiuzhu.policy").joinpath(
        "parameters", *PARAMETER.split(".")[:-1], PARAMETER.split(".")[-1] + ".yaml"
    )
    values = safe_load(path.read_text("utf-8"))["values"]
    return {
        (d if isinstance(d, date) else date.fromisoformat(str(d))): Decimal(str(v["value"]))
        for d, v in values.items()
        if v is not None and v.get("value") is not None
    }


def _threshold_overrides() -> dict[date, Decimal]:
    """Dated values administrators added in the policy library (when it stores any)."""
    try:
        model = apps.get_model("policy", "ParameterOverride")
    except LookupError:
        return {}
    return {
        start: Decimal(value)
        for start, value in model.objects.filter(name=PARAMETER).values_list("start", "value")
    }


def med_return_threshold(year: int) -> Decimal | None:
    """The policy parameter ``warnings.med_return_threshold`` in force on 31 December of the
    year — the policy library's dated values and administrators' additions — or None before
    its first value. (Read directly: loading the whole OpenFisca system for one figure would
    cost a scan more than half a second.)"""
    values = {**_threshold_file(), **_threshold_overrides()}
    day = date(year, 12, 31)
    applicable = [start for start in values if start <= day]
    if not applicable:
        return None
    return values[max(applicable)].quantize(CENT)


def disposable_income(lake: Lake, year: int) -> Decimal | None:
    """The per-capita disposable income of ``year`` from the lake (None: not loaded)."""
    table = lake.table("disposable_income")
    rows = lake.to_rows(table.filter(table.year == year).select("amount"))
    if not rows or rows[0]["amount"] is None:
        return None
    return Decimal(rows[0]["amount"]).quantize(CENT)


def _previous_income(lake: Lake, year: int) -> Decimal | None:
    return disposable_income(lake, year - 1)


# What each scan parameter a rule may need is, how it is read, and the refusal without it.
PARAMETERS: dict[str, tuple[Callable[[Lake, int], Decimal | None], str]] = {
    "med_return_threshold": (
        lambda _lake, year: med_return_threshold(year),
        "没有适用于{year}年的因病返贫阈值参数(warnings.med_return_threshold),医疗类预警不能运行",
    ),
    "disposable_income": (
        _previous_income,
        "未导入{prior_year}年居民人均可支配收入(数据集 disposable_income),"
        "{rule}规则不能运行(不会按零处理);请统计局报送后重新扫描",
    ),
}


def parameters(lake: Lake, year: int, codes: list[str]) -> Parameters:
    """The parameters the rules ``codes`` need (those no rule needs stay None)."""
    needed = {name for c in codes for name in RULES[c].parameters}
    values = {
        name: load(lake, year) if name in needed else None for name, (load, _) in PARAMETERS.items()
    }
    return Parameters(**values)


def refusal(code: str, year: int, params: Parameters) -> str:
    """Why a rule cannot run for the year ("" when it can): a parameter it needs is missing."""
    spec = RULES[code]
    for name in spec.parameters:
        if getattr(params, name) is None:
            message = PARAMETERS[name][1]
            return message.format(year=year, prior_year=year - 1, rule=spec.label)
    return ""


def has_data(lake: Lake, spec: RuleSpec, year: int) -> bool:
    """Whether the rule's driving dataset has any row dated in the year."""
    table = lake.table(spec.driver)
    column = table[spec.driver_date]
    dated = table.filter(column.between(date(year, 1, 1), date(year, 12, 31)))
    return bool(lake.scalar(dated.select("person_key").limit(1).count()))


def _finding(spec: RuleSpec, year: int, row: dict[str, Any], home: tuple[str, str]) -> Finding:
    amount = row["amount"]
    if amount is not None and (not isinstance(amount, Decimal) or amount.as_tuple().exponent != -2):
        amount = Decimal(amount).quantize(CENT)
    return Finding(
        rule=spec.code,
        year=year,
        person_key=row["person_key"],
        event_ref=row["event_ref"] or "",
        event_date=row["event_date"],
        amount=amount,
        household_no=home[0],
        division_code=home[1],
        evidence=spec.evidence(row),
    )


def compute(
    lake: Lake,
    *,
    year: int,
    codes: list[str],
    params: Parameters,
    persons: Iterable[int] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[RuleResult]:
    """Run the rules on the lake. ``persons`` restricts every rule to those person keys (the
    real-time path); results come back in rule order. ``meanwhile`` is the caller's own work,
    done while the claims are being summed (reading the recorded warnings, say).

    Each rule's result is fetched as it stands; the 户籍 household and division of the
    persons found are then looked up. A rule that finds
    nothing is asked whether its driving dataset has any row in the year at all (so that a
    year with no data can be told from a year with no warnings)."""
    keys = lake.keys_table(persons) if persons is not None else None
    ctx = RuleContext(
        lake=lake,
        year=year,
        med_return_threshold=params.med_return_threshold or Decimal(0),
        disposable_income=params.disposable_income,
        persons=keys,
    )
    results = {code: RuleResult(rule=code) for code in codes}
    rows: dict[str, list[dict[str, Any]]] = {}
    data: dict[str, bool] = {}

    def check_data(spec: RuleSpec, result: RuleResult) -> None:
        if persons is None:
            if spec.driver not in data:
                data[spec.driver] = has_data(lake, spec, year)
            result.has_data = data[spec.driver]

    def run(code: str) -> None:
        spec = RULES[code]
        result = results[code]
        started = time.perf_counter()
        why = refusal(code, year, params)
        if why:
            result.status, result.message = "refused", why
            check_data(spec, result)
            return
        rows[code] = lake.to_rows(spec.findings(ctx))
        if not rows[code]:
            check_data(spec, result)
        result.seconds = time.perf_counter() - started

    def finish(done: list[str]) -> None:
        """Route the rules' rows to the 户籍 household and division of their persons (one
        look-up for all of them) and turn them into findings."""
        wanted = {r["person_key"] for code in done for r in rows.get(code, [])}
        homes = lake.to_arrow(home_rows(lake, wanted))
        columns = homes.select(["person_key", "household_no", "division_code"]).to_pydict()
        where = {
            key: (household or "", division or "")
            for key, household, division in zip(*columns.values(), strict=True)
        }
        for code in done:
            spec = RULES[code]
            result = results[code]
            seen: set[Key] = set()
            for row in rows.get(code, []):
                finding = _finding(spec, year, row, where.get(row["person_key"], ("", "")))
                if finding.key in seen:  # defensive: one warning per natural identity
                    log.warning("warnings.scan.duplicate", extra={"rule": code})
                    continue
                seen.add(finding.key)
                finding.fingerprint  # noqa: B018 (computed now, while the claims are summed)
                result.findings.append(finding)

    # The year's claims per person (the longest query, for both medical rules) are summed on a
    # second cursor from the start; the event rules — 主要劳动力去世 the longest of them — run
    # and their findings are made meanwhile, then the medical rules take the sums.
    medical = [c for c in codes if RULES[c].medical]
    if persons is None and any(not refusal(c, year, params) for c in medical):
        ctx.prefetch("spend", lambda: spend_expr(ctx))
    events = [c for c in codes if c not in medical]
    for code in events:
        run(code)
    finish(events)
    if meanwhile is not None:
        meanwhile()
    for code in medical:  # waits for the claims, if they are still being summed
        run(code)
    finish(medical)
    return [results[code] for code in codes]


def home_rows(lake: Lake, person_keys: set[int]):
    """The 户籍 details of some persons (person_key, birth_date, household_no, division_code,
    status): from the lake's ``hukou_by_person`` summary, or one pass over the 户籍 view."""
    return lake.summary(ROUTING_SUMMARY, lake.keys_table(person_keys))


def explain_missing(
    lake: Lake, *, code: str, year: int, params: Parameters, missing: list[Key]
) -> dict[Key, str]:
    """For earlier findings the rule no longer finds: what the lake says now."""
    if not missing:
        return {}
    spec = RULES[code]
    keys = lake.keys_table(k for k, _ in missing)
    no_longer = spec.no_longer.format(year=year)
    if spec.limit is not None:  # the recomputed total against the rule's limit
        claims = lake.table("medical_claims").semi_join(keys, "person_key")
        claims = claims.filter(claims.settlement_date.between(date(year, 1, 1), date(year, 12, 31)))
        totals = {
            r["person_key"]: Decimal(r["total"] or 0)
            for r in lake.to_rows(
                claims.group_by("person_key").aggregate(total=claims.out_of_pocket.sum())
            )
        }
        limit = getattr(params, spec.limit)
        reasons = {}
        for key in missing:
            total = totals.get(key[0], Decimal(0)).quantize(CENT)  # a real total: no claim, 0
            if limit is not None and total <= limit:
                reasons[key] = (
                    f"重新计算的{year}年个人自负合计为{total:,.2f}元,未超过{limit:,.2f}元"
                )
            else:
                reasons[key] = no_longer
        return reasons
    table = lake.table(spec.driver).semi_join(keys, "person_key")
    columns = ["person_key"] + ([spec.event_column] if spec.event_column else [])
    present = {
        (r["person_key"], str(r[spec.event_column]) if spec.event_column else "")
        for r in lake.to_rows(table.select(*columns))
    }
    gone = "事件记录已不在当前数据中(已撤回或更正)"
    return {key: (no_longer if key in present else gone) for key in missing}
