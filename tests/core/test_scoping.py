"""Every page and API operation is classified, and every one that shows or changes a person's
data refuses a user outside the record's scope (401/403/404, an empty list, and no data in the
response), in both districts.

A new endpoint cannot escape: an unmarked page, an operation without ``x-personal-data`` or a
kind with no probe below fails this test. The walk is made, for a record of each district, as:

* every staff role of the *other* district (stewards of the dataset's owner and of 公安), a
  town-scoped caseworker of the other district with a department, a clerk of 溧阳市;
* a resident with a department;
* an administrator row scoped to the record's *own* district (decision 0006: no power at all);
* department tokens without an agreement (API only).

Further walks: every operation and page as that district administrator row, which must be
answered exactly as a resident is; every department token and district steward against every
dataset without an agreement; every form action with missing and foreign ids. The requests are
counted (``tests/probe_tally.py``; ``tools/security_probes.py`` prints the figures quoted in
``docs/security.md``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dajiuzhu.api import api
from dajiuzhu.core.models import Division, User
from dajiuzhu.core.roles import STAFF_ROLES, Role
from dajiuzhu.registry.models import Household, Person
from tests import probe_tally
from tests.factories.accounts import client_for, make_legacy_admin, make_user
from tests.factories.registry import make_household, new_id_number

OTHER = {"320402": "320412", "320412": "320402"}  # a record's district -> the outsiders'
DISTRICTS = sorted(OTHER)


@dataclass
class Record:
    """A record in one district and what must never leak from it."""

    kwargs: dict
    secrets: list[str]
    body: dict = field(default_factory=dict)
    unchanged: Callable[[], bool] = lambda: True
    query: dict = field(default_factory=dict)
    outsiders: list = field(default_factory=list)  # more users who must be refused
    # Roles that may open the record's page (200) although they are outside its district,
    # because it holds no personal data for them — still without any of the secrets.
    readers: frozenset = frozenset()
    # What a multipart operation uploads for this record (default: a one-column CSV).
    upload: bytes = b"claim_id\nC1\n"


def _ensure_community(town: str) -> str:
    code = f"{town}001"
    if not Division.objects.filter(code=code).exists():
        from dajiuzhu.core.services import division_create

        division_create(actor=None, parent_code=town, code=code, name="测试社区")
    return code


def _walker(username: str, role: str, scope: str | None, department: str | None = None) -> User:
    """A user for the walk (no password to hash: the walk logs in with force_login)."""
    user = User(username=username, role=role, scope_id=scope, department_id=department)
    user.set_unusable_password()
    user.save()
    return user


def _household_record(town: str) -> Record:
    household, people = make_household(town)
    return Record(
        kwargs={"household_id": household.pk, "person_id": people[0].pk},
        secrets=[household.household_no, *[p.name for p in people]],
        body={
            "person_id": people[1].pk,
            "relation": "child",
            "start_date": "2020-01-01",
            "category": "dibao",
            "month": "2023-08",
            "purpose": "verification",
            "signed_on": date.today().isoformat(),
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )


def _wages_to(person, month: str) -> None:
    from dajiuzhu.core import crypto
    from dajiuzhu.exchange.services import batch_ingest_rows

    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    row = {"id_number": number, "month": month, "employer_code": "E1", "wage": "1000.00"}
    batch_ingest_rows(actor=None, token=None, dataset="wages", rows=[row])


def _report_record(town: str) -> Record:
    from dajiuzhu.verification.services import authorisation_record, verify

    household, people = make_household(town)
    for person in people:
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=date.today(),
            expires_on=date.today() + timedelta(days=30),
        )
    _wages_to(people[0], "2023-08")  # a check needs data that reach its month
    report = verify(actor=None, household_id=household.pk, month="2023-08")
    return Record(
        kwargs={"report_id": report.pk}, secrets=[household.household_no, *[p.name for p in people]]
    )


def _candidate_record(town: str) -> Record:
    from django.utils import timezone

    from dajiuzhu.policy.models import Candidate, EligibilityRun

    run = EligibilityRun.objects.create(month="2023-12", started_at=timezone.now(), status="done")
    Candidate.objects.create(
        month="2023-12",
        programme="dibao",
        household_no=f"CAND-{town}",
        town_id=town,
        division_code=f"{town}001",
        run=run,
        figures={"income_per_member": 500, "dibao_standard": 1070},
    )
    return Record(kwargs={}, secrets=[f"CAND-{town}"], query={"month": "2023-12"})


def _candidate_one_record(town: str) -> Record:
    """One candidate of ``town`` (the 「协助申请」 page opens it by id)."""
    from dajiuzhu.policy.models import Candidate

    _candidate_record(town)
    candidate = Candidate.objects.get(household_no=f"CAND-{town}")
    return Record(
        kwargs={"candidate_id": candidate.pk},
        secrets=[f"CAND-{town}"],
        unchanged=lambda: Candidate.objects.get(pk=candidate.pk).status == "open",
    )


def _person_create_record(town: str) -> Record:
    make_household(town)
    id_number = new_id_number(town[:6])
    return Record(
        kwargs={},
        secrets=[id_number, "越权新增"],
        body={"id_number": id_number, "name": "越权新增", "hukou_division": f"{town}001"},
        unchanged=lambda: not Person.objects.filter(name="越权新增").exists(),
    )


def _household_create_record(town: str) -> Record:
    make_household(town)
    return Record(
        kwargs={},
        secrets=["HX-OUT-OF-SCOPE"],
        body={"household_no": "HX-OUT-OF-SCOPE", "division": f"{town}001"},
        unchanged=lambda: not Household.objects.filter(household_no="HX-OUT-OF-SCOPE").exists(),
    )


def _lookup_record(town: str) -> Record:
    _household, people = make_household(town)
    from dajiuzhu.core import crypto

    person = people[0]
    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    return Record(
        kwargs={},
        secrets=[person.name, number],
        body={"id_number": number, "purpose": "casework"},
    )


def _other_steward():
    return _walker("steward_canlian", Role.DATA_STEWARD, "320400", "canlian")


def _hukou_row(id_number: str, community: str, name: str) -> dict:
    return {
        "id_number": id_number,
        "name": name,
        "sex": "M" if int(id_number[16]) % 2 else "F",
        "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        "household_no": f"HK{id_number[-6:]}",
        "relation_to_head": "head",
        "division_code": community,
        "address": "",
        "status": "normal",
    }


def _claims_batch(town: str):
    """A 医保 batch (one good claim of a person whose 户籍 is in ``town``, one quarantined)."""
    from dajiuzhu.exchange.services import batch_ingest_rows
    from tests.factories.exchange import claim

    number = new_id_number(town[:6])
    community = _ensure_community(town)
    batch_ingest_rows(
        actor=None, token=None, dataset="hukou", rows=[_hukou_row(number, community, "共享甲")]
    )
    bad_id = number[:17] + ("0" if number[17] != "0" else "1")
    rows = [{**claim(901), "id_number": number}, {**claim(902), "id_number": bad_id}]
    result = batch_ingest_rows(actor=None, token=None, dataset="medical_claims", rows=rows)
    return result.batch, rows, bad_id


def _batch_record(town: str) -> Record:
    batch, rows, bad_id = _claims_batch(town)
    return Record(
        kwargs={"batch_id": batch.pk, "fmt": "xlsx"},
        secrets=[bad_id, rows[1]["claim_id"]],
        body={"reason": "越权撤回"},
        outsiders=[_other_steward()],
        unchanged=lambda: type(batch).objects.get(pk=batch.pk).status == "published",
        # the batch page (no personal data: counts and reasons) is city-wide for them
        readers=frozenset({Role.SUPERVISOR, Role.AUDITOR}),
    )


def _delivery_record(town: str) -> Record:
    from dajiuzhu.exchange.models import Batch
    from tests.factories.exchange import claim

    before = Batch.objects.count()
    return Record(
        kwargs={"dataset": "medical_claims"},
        secrets=["C99999999"],
        body={"rows": [claim(99999999)]},
        outsiders=[_other_steward()],
        unchanged=lambda: Batch.objects.count() == before,
    )


def _shared_rows_record(town: str) -> Record:
    """Claims of a person of ``town``, and an agreement that lets 民政 read them for warnings:
    what keeps other districts' 民政 staff out is the division scope alone."""
    from dajiuzhu.exchange.services import agreement_create

    _batch, rows, _bad = _claims_batch(town)
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="medical_claims",
        purpose="warning",
        fields=["claim_id", "person_key", "out_of_pocket"],
        scope="因病致贫预警",
    )
    return Record(
        kwargs={"dataset": "medical_claims"},
        secrets=[rows[0]["claim_id"]],
        query={"purpose": "warning"},
        body={"purpose": "warning", "id_numbers": [rows[0]["id_number"]]},
        outsiders=[_other_steward()],
    )


def _warning_record(town: str) -> Record:
    """A warning about a person of ``town`` (through ingestion and a real scan)."""
    from dajiuzhu.warnings.models import Warning
    from dajiuzhu.warnings.services import scan_run
    from tests.factories.city import YEAR, City

    community = _ensure_community(town)
    city = City()
    person = city.person("越权", household_no=f"HX-WARN-{town}", division=community)
    city.accident(person, "AC-PROBE", f"{YEAR}-05-05", "serious")
    city.load()
    scan_run(year=YEAR, rules=["TRAFFIC"])
    warning = Warning.objects.get(event_ref="AC-PROBE")
    grid = _walker("probe_grid", Role.GRID_WORKER, community)
    return Record(
        kwargs={"warning_id": warning.pk},
        secrets=[person.id_number, person.household_no, person.name],
        body={
            "assignee": grid.pk,
            "outcome": "not_in_hardship",
            "programme_code": "",
            "notes": "越权核查",
        },
        unchanged=lambda: Warning.objects.filter(
            pk=warning.pk, status="pushed", assignee__isnull=True, outcome=""
        ).exists(),
    )


def _finding_record(town: str) -> Record:
    """A fund finding about a payee of ``town`` (through ingestion and a real check run)."""
    from dajiuzhu.supervision.models import Finding
    from dajiuzhu.supervision.running import check_run
    from tests.supervision.conftest import MONTH, FundCity

    community = _ensure_community(town)
    city = FundCity()
    person = city.person("越权资金", household_no=f"HX-FUND-{town}", division=community)
    city.pay(person, "dibian", "400.00", pid=f"PROBE-{town}")
    city.load()
    check_run(month=MONTH, checks=["NO_APPROVAL"])
    finding = Finding.objects.get(payment_id=f"PROBE-{town}")
    return Record(
        kwargs={"finding_id": finding.pk},
        secrets=[person.id_number, person.household_no, person.name],
        body={"resolution": "explained", "notes": "越权整改"},
        unchanged=lambda: Finding.objects.filter(pk=finding.pk, status="open", notes="").exists(),
    )


def _complaint_record(town: str) -> Record:
    """A named complaint about ``town``; its own district's supervisor handles it (the
    reporter is theirs alone), so every walker is an outsider."""
    from dajiuzhu.supervision.complaints import complaint_submit
    from dajiuzhu.supervision.models import Complaint

    _ensure_community(town)
    complaint = complaint_submit(
        actor=None,
        category="staff_favour",
        division_code=town,
        content=f"越权举报内容{town},工作人员索要好处",
        name="越权举报人",
        phone="13911112222",
    )
    return Record(
        kwargs={"complaint_id": complaint.pk, "action": "close"},
        secrets=["13911112222", "越权举报人", f"越权举报内容{town}"],
        body={"outcome": "越权办结"},
        unchanged=lambda: Complaint.objects.filter(
            pk=complaint.pk, status="received", handler__isnull=True
        ).exists(),
    )


def _sample_record(town: str) -> Record:
    """A spot-check case of ``town``, sampled for a contract whose auditor is not a walker;
    auditors of the record's own district without the contract are outsiders too."""
    from dajiuzhu.demo.history import approved_case_write
    from dajiuzhu.registry.models import Household
    from dajiuzhu.registry.models import Person as RegistryPerson
    from dajiuzhu.supervision.models import SampledCase
    from dajiuzhu.supervision.sampling import contract_create, sample_draw
    from tests.factories.city import City

    community = _ensure_community(town)
    city = City()
    person = city.person("越权抽查", household_no=f"HX-SAMPLE-{town}", division=community)
    city.load()
    approved_case_write(
        household=Household.objects.get(household_no=person.household_no),
        applicant=RegistryPerson.objects.get(person_key=person.key),
        town=town,
        programme="dibao",
        amount="800.00",
        start_month="2024-03",
        application_no=f"SCOPE{town}",
        submitted_at=datetime(2024, 1, 2, 2, 0, tzinfo=UTC),
        decided_on=date(2024, 2, 2),
    )
    _walker("contract_auditor", Role.AUDITOR, "320400")
    contract_create(
        actor=None, code="PROBE", organisation="受托机构", auditors=["contract_auditor"]
    )
    check = sample_draw(actor=None, quarter="2024Q1", seed=1, contract_code="PROBE").spot_check
    case = SampledCase.objects.get(spot_check=check, person_key=person.key)
    return Record(
        kwargs={"case_id": case.pk},
        secrets=[person.id_number, person.household_no, person.name],
        body={"codes": ["documents"], "notes": "越权评估"},
        unchanged=lambda: SampledCase.objects.filter(pk=case.pk, status="sampled").exists(),
        outsiders=[
            _walker("own_auditor", Role.AUDITOR, town[:6]),
            _walker("city_auditor", Role.AUDITOR, "320400"),
        ],
    )


def _care_record(town: str) -> Record:
    """An unaccepted alarm, a visit dispatched for another, and the person's care file."""
    import json as _json

    from dajiuzhu.care.intake import ingest, topic_for
    from dajiuzhu.care.models import Alarm, AwaySpell, Device, Plan, Visit
    from dajiuzhu.care.services import alarm_accept, alarm_record_outcome, device_register
    from dajiuzhu.core import crypto
    from dajiuzhu.registry.services import category_add

    community = _ensure_community(town)
    _household, people = make_household(town, members=1)
    person = people[0]
    # A special-hardship person: on the care centre's population list of their own town.
    category_add(actor=None, person=person, category="tekun", start_date=date(2023, 1, 1))
    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    device_id = f"PROBE-{town}"
    device_register(
        actor=None, device_id=device_id, kind="pendant", id_number=number, installed_at=date.today()
    )
    alarms = []
    for event_id in ("probe-1", "probe-2"):
        payload = {"event_id": event_id, "type": "button", "at": "2024-03-01T08:00:00+08:00"}
        alarms.append(ingest(topic_for(device_id), _json.dumps(payload)).alarms[0])
    grid = _walker(f"probe_care_grid_{town}", Role.GRID_WORKER, community)
    operator = _walker(f"probe_care_call_{town}", Role.CALL_OPERATOR, town[:6])
    alarm_accept(actor=operator, alarm_id=alarms[1])
    alarm_record_outcome(actor=operator, alarm_id=alarms[1], outcome="visit")
    visit = Visit.objects.get(alarm_id=alarms[1], assignee=grid)
    return Record(
        kwargs={"alarm_id": alarms[0], "visit_id": visit.pk, "person_id": person.pk},
        secrets=[number, person.name],
        body={"outcome": "false_alarm", "closure_code": "safe", "findings": "越权"},
        unchanged=lambda: (
            Alarm.objects.filter(pk=alarms[0], accepted_by__isnull=True).exists()
            and Visit.objects.filter(pk=visit.pk, status="open").exists()
            and not Plan.objects.filter(person=person).exists()
            and not AwaySpell.objects.filter(person=person).exists()
            and Device.objects.filter(person=person).count() == 1
        ),
    )


def _case_record(town: str) -> Record:
    """A case of a household of ``town``, taken at a window of the *same* town (a window of
    another district would see it: 全城办)."""
    from dajiuzhu.cases.models import Case
    from dajiuzhu.cases.services import Upload, application_submit
    from dajiuzhu.core import crypto

    household, people = make_household(town)
    clerk = _walker(f"probe_clerk_{town}", Role.WINDOW_CLERK, town)
    app = application_submit(
        actor=clerk,
        channel="window",
        id_number=crypto.decrypt(people[0].id_number_enc, field="person.id_number"),
        programmes=["dibao"],
        paper_authorisations={p.pk: Upload("a.pdf", b"%PDF-1.4 probe") for p in people},
        commitment=True,
    )
    case = app.cases.get()
    return Record(
        kwargs={
            "case_id": case.pk,
            "action": "investigate",
            "application_no": app.application_no,
        },
        secrets=[household.household_no, *[p.name for p in people]],
        body={"findings": "越权", "workers": [], "decision": "approve", "version": 1},
        unchanged=lambda: Case.objects.get(pk=case.pk).version == case.version,
    )


def _roster_record(town: str) -> Record:
    """A released roster of ``town``'s district with one payment; the bank's returns file an
    outsider uploads names that payment."""
    from dajiuzhu.payments.models import Payment, Roster
    from dajiuzhu.payments.services import roster_build, roster_release
    from tests.factories.cases import make_approved_case

    case = make_approved_case(town, amount="1000.00", start_month="2024-01")
    district = town[:6]
    roster_build(actor=None, month="2024-01", district=district)
    roster = Roster.objects.get(district_id=district, month="2024-01")
    approver = _walker(f"probe_approver_{district}", Role.APPROVER, district, "minzheng")
    roster = roster_release(actor=approver, roster_id=roster.pk)
    payment = Payment.objects.get(roster=roster)
    people = [case.application.applicant]

    def unchanged() -> bool:
        fresh = Payment.objects.get(pk=payment.pk)
        return (
            Roster.objects.filter(district_id=district).count() == 1
            and Roster.objects.get(pk=roster.pk).status == roster.status
            and (fresh.status, fresh.repay_requested) == (payment.status, payment.repay_requested)
        )

    return Record(
        kwargs={"roster_id": roster.pk},
        secrets=[case.household.household_no, *[p.name for p in people]],
        body={"month": "2024-01", "district": district, "payment_id": payment.payment_id},
        unchanged=unchanged,
        upload=f"业务流水号,退回原因\n{payment.payment_id},越权\n".encode(),
    )


def _intake_record(town: str) -> Record:
    """An applicant of ``town``: the intake refuses every outsider's submission; any window
    of the city may open the (empty) entry form — 全城办."""
    from dajiuzhu.cases.models import Application
    from dajiuzhu.core import crypto

    household, people = make_household(town)
    number = crypto.decrypt(people[0].id_number_enc, field="person.id_number")
    return Record(
        kwargs={},
        secrets=[household.household_no, *[p.name for p in people], number],
        body={
            "client_token": "probe",
            "id_number": number,
            "programmes": ["dibao"],
            "authorisations": [],
            "commitment": True,
        },
        unchanged=lambda: not Application.objects.exists(),
        readers=frozenset({Role.WINDOW_CLERK, Role.CASEWORKER}),
    )


def _review_record(town: str) -> Record:
    """A review (复核) of an approved case of a household of ``town``."""
    from dajiuzhu.reviews.models import Review
    from tests.factories.reviews import approved_case

    household, people = make_household(town)
    case = approved_case(household)
    review = Review.objects.create(
        case=case, due_month="2025-12", basis="irregular", interval_months=6
    )
    return Record(
        kwargs={"review_id": review.pk, "action": "confirm"},
        secrets=[household.household_no, *[p.name for p in people]],
        body={"outcome": "stop", "reasons": "越权", "findings": "越权"},
        unchanged=lambda: Review.objects.get(pk=review.pk).status == "pending",
    )


PROBES: dict[str, Callable[[str], Record]] = {
    "report": _report_record,
    "candidate_list": _candidate_record,
    "candidate": _candidate_one_record,
    "batch": _batch_record,
    "delivery": _delivery_record,
    "shared_rows": _shared_rows_record,
    "household": _household_record,
    "household_list": _household_record,
    "person": _household_record,
    "person_create": _person_create_record,
    "household_create": _household_create_record,
    "person_lookup": _lookup_record,
    "warning": _warning_record,
    "warning_list": _warning_record,
    "finding": _finding_record,
    "finding_list": _finding_record,
    "sample": _sample_record,
    "sample_list": _sample_record,
    "complaint": _complaint_record,
    "complaint_list": _complaint_record,
    "care_alarm": _care_record,
    "care_alarm_list": _care_record,
    "care_visit": _care_record,
    "care_person": _care_record,
    "case": _case_record,
    "case_list": _case_record,
    "intake": _intake_record,
    "roster": _roster_record,
    "roster_list": _roster_record,
    "review": _review_record,
    "review_list": _review_record,
}
# Kinds that are not about a record in someone's scope.
UNSCOPED = {"none", "self"}
# Kinds answered with a (possibly empty) list rather than 403/404 to a user of another scope.
LIST_KINDS = {
    "household_list",
    "candidate_list",
    "warning_list",
    "shared_rows",
    "finding_list",
    "sample_list",
    "complaint_list",
    "care_alarm_list",
    "case_list",
    "roster_list",
    "review_list",
}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("api/"):
                continue  # the API is checked through its OpenAPI document below
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _page_url(route: str, kwargs: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)


def _pages():
    return [
        (route, p)
        for route, p in _walk(get_resolver().url_patterns)
        if not route.startswith("static/")
    ]


SCHEMA = api.get_openapi_schema()  # built once: it takes a second


def _operations():
    for path, methods in SCHEMA["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def test_every_page_is_marked():
    unmarked = [route for route, p in _pages() if not hasattr(p.callback, "personal_data")]
    assert unmarked == [], f"pages without a personal-data mark: {unmarked}"


def test_every_api_operation_is_marked():
    unmarked = [
        f"{m.upper()} {path}" for path, m, op in _operations() if "x-personal-data" not in op
    ]
    assert unmarked == [], f"operations without x-personal-data: {unmarked}"


def test_every_kind_has_a_probe():
    kinds = {getattr(p.callback, "personal_data", "none") for _, p in _pages()}
    kinds |= {op.get("x-personal-data", "none") for _, _, op in _operations()}
    missing = kinds - UNSCOPED - set(PROBES)
    assert missing == set(), f"no scoping probe for kinds: {missing}"


# ---------------------------------------------------------------------------------------------
# The walkers: users outside the record's scope, and tokens of departments without an agreement


def _session_walkers(district: str, record: Record) -> list[tuple[str, User]]:
    other = OTHER[district]
    town = f"{other}001"
    community = _ensure_community(town)
    users = []
    for role in sorted(STAFF_ROLES - {Role.ADMIN}):
        scope = community if role == Role.GRID_WORKER else other
        department = "yibao" if role == Role.DATA_STEWARD else None  # 医保 owns the claims
        users.append((f"{role}@{scope}", _walker(f"o_{role}", role, scope, department)))
    users += [
        (f"data_steward@{other}/gongan", _walker("o_gongan", Role.DATA_STEWARD, other, "gongan")),
        (
            f"caseworker@{town}/minzheng",
            _walker("o_town_caseworker", Role.CASEWORKER, town, "minzheng"),
        ),
        ("window_clerk@320481", _walker("ly_clerk", Role.WINDOW_CLERK, "320481")),
        ("resident/minzheng", _walker("resident_mz", Role.RESIDENT, None, "minzheng")),
        (f"admin@{district} (old row)", make_legacy_admin("legacy_admin", district)),
    ]
    users += [(f"{u.role}@{u.scope_id}/{u.department_id}", u) for u in record.outsiders]
    return users


TOKEN_DEPARTMENTS = ("canlian", "jiaojing")  # neither owns nor has agreed to read the probes'


def _token_walkers() -> list[tuple[str, Client]]:
    from dajiuzhu.core.services import api_token_create

    out = []
    for department in TOKEN_DEPARTMENTS:
        _token, clear = api_token_create(actor=None, department_code=department, name="probe")
        out.append((f"token/{department}", Client(HTTP_AUTHORIZATION=f"Bearer {clear}")))
    return out


def _problems(response, record: Record, echoed: str = "") -> list[str]:
    """Secrets of the record in the response (the caller's own query may be echoed), or a
    change made out of scope."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    body = content.decode(errors="replace")
    found = [f"leaked {s!r}" for s in record.secrets if s != echoed and s in body]
    if not record.unchanged():
        found.append("changed data out of scope")
    return found


def _empty_answer(response) -> bool:
    if response.status_code != 200:
        return True
    body = response.json()
    if isinstance(body, list):
        return body == []
    return body.get("rows") == [] and body.get("total") == 0  # shared rows


PAGE_CASES = [
    (district, route, p.callback.personal_data)
    for district in DISTRICTS
    for route, p in _pages()
    if getattr(p.callback, "personal_data", "none") not in UNSCOPED
]


@pytest.mark.parametrize(("district", "route", "kind"), PAGE_CASES)
def test_pages_refuse_users_outside_the_scope(district, route, kind, db):
    record = PROBES[kind](f"{district}001")
    url = _page_url(route, record.kwargs)
    failures = []
    for label, user in _session_walkers(district, record):
        client = client_for(user)
        query = record.secrets[-1]
        for method, response in (
            ("GET", client.get(url)),
            ("POST", client.post(url, {"q": query})),
        ):
            problems = _problems(response, record, echoed=query if method == "POST" else "")
            status = response.status_code
            if status not in (200, 302, 403, 404, 405):
                problems.append(f"status {status}")
            opened = status == 200 and method == "GET" and kind not in LIST_KINDS
            if opened and user.role not in record.readers:
                problems.append("answered 200 to an outsider")
            redirect = response.get("Location", "")
            elsewhere = not redirect.startswith(("/login/", "/portal/"))
            if status == 302 and elsewhere and user.role not in record.readers:
                problems.append(f"redirected to {redirect}")
            probe_tally.count("cross-scope page requests", problems)
            failures += [f"{method} {url} as {label}: {p}" for p in problems]
    assert failures == []


API_CASES = [
    (district, path, method, op["x-personal-data"])
    for district in DISTRICTS
    for path, method, op in _operations()
    if op.get("x-personal-data") not in UNSCOPED
]


def _multipart(path: str, method: str) -> bool:
    op = SCHEMA["paths"][path][method]
    return "multipart/form-data" in op.get("requestBody", {}).get("content", {})


def _send(
    client,
    method: str,
    url: str,
    body: dict,
    path: str,
    query: dict | None = None,
    upload: bytes = b"claim_id\nC1\n",
):
    if method == "get":
        return client.get(url, query or {})
    if _multipart(path, method):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("rows.csv", upload, content_type="text/csv")
        return client.post(url, {"file": upload})
    return client.generic(
        method.upper(), url, data=json.dumps(body), content_type="application/json"
    )


def _api_url(path: str, kwargs: dict) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(kwargs[m.group(1)]), path)


@pytest.mark.parametrize(("district", "path", "method", "kind"), API_CASES)
def test_api_operations_refuse_users_outside_the_scope(district, path, method, kind, db):
    record = PROBES[kind](f"{district}001")
    url = _api_url(path, record.kwargs)
    walkers = [(label, client_for(u)) for label, u in _session_walkers(district, record)]
    walkers += _token_walkers()
    failures = []
    for label, client in walkers:
        query = {"q": record.secrets[-1], **record.query} if kind in LIST_KINDS else record.query
        response = _send(client, method, url, record.body, path, query, record.upload)
        problems = _problems(response, record)
        status = response.status_code
        if kind in LIST_KINDS and (method == "get" or kind == "shared_rows"):
            if status not in (200, 401, 403) or not _empty_answer(response):
                problems.append(f"status {status} or a non-empty answer")
        elif status not in (401, 403, 404):
            problems.append(f"status {status}")
        category = "cross-department token requests" if label.startswith("token/") else None
        probe_tally.count(category or "cross-scope API requests", problems)
        failures += [f"{method.upper()} {url} as {label}: {p}" for p in problems]
    assert failures == []


@pytest.mark.parametrize(("district", "path", "method", "kind"), API_CASES)
def test_residents_and_anonymous_callers_get_nothing(district, path, method, kind, db):
    record = PROBES[kind](f"{district}001")
    url = _api_url(path, record.kwargs)
    resident = _walker("resident1", Role.RESIDENT, None)
    for client, allowed in ((client_for(resident), (403, 404)), (Client(), (401,))):
        response = _send(client, method, url, record.body, path, record.query, record.upload)
        problems = _problems(response, record)
        if response.status_code not in allowed:
            problems.append(f"status {response.status_code}")
        probe_tally.count("cross-scope API requests", problems)
        assert problems == [], (method, url)


# ---------------------------------------------------------------------------------------------
# An administrator row below city level has no power anywhere: answered exactly as a resident


def _snapshot() -> dict[str, str]:
    """A digest of every row of the platform's tables (what the request could have changed),
    leaving out the audit log (reads are audited), log-in codes and last-use times."""
    skip_models = {"auditevent", "audithead", "otpchallenge"}
    skip_fields = {"last_login", "last_used_at"}
    out = {}
    for model in apps.get_models():
        app = model._meta.app_label
        if app not in {
            "core",
            "registry",
            "exchange",
            "policy",
            "verification",
            "warnings",
            "supervision",
            "care",
            "cases",
        }:
            continue
        if model._meta.model_name in skip_models:
            continue
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip_fields]
        rows = model.objects.order_by("pk").values_list(*names)
        out[model.__name__] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return out


def _admin_world(district: str) -> Record:
    """Records for the administrative operations (tokens, a batch, an agreement)."""
    from dajiuzhu.core.services import api_token_create
    from dajiuzhu.exchange.services import agreement_create

    batch, rows, bad_id = _claims_batch(f"{district}001")
    token, _clear = api_token_create(actor=None, department_code="gongan", name="world")
    staff = make_user(f"staff_{district}", Role.CASEWORKER, district)
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="hukou",
        purpose="warning",
        fields=["person_key", "division_code"],
        scope="预警",
    )
    return Record(
        kwargs={
            "batch_id": batch.pk,
            "token_id": token.pk,
            "user_id": staff.pk,
            "dataset": "hukou",
            "code": "dibao",
            "fmt": "csv",
            "application_no": "SQ20000101000000",
            "case_id": 99999999,
            "month": "2024-03",
        },
        secrets=[bad_id, rows[1]["claim_id"]],
    )


# Bodies of the administrative operations (kind "none"); a new one must be added here.
ADMIN_BODIES = {
    ("post", "/api/v1/divisions"): {
        "parent_code": "320412001",
        "code": "320412001098",
        "name": "越权社区",
    },
    ("post", "/api/v1/tokens"): {"department": "gongan", "name": "越权令牌"},
    ("post", "/api/v1/tokens/{token_id}/revoke"): {},
    ("post", "/api/v1/exchange/batches/{batch_id}/retract"): {"reason": "越权撤回"},
    ("post", "/api/v1/policy/parameters"): {
        "name": "dibao.standard",
        "start": "2030-01-01",
        "value": 9999,
        "reference": "越权",
    },
    ("post", "/api/v1/policy/calculate"): {"members": []},
    ("post", "/api/v1/care/events"): {"event_id": "x", "type": "button", "at": "2024-03-01"},
}
PAGE_FORM = {
    "department": "gongan",
    "name": "越权",
    "parent_code": "320412001",
    "code": "320412001098",
    "consumer": "minzheng",
    "dataset": "hukou",
    "purpose": "warning",
    "fields": "person_key",
    "scope": "越权",
    "reason": "越权撤回",
    "start": "2030-01-01",
    "value": "9999",
    "reference": "越权",
}

# The walks above already meet the district administrator row on every personal-data
# endpoint; these meet it on the others (administration, catalogues, one's own account).
UNSCOPED_API_CASES = [
    (path, method, op.get("x-personal-data", "none"))
    for path, method, op in _operations()
    if op.get("x-personal-data", "none") in UNSCOPED
]
UNSCOPED_PAGE_CASES = [
    (route, getattr(p.callback, "personal_data", "none"))
    for route, p in _pages()
    if getattr(p.callback, "personal_data", "none") in UNSCOPED
]


def test_every_administrative_write_has_a_probe_body():
    writes = {
        (m, path)
        for path, m, op in _operations()
        if m != "get" and op.get("x-personal-data", "none") in UNSCOPED
    }
    assert writes - set(ADMIN_BODIES) == set()


@pytest.mark.parametrize(("path", "method", "kind"), UNSCOPED_API_CASES)
def test_a_district_admin_row_is_answered_as_a_resident_by_the_api(path, method, kind, db):
    district = "320402"
    record = _admin_world(district)
    url = _api_url(path, record.kwargs)
    body = ADMIN_BODIES.get((method, path), record.body)
    legacy = client_for(make_legacy_admin("legacy_admin", district))
    resident = client_for(_walker("resident1", Role.RESIDENT, None))
    before = _snapshot()
    as_admin = _send(legacy, method, url, body, path, record.query)
    after_admin = _snapshot()
    as_resident = _send(resident, method, url, body, path, record.query)
    problems = [] if kind == "self" else _problems(as_admin, record)
    if as_admin.status_code != as_resident.status_code:
        problems.append(f"{as_admin.status_code} (a resident: {as_resident.status_code})")
    if after_admin != before:
        problems.append("changed data")
    probe_tally.count("district administrator requests", problems)
    assert problems == [], (method, url)


@pytest.mark.parametrize(("route", "kind"), UNSCOPED_PAGE_CASES)
def test_a_district_admin_row_is_answered_as_a_resident_on_pages(route, kind, db):
    district = "320402"
    record = _admin_world(district)
    url = _page_url(route, record.kwargs)
    legacy = client_for(make_legacy_admin("legacy_admin", district))
    resident = client_for(_walker("resident1", Role.RESIDENT, None))
    for method in ("get", "post"):
        form = {**PAGE_FORM, "q": record.secrets[-1]} if method == "post" else {}
        before = _snapshot()
        as_admin = getattr(legacy, method)(url, form)
        after_admin = _snapshot()
        as_resident = getattr(resident, method)(url, form)
        problems = _problems(as_admin, record, echoed=form.get("q", ""))
        if as_admin.status_code != as_resident.status_code:
            problems.append(f"{as_admin.status_code} (a resident: {as_resident.status_code})")
        if after_admin != before:
            problems.append("changed data")
        probe_tally.count("district administrator requests", problems)
        assert problems == [], (method, url)


# ---------------------------------------------------------------------------------------------
# Department tokens and stewards against datasets their department has no agreement for


def test_tokens_and_stewards_read_no_dataset_without_an_agreement(db):
    """Every department × every dataset it neither owns nor has an agreement for × every
    purpose: its token is refused, and so is its steward (city-level and district-level)."""
    from dajiuzhu.core.models import Department
    from dajiuzhu.core.services import api_token_create
    from dajiuzhu.exchange.contracts import all_contracts

    contracts = all_contracts()
    failures = []
    for department in Department.objects.order_by("code"):
        _token, clear = api_token_create(actor=None, department_code=department.code, name="p")
        clients = {
            "token": Client(HTTP_AUTHORIZATION=f"Bearer {clear}"),
            "steward@320400": client_for(
                _walker(f"s_{department.code}", Role.DATA_STEWARD, "320400", department.code)
            ),
            "steward@320412": client_for(
                _walker(f"d_{department.code}", Role.DATA_STEWARD, "320412", department.code)
            ),
        }
        for contract in contracts.values():
            if contract.owner == department.code:
                continue
            for n, purpose in enumerate(contract.purposes):
                url = f"/api/v1/exchange/{contract.dataset}/rows?purpose={purpose}"
                for label, client in clients.items():
                    if n and label != "token":
                        continue  # a steward is refused whatever the purpose
                    response = client.get(url)
                    problems = [] if response.status_code == 403 else [str(response.status_code)]
                    probe_tally.count("cross-department token and steward requests", problems)
                    failures += [f"{label} of {department.code} {url}: {p}" for p in problems]
    assert failures == []


# ---------------------------------------------------------------------------------------------
# Every form action with a missing or foreign id answers with a message (never a 500, never a
# message about something else), and changes nothing


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (hidden/text inputs, selects' first option,
    textareas); file inputs are left out."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.forms.append({"action": a.get("action") or "", "fields": {}})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name") and a.get("type") != "file":
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                fields.setdefault(a["name"], a.get("value") or "")
        elif tag == "textarea" and a.get("name"):
            fields.setdefault(a["name"], "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            fields.setdefault(self._select, "")
        elif tag == "option" and self._select and not fields.get(self._select):
            fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


# Form fields naming a record (the division page's parent_code is probed by the named test
# below: its form appears on a town's page only).
ID_FIELDS = {
    "token_id",
    "agreement_id",
    "parent_code",
    "person",
    "assignee",
    "candidate",
    "user_id",
}
BAD_IDS = [None, "", "abc", "0", "-1", "99999999999", "１２"]  # None: the field left out
DATE_MESSAGE = "日期格式应为"


def _form_world():
    """Two districts' worth of records behind every form, and who opens which page."""
    from django.utils import timezone

    from dajiuzhu.core.services import api_token_create
    from dajiuzhu.exchange.services import agreement_create
    from dajiuzhu.policy.models import Candidate, EligibilityRun
    from dajiuzhu.warnings.models import Warning
    from dajiuzhu.warnings.services import scan_run
    from tests.factories.city import YEAR, City

    tn, _tn_people = make_household("320402001")
    wj, wj_people = make_household("320412001")
    api_token_create(actor=None, department_code="gongan", name="form")
    agreement_create(
        actor=None,
        consumer_code="minzheng",
        dataset="hukou",
        purpose="warning",
        fields=["person_key"],
        scope="预警",
    )
    batch, _rows, _bad = _claims_batch("320402001")
    city = City()
    for label, community in (("tn", "320402001001"), ("wj", "320412001001")):
        person = city.person(f"表单{label}", division=community)
        city.accident(person, f"AC-FORM-{label}", f"{YEAR}-05-05", "serious")
    city.load()
    scan_run(year=YEAR, rules=["TRAFFIC"])
    warnings = {w.event_ref: w.pk for w in Warning.objects.all()}
    run = EligibilityRun.objects.create(month="2023-12", started_at=timezone.now(), status="done")
    candidates = {
        town: Candidate.objects.create(
            month="2023-12",
            programme="dibao",
            household_no=f"CF-{town}",
            town_id=town,
            division_code=f"{town}001",
            run=run,
            figures={},
        ).pk
        for town in ("320402001", "320412001")
    }
    _walker("tn_grid_form", Role.GRID_WORKER, "320402001001")
    wj_grid = _walker("wj_grid_form", Role.GRID_WORKER, "320412001001")
    kwargs = {
        "household_id": tn.pk,
        "warning_id": warnings["AC-FORM-tn"],
        "batch_id": batch.pk,
        "report_id": 0,
        "dataset": "medical_claims",
        "code": "dibao",
        "fmt": "csv",
        "user_id": wj_grid.pk,
    }
    foreign_urls = {
        str(tn.pk): str(wj.pk),
        str(warnings["AC-FORM-tn"]): str(warnings["AC-FORM-wj"]),
    }
    foreign_fields = {
        "person": str(wj_people[0].pk),
        "assignee": str(wj_grid.pk),
        "candidate": str(candidates["320412001"]),
        "parent_code": "320412001099",
    }
    return kwargs, foreign_urls, foreign_fields


def _variants(form: dict, url: str, foreign_urls: dict, foreign_fields: dict):
    """(what, url, data) for every missing, malformed or foreign id of a form."""
    action = form["action"] or url
    fields = form["fields"]
    for name in sorted(set(fields) & ID_FIELDS):
        foreign = foreign_fields.get(name)
        for bad in [*BAD_IDS, *([foreign] if foreign else [])]:
            data = {k: v for k, v in fields.items() if k != name}
            if bad is not None:
                data[name] = bad
            yield f"{name}={bad!r}", action, data
    for segment in re.findall(r"/(\d+)/", action):
        for replacement in ("99999999", foreign_urls.get(segment)):
            if replacement:
                bad_url = action.replace(f"/{segment}/", f"/{replacement}/", 1)
                yield f"url {segment}->{replacement}", bad_url, dict(fields)


def _form_pages(kwargs: dict) -> list[str]:
    """Every page (its ids from the form world), and the division page of a town, where the
    form to add a community appears."""
    urls = []
    for route, _p in _pages():
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if not all(n in kwargs for n in names):
            continue
        url = _page_url(route, kwargs)
        if url.endswith(("/retract/", "/resubmit/", "/assign/", "/outcome/", "/close/")):
            continue  # reached through the forms of the pages they belong to
        urls.append(url)
    return [*urls, "/work/admin/divisions/?parent=320402001"]


def test_every_form_action_answers_a_missing_or_foreign_id_with_a_message(db, city_admin):
    kwargs, foreign_urls, foreign_fields = _form_world()
    tn_caseworker = _walker("tn_caseworker_form", Role.CASEWORKER, "320402")
    failures, reached = [], set()
    # the city administrator: missing and malformed ids; the caseworker of 天宁区 also ids of
    # 武进区's records (foreign to them, not to the city)
    for user, foreign in ((city_admin, ({}, {})), (tn_caseworker, (foreign_urls, foreign_fields))):
        client = client_for(user)
        for url in _form_pages(kwargs):
            page = client.get(url)
            if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
                continue
            for form in _forms(page.content.decode()):
                for what, action, data in _variants(form, url, *foreign):
                    before = _snapshot()
                    response = client.post(action, data, follow=True)
                    html = response.content.decode(errors="replace")
                    problems = []
                    if response.status_code not in (200, 403, 404):
                        problems.append(f"status {response.status_code}")
                    if response.status_code == 200 and '<li class="error">' not in html:
                        problems.append("no message")
                    if DATE_MESSAGE in html and "date" not in what:
                        problems.append("a date-format message")
                    if _snapshot() != before:
                        problems.append("changed data")
                    reached.add(what.split("=")[0] if "=" in what else "url id")
                    probe_tally.count("form actions with missing or foreign ids", problems)
                    failures += [f"{user.username} {action} {what}: {p}" for p in problems]
    assert reached == {*ID_FIELDS, "url id"}  # every kind of id was met in some form
    assert failures == [], "\n".join(failures)


def test_the_named_form_actions_answer_the_right_message(city_admin):
    """Issue 11: revoking a token id that does not exist (a 500) and withdrawing an agreement
    with a bad id (日期格式应为YYYY-MM-DD)."""
    client = client_for(city_admin)
    for token_id in ("424242", "abc", ""):
        page = client.post("/work/admin/tokens/", {"action": "revoke", "token_id": token_id})
        assert page.status_code == 200
        assert "未找到该令牌:编号不存在,请刷新页面后重试" in page.content.decode()
    for agreement_id in ("424242", "abc", ""):
        page = client.post(
            "/work/exchange/agreements/",
            {"action": "revoke", "agreement_id": agreement_id},
            follow=True,
        )
        html = page.content.decode()
        assert "未找到该共享协议:编号不存在,请刷新页面后重试" in html
        assert DATE_MESSAGE not in html
    page = client.post(
        "/work/admin/divisions/",
        {"parent_code": "999999999", "code": "999999999001", "name": "x"},
        follow=True,
    )
    assert "上级区划不存在:代码不正确,请从区划列表进入" in page.content.decode()


def test_the_city_scope_covers_every_district(db):
    city = Division.objects.get(code="320400")
    for district in Division.objects.filter(level="district"):
        assert district.code.startswith(city.scope_prefix)
