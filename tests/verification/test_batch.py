"""The worker's batch check (复核) gives each household the same report as ``verify``."""

from __future__ import annotations

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.verification.services import verify, verify_batch
from tests.factories.registry import make_household
from tests.factories.reviews import authorise


def _same(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("seconds",)}


def test_batch_reports_equal_single_reports_and_refusals_are_returned(complete_family):
    authorise(complete_family.household)
    unsigned, _people = make_household("320402003")
    out = verify_batch(household_ids=[complete_family.household.pk, unsigned.pk], month="2023-08")
    single = verify(
        actor=None, household_id=complete_family.household.pk, month="2023-08", purpose="casework"
    )
    assert _same(out[complete_family.household.pk].report) == _same(single.report)
    assert isinstance(out[unsigned.pk], ServiceError)
    assert out[unsigned.pk].code == "verification.no_authorisation"
