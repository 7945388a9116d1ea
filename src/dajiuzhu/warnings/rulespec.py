"""What a warning rule declares about itself: one :class:`RuleSpec` per module of
``warnings/rules/``. Everything else — the scan, the real-time hooks, the summaries the worker
keeps, the queue, the warning's page, the export — reads these declarations instead of
knowing the rules by name.

This module and the rule modules import nothing heavy at module level (no Ibis, no DuckDB, no
Django models): Django's start-up reads the registry (the model's choices, the publish hooks),
and a command that never evaluates a rule should not pay for the analytics stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.analytics.engine import Lake
    from dajiuzhu.warnings.models import Warning
    from dajiuzhu.warnings.rules.common import RuleContext


@dataclass(frozen=True)
class Fact:
    """One line of the warning page's 预警依据: an evidence key, its label (``{year}`` and
    ``{prior_year}`` are filled in from the warning's year), and how its value is shown — the
    Chinese names of coded values, or a function of the stored value."""

    key: str
    label: str
    values: Mapping[str, str] = field(default_factory=dict)
    show: Callable[[Any], str] | None = None

    def text(self, value: Any) -> str:
        if self.show is not None:
            return self.show(value)
        if value is None or value == "":
            return "—"
        return str(self.values.get(value, value))


@dataclass
class LakeEvidence:
    """What the lake says now about one warning, for its page: the medical rules' out-of-pocket
    by month and claim type, or the event rows (dataset columns open for the warning purpose,
    without ``person_key``)."""

    dataset: str  # whose contract titles the event columns
    monthly: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


NO_LONGER_EVENT = "事件记录已更正,已不符合规则条件"


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    code: str
    label: str

    # -- the data
    # Datasets the rule reads (a retraction of any of them is named when a warning goes away).
    datasets: tuple[str, ...]
    # The dataset whose rows dated in the year mean the rule has something to scan, and its date.
    driver: str
    driver_date: str
    # The driver's column that becomes ``event_ref`` (None: one warning per person and year).
    event_column: str | None = None
    # The dataset whose publication (or retraction) re-runs the rule for the batch's persons.
    realtime: str | None = None
    # The lake summaries the rule reads (``analytics.summary_specs``): the worker keeps them.
    summaries: tuple[str, ...] = ()
    # Scan parameters the rule needs (``scan.Parameters`` fields); without one it is refused.
    parameters: tuple[str, ...] = ()
    # Over the year's out-of-pocket per person (the claims sum the medical rules share): the
    # sum starts first, these rules run last; ``amount`` is that out-of-pocket.
    medical: bool = False

    # -- the computation
    # The Ibis expression: ``person_key, event_ref, event_date, amount`` then ``ev_*`` columns.
    findings: Callable[[RuleContext], ir.Table]
    # A result row → the warning's evidence summary (figures and codes, never an ID number).
    evidence: Callable[[dict[str, Any]], dict[str, Any]]

    # -- when an earlier finding is no longer found
    # A medical rule's recomputed total is compared with this parameter ...
    limit: str | None = None
    # ... and otherwise (or for an event still in the data) this is the reason ({year}).
    no_longer: str = NO_LONGER_EVENT

    # -- the warning's page and lists
    facts: tuple[Fact, ...]
    # One line of the evidence for the queue's task cards: (evidence as text, year) → line.
    headline: Callable[[dict[str, str], int], str]
    # The lake evidence query of the page (DuckDB; limited to the warning purpose's fields).
    lake_evidence: Callable[[Lake, Warning], LakeEvidence]
    # Chinese names of coded values in the page's event rows, per column.
    event_values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    # -- the administrators' export
    # The export's ``event_ref`` is the person's ID number (a person dies once).
    export_person_as_ref: bool = False

    def fact(self, key: str) -> Fact:
        """The declared fact of an evidence key (a key it does not declare shows as itself)."""
        for f in self.facts:
            if f.key == key:
                return f
        return Fact(key, key)

    def fact_lines(self, evidence: dict[str, Any], year: int) -> list[tuple[str, str]]:
        """The evidence as the page's (label, text) lines, in the evidence's own order."""
        lines = []
        for key, value in (evidence or {}).items():
            f = self.fact(key)
            lines.append((f.label.format(year=year, prior_year=year - 1), f.text(value)))
        return lines

    def summary_line(self, evidence: dict[str, Any], year: int) -> str:
        return self.headline({k: "" if v is None else str(v) for k, v in evidence.items()}, year)

    def event_value(self, column: str, value: Any) -> Any:
        if value is None:
            return "—"
        return self.event_values.get(column, {}).get(value, value)


def plain(value: Any) -> Any:
    """A JSON-safe value for the evidence summary."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def allowed(dataset: str, columns: list[str]) -> list[str]:
    """The columns, checked against the contract's fields for the warning purpose (a page must
    not read beyond the purpose: asking for more is a programming error)."""
    from dajiuzhu.core.roles import Purpose
    from dajiuzhu.exchange.contracts import get_contract

    open_fields = set(get_contract(dataset).purpose_fields(Purpose.WARNING))
    refused = [c for c in columns if c not in open_fields]
    if refused:
        raise PermissionError(f"{dataset}: {refused} not open for the warning purpose")
    return columns
