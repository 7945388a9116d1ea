"""「协助申请」 on a 政策找人 candidate (the candidate marked "helped to apply" by the submission
itself), and 精准度 measured: found → helped to apply → approved, per warning rule and per
candidate programme, within the viewer's scope."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Application
from dajiuzhu.core import crypto
from dajiuzhu.policy.models import Candidate, CandidateStatus, EligibilityRun
from dajiuzhu.warnings.models import Warning
from dajiuzhu.warnings.services import scan_run
from tests.cases.conftest import PDF, TOWN
from tests.factories.accounts import client_for
from tests.factories.city import YEAR, City
from tests.factories.registry import make_household


def _candidate(household, programme="dibao") -> Candidate:
    run = EligibilityRun.objects.create(month="2023-12", status="done", started_at=timezone.now())
    return Candidate.objects.create(
        month="2023-12",
        programme=programme,
        household_no=household.household_no,
        town_id=TOWN,
        division_code=household.division_id,
        estimated_amount="600.00",
        run=run,
    )


def test_helping_a_candidate_to_apply_marks_it_and_links_back(db, caseworker, outsider_ly):
    household, people = make_household(TOWN, members=2)
    candidate = _candidate(household)
    url = f"/work/cases/from-candidate/{candidate.pk}/"
    assert client_for(outsider_ly).get(url).status_code == 404
    client = client_for(caseworker)
    listing = client.get("/work/policy/candidates/", {"status": "", "month": "2023-12"})
    listing = listing.content.decode()
    assert url in listing
    page = client.get(url).content.decode()
    assert people[0].name in page and "来自政策找人(2023-12)候选" in page
    assert 'value="dibao" checked' in page
    form = {
        "action": "submit",
        "programmes": ["dibao"],
        "commitment": "1",
        "idempotency_key": "cand-1",
        **{f"scan_{p.pk}": SimpleUploadedFile("a.pdf", PDF) for p in people},
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    app = Application.objects.get()
    assert app.candidate_id == candidate.pk and app.applicant_id == people[0].pk
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.APPLIED
    assert app.application_no in candidate.note


def test_precision_counts_the_chain_per_rule_and_programme(db, caseworker, approver, outsider_ly):
    city = City()
    subjects = [city.person(f"精准{i}", household_no=f"HX-P{i}") for i in range(3)]
    for i, s in enumerate(subjects):
        city.accident(s, f"AC-P{i}", f"{YEAR}-05-0{i + 1}", "serious")
    city.load()
    scan_run(year=YEAR, rules=["TRAFFIC"])
    warnings = list(Warning.objects.order_by("event_ref"))
    assert len(warnings) == 3
    from dajiuzhu.registry.models import Person

    for i, w in enumerate(warnings[:2]):
        person = Person.objects.get(person_key=w.person_key)
        services.application_submit(
            actor=caseworker,
            channel="window",
            id_number=crypto.decrypt(person.id_number_enc, field="person.id_number"),
            programmes=["linshi"],
            paper_authorisations={person.pk: services.Upload("a.pdf", PDF)},
            commitment=True,
            warning_id=w.pk,
            idempotency_key=f"p-{i}",
        )
    household, _people = make_household(TOWN, members=1)
    _candidate(household, "tekun")
    page = client_for(caseworker).get("/work/cases/precision/").content.decode()
    assert "主动发现的精准度" in page
    from dajiuzhu.cases.precision import candidate_chain, warning_chain

    rows = {r.code: r for r in warning_chain(user=caseworker, year=YEAR)}
    assert (rows["TRAFFIC"].found, rows["TRAFFIC"].applied, rows["TRAFFIC"].approved) == (3, 2, 0)
    month, cands = candidate_chain(user=caseworker)
    assert month == "2023-12"
    assert [(r.code, r.found, r.applied) for r in cands] == [("tekun", 1, 0)]
    outside = {r.code: r for r in warning_chain(user=outsider_ly, year=YEAR)}
    assert outside["TRAFFIC"].found == 0
    assert candidate_chain(user=outsider_ly) == (None, [])
