"""The six early-warning rules of RULES.md ("Early warning"), one module each: the registry.

Each module declares a :class:`~dajiuzhu.warnings.rulespec.RuleSpec` (``SPEC``): its Ibis
expression over the lake's current views (``person_key`` only), the datasets it reads and the
one whose push re-runs it, the summaries and parameters it needs, how a result row becomes the
warning's evidence and how that evidence reads on the warning's page, and the lake evidence the
page shows. Everything else derives from :data:`RULES`: the model's choices, the scan, the
publish hooks, the summaries the worker keeps, the pages, the export.

Adding a rule: ``docs/guides/adding-a-warning-rule.md``.
"""

from __future__ import annotations

from dajiuzhu.warnings.rules import (
    disaster,
    earner_death,
    med_fall,
    med_return,
    new_severe_disability,
    traffic,
)
from dajiuzhu.warnings.rules.common import ROUTING_SUMMARY
from dajiuzhu.warnings.rulespec import RuleSpec, plain

__all__ = ["READ_SUMMARIES", "REALTIME", "RULES", "RULE_CODES", "RuleSpec", "plain"]

# In the order of RULES.md (the order of the scan's report, the pages and the export).
MODULES = (med_return, med_fall, traffic, disaster, earner_death, new_severe_disability)

RULES: dict[str, RuleSpec] = {m.SPEC.code: m.SPEC for m in MODULES}
RULE_CODES: tuple[str, ...] = tuple(RULES)
# A publication (or retraction) of these datasets re-runs their rule for the batch's persons.
REALTIME: dict[str, str] = {s.realtime: s.code for s in RULES.values() if s.realtime}
# The lake summaries a scan reads (its routing, and the rules'): the worker keeps them current.
READ_SUMMARIES: tuple[str, ...] = tuple(
    dict.fromkeys([ROUTING_SUMMARY, *(name for s in RULES.values() for name in s.summaries)])
)
