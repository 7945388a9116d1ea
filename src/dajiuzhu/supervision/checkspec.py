"""What a fund check declares about itself: one :class:`CheckSpec` per module of
``supervision/checks/``. The run, the worker's hook, the queue, the finding's page and the
export read these declarations instead of knowing the checks by name.

Nothing heavy is imported here (no Ibis, no Django models): Django's start-up reads the
registry for the model's choices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dajiuzhu.supervision.checks.common import CheckContext


@dataclass(frozen=True)
class EvidenceSource:
    """Rows of one dataset the finding's page shows (the contract's 监督 fields only): the
    payee's own rows (``who="payee"``) or those of the payee's 户籍 household members."""

    dataset: str
    who: str = "payee"  # payee | household
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # column → values kept


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    code: str
    label: str
    description: str  # one line of SUPERVISION.md, in Chinese, for the pages
    # Datasets the check reads (a retraction of one of them is named when a finding goes away).
    datasets: tuple[str, ...]
    # The Ibis expression: ``person_key, program_code, payment_id, amount`` then ``ev_*``.
    findings: Callable[[CheckContext], ir.Table]
    # A result row → the finding's evidence summary (figures and codes, never an ID number).
    evidence: Callable[[dict[str, Any]], dict[str, str]]
    # Labels of the evidence keys on the page.
    facts: Mapping[str, str]
    # What the page shows from the lake (within the 监督 purpose).
    sources: tuple[EvidenceSource, ...] = ()
    # Why an earlier finding is no longer found.
    no_longer: str = "依据数据已变化,已不符合核查条件"

    def fact_lines(self, evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [
            (self.facts.get(k, k), "—" if v in (None, "") else str(v)) for k, v in evidence.items()
        ]


def plain(value: Any) -> str:
    """A JSON-safe text of a value for the evidence summary."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
