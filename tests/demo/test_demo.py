"""The demo set-up: a synthetic city loaded through the real ingestion path, the demo
accounts, and the runs that fill the towns' lists — with the figures a newcomer meets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dajiuzhu.core import crypto
from dajiuzhu.core.models import User
from dajiuzhu.demo.accounts import DEMO_PASSWORD, DEMO_RESIDENT_PHONE, demo_account_specs
from dajiuzhu.demo.phones import demo_phone
from dajiuzhu.demo.prepare import demo_prepare
from dajiuzhu.exchange.models import Batch, BatchStatus, QuarantineRow
from dajiuzhu.policy.models import Candidate, EligibilityRun
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.selectors import age_on
from dajiuzhu.supervision.models import CheckRun
from dajiuzhu.verification.models import Authorisation
from dajiuzhu.warnings.models import ScanRun, Warning
from tests.factories.accounts import client_for

pytestmark = pytest.mark.xdist_group("city")

# Rows accepted per dataset for 1,500 persons, seed 3 (the generator is deterministic).
ROWS = {
    "assistance_payments": 91,
    "assistance_recipients": 41,
    "businesses": 103,
    "deaths": 18,
    "deposits": 2348,
    "disability_certificates": 92,
    "disposable_income": 4,
    "hukou": 1500,
    "incidents": 6,
    "insured_persons": 2967,
    "medical_claims": 18090,
    "pensions": 9151,
    "provident_fund": 7184,
    "real_estate": 916,
    "traffic_accidents": 7,
    "unemployment": 31,
    "vehicles": 641,
    "wages": 16540,
}
# 政策找人 of 2023-12 over that city: (eligible, receiving, candidates) per programme.
FIND_ELIGIBLE = {
    "dibao": (9, 4, 5),
    "dibian": (15, 14, 1),
    "zhichu": (3, 0, 3),
    "tekun": (7, 3, 4),
    "single_person_dibao": (3, 0, 3),
}


def _adults_of_first_tianning_households(limit: int = 30) -> int:
    today = timezone.localdate()
    households = Household.objects.filter(division__code__startswith="320402").order_by(
        "household_no"
    )[:limit]
    return sum(
        1
        for m in Membership.objects.filter(
            household__in=list(households), end_date__isnull=True
        ).select_related("person")
        if m.person.status == "normal" and age_on(m.person.birth_date, today) >= 18
    )


def test_the_demo_loads_a_city_through_ingestion_and_is_reusable(db, settings, tmp_path):
    settings.HOME = tmp_path
    accounts = demo_prepare(persons=1500, seed=3)

    specs = demo_account_specs()
    named = [a["username"] for a in accounts[len(specs) :]]
    assert [a["username"] for a in accounts[: len(specs)]] == [s["username"] for s in specs]
    town_accounts = list(
        User.objects.exclude(username__in=[s["username"] for s in specs]).values_list(
            "username", flat=True
        )
    )
    assert set(named) <= set(town_accounts)
    assert all(n.startswith(("tn_town_", "wj_town_")) for n in named)
    for spec in specs:
        user = User.objects.get(username=spec["username"])
        assert (user.role, user.scope_id) == (spec["role"], spec["scope"])
        assert user.check_password(DEMO_PASSWORD)
    assert {"tn_clerk", "wj_caseworker", "city_admin", "steward_yibao"} <= {
        a["username"] for a in accounts
    }

    published = Batch.objects.filter(status=BatchStatus.PUBLISHED)
    first = published.exclude(dataset="medical_claims", rejected=3)
    assert {b.dataset: b.accepted for b in first} == ROWS
    assert first.filter(rejected__gt=0).count() == 0
    assert Person.objects.count() == 1500
    assert Household.objects.count() == 587
    corrections = published.filter(dataset="medical_claims", rejected=3).get()
    assert corrections.accepted == 17
    assert QuarantineRow.objects.filter(batch=corrections).count() == 3
    assert corrections.overlaps is True  # corrected claims replace the first delivery's

    # (the demo applications' front checks record their own, referenced by application no)
    authorisations = Authorisation.objects.filter(document_ref__startswith="DEMO-")
    assert authorisations.count() == _adults_of_first_tianning_households() > 0
    today = timezone.localdate()
    assert {(a.signed_on, a.expires_on) for a in authorisations} == {
        (today, today + timedelta(days=365))
    }

    run = EligibilityRun.objects.get()
    assert (run.status, run.month, run.persons) == ("done", "2023-12", 1479)
    assert {
        code: (s["eligible"], s["receiving"], s["candidates"])
        for code, s in run.summary["programmes"].items()
    } == FIND_ELIGIBLE
    assert Candidate.objects.count() == sum(c for _, _, c in FIND_ELIGIBLE.values()) == 16

    assert ScanRun.objects.count() == 1
    assert sorted(Warning.objects.values_list("rule", flat=True)) == [
        "EARNER_DEATH",
        "EARNER_DEATH",
        "MED_FALL",
        "NEW_SEVERE_DISABILITY",
    ]

    # Town staff where the warnings fall: a clerk of the town and a grid worker of its
    # community, one warning of each town already assigned to that worker.
    towns = sorted(set(Warning.objects.values_list("town_id", flat=True)))
    assert len(town_accounts) == 2 * len(towns)
    for town in towns:
        clerk = User.objects.get(role="window_clerk", scope_id=town)
        grid = User.objects.get(role="grid_worker", scope__parent_id=town)
        assert grid.username in town_accounts and clerk.username in town_accounts
        # (the demo's 协助申请 may have taken a town's only warning on since: still theirs)
        assigned = Warning.objects.filter(town_id=town, assignee__isnull=False)
        assert [(w.assignee, w.assigned_by) for w in assigned] == [(grid, clerk)]
    # every synthetic person has a phone, encrypted, with its blind index
    assert not Person.objects.filter(phone_enc__isnull=True).exists()
    person = Person.objects.order_by("pk").first()
    assert crypto.decrypt(person.phone_enc, field="person.phone") == demo_phone(person.pk)
    assert person.phone_index == crypto.phone_index(demo_phone(person.pk))

    # The journey as the demo comes: the grid worker sees the task with a call link, records
    # the visit; the town clerk closes it.
    w = Warning.objects.filter(status="assigned").order_by("id").first()
    grid, clerk = w.assignee, w.assigned_by
    tasks = client_for(grid).get("/work/warnings/tasks/").content.decode()
    assert f'href="tel:{demo_phone(Person.objects.get(person_key=w.person_key).pk)}"' in tasks
    client_for(grid).post(
        f"/work/warnings/{w.pk}/outcome/",
        {"outcome": "not_in_hardship", "notes": "入户核实,家庭收入稳定", "next": "tasks"},
    )
    client_for(clerk).post(f"/work/warnings/{w.pk}/close/")
    w.refresh_from_db()
    assert (w.status, w.outcome, w.closed_by) == ("closed", "not_in_hardship", clerk)

    fund = CheckRun.objects.get()
    assert (fund.status, fund.month, len(fund.summary)) == ("done", "2023-12", 7)

    from dajiuzhu.cases.models import Application, Case

    assert set(Application.objects.values_list("channel", flat=True)) == {
        "window",
        "phone",
        "portal",
    }
    assert {
        "accepted",
        "town_review",
        "publicity",
        "deciding",
        "approved",
        "refused",
    } <= set(Case.objects.values_list("status", flat=True))
    assert Application.objects.filter(warning__isnull=False).exists()
    assert Application.objects.filter(missing_documents__isnull=False).exists()

    # Payments: two released months (the bank's returns, one sent again on a supplementary
    # roster), this month's rosters waiting for the approvers, the resident's payments.
    from dajiuzhu.core.months import add_months, month_of
    from dajiuzhu.payments.models import Payment, Roster

    this = month_of(today)
    months = {add_months(this, -2): {"released"}, add_months(this, -1): {"released"}}
    months[this] = {"prepared"}
    for month, statuses in months.items():
        assert set(Roster.objects.filter(month=month).values_list("status", flat=True)) == statuses
    assert Roster.objects.filter(seq=2, status="released").count() == 1
    assert sorted(Payment.objects.exclude(return_reason="").values_list("status", flat=True)) == [
        "repaid",
        "returned",
    ]
    assert not Roster.objects.filter(status="released", lake_batch__isnull=True).exists()
    resident = User.objects.create(
        username="demo_resident_probe",
        role="resident",
        phone_index=crypto.phone_index(DEMO_RESIDENT_PHONE),
    )
    page = client_for(resident).get("/portal/payments/").content.decode()
    assert "困难残疾人生活补贴" in page and "已重新发放" in page and "已发放" in page
    from dajiuzhu.supervision.models import Complaint, MonthlyNotice

    assert Complaint.objects.count() == 5
    assert set(Complaint.objects.values_list("status", flat=True)) == {
        "received",
        "handling",
        "closed",
    }
    assert Complaint.objects.filter(escalated=True, district_code="320402").count() == 1
    assert MonthlyNotice.objects.get().month == "2023-12"
    # last quarter's spot check, drawn for tn_auditor's contract, a staff relative's case in it
    from dajiuzhu.supervision.models import SampledCase, SpotCheck

    spot = SpotCheck.objects.get()
    assert spot.contract.code == "TP-DEMO-01"
    assert SampledCase.objects.filter(spot_check=spot, relative=True).count() == 1
    auditor = User.objects.get(username="tn_auditor")
    listing = client_for(auditor).get("/work/supervision/samples/").content.decode()
    assert spot.quarter in listing and "近亲属必抽" in listing

    before = Batch.objects.count()
    applications = Application.objects.count()
    assert demo_prepare(persons=1500, seed=3) == accounts  # a second run reuses the home
    assert Application.objects.count() == applications
    assert Roster.objects.count() == len(set(Roster.objects.values_list("pk", flat=True)))
    assert Complaint.objects.count() == 5
    assert SpotCheck.objects.count() == 1
    assert Batch.objects.count() == before
    assert EligibilityRun.objects.count() == 1
