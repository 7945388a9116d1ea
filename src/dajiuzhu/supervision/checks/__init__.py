"""The seven fund checks of SUPERVISION.md ("Fund checks for month M"), one module each: the
registry. Each module declares a :class:`~dajiuzhu.supervision.checkspec.CheckSpec` (``SPEC``):
its Ibis expression over the lake's current views, the datasets it reads, how a result row
becomes the finding's evidence and what the finding's page shows from the lake. The run, the
model's choices, the queue, the pages and the export derive from :data:`CHECKS`.
"""

from __future__ import annotations

from dajiuzhu.supervision.checks import (
    business,
    duplicate_payment,
    exclusive,
    no_approval,
    paid_after_death,
    properties,
    vehicle,
)
from dajiuzhu.supervision.checkspec import CheckSpec

__all__ = ["CHECKS", "CHECK_CODES", "CheckSpec"]

# In the order of SUPERVISION.md (the order of the run's report, the pages and the export).
MODULES = (
    paid_after_death,
    duplicate_payment,
    exclusive,
    no_approval,
    vehicle,
    properties,
    business,
)

CHECKS: dict[str, CheckSpec] = {m.SPEC.code: m.SPEC for m in MODULES}
CHECK_CODES: tuple[str, ...] = tuple(CHECKS)
