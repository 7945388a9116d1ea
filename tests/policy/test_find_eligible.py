"""「政策找人」 over a synthetic city: vectorised, compared with who receives what, routed to
towns, followed up by their staff."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dajiuzhu.cli import main
from dajiuzhu.core.services import ServiceError
from dajiuzhu.policy import engine, population
from dajiuzhu.policy.models import Candidate, EligibilityRun
from dajiuzhu.policy.selectors import policy_system
from dajiuzhu.policy.services import candidate_follow_up, find_eligible
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.xdist_group("city")


def test_the_run_records_candidates_per_town_and_reruns_add_none(city, capsys):
    capsys.readouterr()
    assert main(["find-eligible", "--month", "2023-12"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    summaries = {s["programme"]: s for s in lines[1:]}
    assert set(summaries) == {"dibao", "dibian", "zhichu", "tekun", "single_person_dibao"}
    run = EligibilityRun.objects.get()
    assert lines[0]["persons"] == run.persons > 2500
    total = sum(s["candidates"] for s in summaries.values())
    assert Candidate.objects.count() == total > 0
    for s in summaries.values():
        assert s["eligible"] == s["receiving"] + s["candidates"]
    assert all(c.division_code.startswith(c.town_id) for c in Candidate.objects.all())
    assert main(["find-eligible", "--month", "2023-12"]) == 0
    assert Candidate.objects.count() == total  # nothing duplicated


def test_vectorised_results_equal_one_household_at_a_time(city):
    system = policy_system()
    pop = population.load_population("2023-12")
    results = population.evaluate(pop, month="2023-12", system=system, batch_households=500)
    rng = np.random.default_rng(1)
    for i in rng.choice(len(pop.household_no), size=25, replace=False):
        members = np.flatnonzero(pop.household_index == i)
        persons = [
            {
                "id": str(j),
                **{
                    k: (v[j].item() if hasattr(v[j], "item") else v[j])
                    for k, v in pop.persons.items()
                },
            }
            for j in members
        ]
        for p in persons:
            p["disability_kind"] = population.KIND_NAMES[p["disability_kind"]]
        household = {
            k: (v[i].item() if hasattr(v[i], "item") else str(v[i]))
            for k, v in pop.households.items()
        }
        one = engine.explain(system, "2023-12", persons, household)
        assert one.programme("dibao").eligible == bool(results["dibao_eligible"][i])
        assert one.programme("dibian").eligible == bool(results["dibian_eligible"][i])
        for j in members:
            assert one.programme("tekun", str(j)).eligible == bool(results["tekun_eligible"][j])


def test_a_missing_hukou_dataset_gets_a_message(db):
    with pytest.raises(ServiceError) as info:
        find_eligible(month="2023-12")
    assert info.value.code == "hukou.unavailable"
    with pytest.raises(ServiceError) as info:
        find_eligible(month="2023/12")
    assert info.value.code == "month.format"


def test_town_staff_see_their_candidates_and_follow_up(city):
    find_eligible(month="2023-12")
    candidate = Candidate.objects.order_by("town_id").first()
    district = candidate.town_id[:6]
    clerk = make_user("clerk_here", "window_clerk", district)
    other = "320481" if district != "320481" else "320402"
    elsewhere = make_user("clerk_there", "window_clerk", other)
    page = client_for(clerk).get("/work/policy/candidates/?month=2023-12").content.decode()
    assert candidate.household_no in page
    assert (
        candidate.household_no
        not in client_for(elsewhere).get("/work/policy/candidates/?month=2023-12").content.decode()
    )
    with pytest.raises(Exception):  # noqa: B017 - NotFound, whatever its module
        candidate_follow_up(actor=elsewhere, candidate_id=candidate.pk, status="applied")
    client_for(clerk).post(
        "/work/policy/candidates/?month=2023-12",
        {"candidate": candidate.pk, "status": "applied", "note": "已上门"},
    )
    candidate.refresh_from_db()
    assert (candidate.status, candidate.note) == ("applied", "已上门")
    api = client_for(clerk).get("/api/v1/policy/candidates?month=2023-12&status=applied").json()
    assert [c["household_no"] for c in api] == [candidate.household_no]
