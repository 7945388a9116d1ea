"""The error of the policy library's Django-free API (no Django here)."""

from __future__ import annotations

__all__ = ["PolicyError"]


class PolicyError(Exception):
    """An error the caller (ultimately a user) caused; ``message_zh`` is shown as is.

    Codes: ``unknown_parameter``, ``not_numeric``, ``negative``, ``invalid_start``,
    ``duplicate_start``, ``overlap``, ``missing_reference`` (parameter values);
    ``invalid_period``, ``unknown_district``, ``no_standard``, ``no_statistics``,
    ``missing_district``, ``empty_household``, ``invalid_household_index``,
    ``unknown_variable``, ``wrong_entity``, ``not_an_input``, ``length_mismatch``,
    ``invalid_value`` (simulations).
    """

    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_zh}")
        self.code = code
        self.message_zh = message_zh
