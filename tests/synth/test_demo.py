"""The demo set-up: a synthetic city loaded through the real ingestion path, with the runs
that fill the towns' lists."""

from __future__ import annotations

import pytest

from dajiuzhu.core.models import User
from dajiuzhu.exchange.models import Batch, BatchStatus, QuarantineRow
from dajiuzhu.policy.models import EligibilityRun
from dajiuzhu.registry.models import Person
from dajiuzhu.synth.demo import demo_prepare
from dajiuzhu.verification.models import Authorisation

pytestmark = pytest.mark.xdist_group("city")


def test_the_demo_loads_a_city_through_ingestion_and_is_reusable(db, settings, tmp_path):
    settings.HOME = tmp_path
    accounts = demo_prepare(persons=1500, seed=3)
    assert {"tn_clerk", "wj_caseworker", "city_admin", "steward_yibao"} <= {
        a["username"] for a in accounts
    }
    assert User.objects.filter(role="window_clerk", scope_id="320402").exists()
    published = Batch.objects.filter(status=BatchStatus.PUBLISHED)
    assert published.values("dataset").distinct().count() == 17
    assert Person.objects.count() == 1500
    corrections = published.filter(dataset="medical_claims", rejected=3).get()
    assert QuarantineRow.objects.filter(batch=corrections).count() == 3
    assert corrections.overlaps is True  # corrected claims replace the first delivery's
    assert Authorisation.objects.exists()
    assert EligibilityRun.objects.get().status == "done"
    from dajiuzhu.warnings.models import ScanRun

    assert ScanRun.objects.exists()
    before = Batch.objects.count()
    demo_prepare(persons=1500, seed=3)  # a second run reuses the home
    assert Batch.objects.count() == before
