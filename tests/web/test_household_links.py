"""The household file links onward (issue 11): its check reports, its warnings, its 政策找人
candidates and the assistance the lake records for its members — each within the reader's
scope and, for the lake, only under a purpose that opens those columns."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from dajiuzhu.verification.services import verify
from tests.factories.accounts import client_for
from tests.factories.verification import _ingest, authorise_adults


def test_the_household_file_links_to_reports_warnings_candidates_and_assistance(
    complete_family,
    tn_caseworker,
    wj_caseworker,
):
    from dajiuzhu.policy.models import Candidate, EligibilityRun
    from dajiuzhu.warnings.models import Warning

    family = complete_family
    household = family.household
    _ingest(
        "assistance_recipients",
        [
            {
                "id_number": family.numbers["head"],
                "program_code": "dibian",
                "household_no": household.household_no,
                "start_date": "2022-01-01",
                "end_date": "2022-12-31",
                "monthly_amount": "300.00",
            }
        ],
    )
    authorise_adults(family)
    report = verify(actor=tn_caseworker, household_id=household.pk, month="2023-08")
    now = timezone.now()
    warning = Warning.objects.create(
        rule="MED_FALL",
        year=2023,
        person_key=family.head.person_key,
        household_no=household.household_no,
        division_code=household.division_id,
        town_id=household.division_id[:9],
        evidence={},
        pushed_at=now,
        due_date=timezone.localdate() + timedelta(days=14),
    )
    run = EligibilityRun.objects.create(month="2023-12", started_at=now, status="done")
    Candidate.objects.create(
        month="2023-12",
        programme="dibao",
        household_no=household.household_no,
        town_id=household.division_id[:9],
        division_code=household.division_id,
        run=run,
        figures={},
    )
    client = client_for(tn_caseworker)
    url = f"/work/households/{household.pk}/"
    page = client.get(url, {"purpose": "verification"}).content.decode()
    assert f"/work/verification/reports/{report.pk}/" in page
    assert f"/work/warnings/{warning.pk}/" in page and "因病致贫" in page
    assert "2023-12 最低生活保障" in page
    assert "低保边缘家庭" in page and "300.00" in page and "2022-12-31" in page
    # the casework purpose opens no assistance columns: the page says under which it shows
    casework = client.get(url).content.decode()
    assert "300.00" not in casework and "救助发放数据只在以下查看目的下显示" in casework
    # another district sees none of it
    assert client_for(wj_caseworker).get(url).status_code == 404
