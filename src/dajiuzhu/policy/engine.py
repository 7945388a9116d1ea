"""The platform's API over the OpenFisca country package (no Django here) — a front that
re-exports the three modules doing the work, so that callers keep one import:

- :mod:`dajiuzhu.policy.values` — :func:`build_system` (the rules with an administrator's
  dated parameter values applied on top of the YAML parameters) and
  :func:`validate_parameter_value` (refuse a value before it is stored).
- :mod:`dajiuzhu.policy.simulation` — :func:`simulate`, vectorised over many households at
  once (population scans, batches).
- :mod:`dajiuzhu.policy.explanation` — :func:`explain`, one household: every programme's
  result and, for every rule, the conditions that held or failed, with the numbers (check
  report, residents' self-check).

Errors a user can cause (unknown district, a month without a 低保 standard, a household with
no members, an impossible age, a bad parameter value) raise :class:`PolicyError` with a code
and a Chinese message; the caller shows ``message_zh``.
"""

from __future__ import annotations

from dajiuzhu.policy.errors import PolicyError
from dajiuzhu.policy.explanation import (
    Condition,
    Explanation,
    ProgrammeResult,
    RuleExplanation,
    Step,
    explain,
)
from dajiuzhu.policy.simulation import simulate
from dajiuzhu.policy.values import (
    ParameterValue,
    build_system,
    find_parameter,
    validate_parameter_value,
)

__all__ = [
    "Condition",
    "Explanation",
    "ParameterValue",
    "PolicyError",
    "ProgrammeResult",
    "RuleExplanation",
    "Step",
    "build_system",
    "explain",
    "find_parameter",
    "simulate",
    "validate_parameter_value",
]
