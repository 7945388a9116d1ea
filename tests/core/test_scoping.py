"""Every page and API operation is classified, and every one that shows or changes a person's
data refuses a user outside the record's scope (403/404, and no data in the response).

A new endpoint cannot escape: an unmarked page, an operation without ``x-personal-data`` or a
kind with no probe below fails this test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from dajiuzhu.api import api
from dajiuzhu.core.models import Division
from dajiuzhu.registry.models import Household, Person
from tests.conftest import client_for, make_household, new_id_number


@dataclass
class Record:
    """A record in 天宁区 and what must never leak from it."""

    kwargs: dict
    secrets: list[str]
    body: dict = field(default_factory=dict)
    unchanged: Callable[[], bool] = lambda: True
    query: dict = field(default_factory=dict)
    outsiders: list = field(default_factory=list)  # more users who must be refused


def _household_record() -> Record:
    household, people = make_household("320402001")
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


def _report_record() -> Record:
    from dajiuzhu.verification.services import authorisation_record, verify

    household, people = make_household("320402001")
    for person in people:
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=date.today(),
            expires_on=date.today() + timedelta(days=30),
        )
    report = verify(actor=None, household_id=household.pk, month="2023-08")
    return Record(
        kwargs={"report_id": report.pk}, secrets=[household.household_no, *[p.name for p in people]]
    )


def _candidate_record() -> Record:
    from django.utils import timezone

    from dajiuzhu.policy.models import Candidate, EligibilityRun

    run = EligibilityRun.objects.create(month="2023-12", started_at=timezone.now(), status="done")
    Candidate.objects.create(
        month="2023-12",
        programme="dibao",
        household_no="CAND-TN-0001",
        town_id="320402001",
        division_code="320402001001",
        run=run,
        figures={"income_per_member": 500, "dibao_standard": 1070},
    )
    return Record(kwargs={}, secrets=["CAND-TN-0001"], query={"month": "2023-12"})


def _person_create_record() -> Record:
    make_household("320402001")
    id_number = new_id_number("320402")
    return Record(
        kwargs={},
        secrets=[id_number, "越权新增"],
        body={"id_number": id_number, "name": "越权新增", "hukou_division": "320402001001"},
        unchanged=lambda: not Person.objects.filter(name="越权新增").exists(),
    )


def _household_create_record() -> Record:
    make_household("320402001")
    return Record(
        kwargs={},
        secrets=["HX-OUT-OF-SCOPE"],
        body={"household_no": "HX-OUT-OF-SCOPE", "division": "320402001001"},
        unchanged=lambda: not Household.objects.filter(household_no="HX-OUT-OF-SCOPE").exists(),
    )


def _lookup_record() -> Record:
    _household, people = make_household("320402001")
    from dajiuzhu.core import crypto

    person = people[0]
    number = crypto.decrypt(person.id_number_enc, field="person.id_number")
    return Record(
        kwargs={},
        secrets=[person.name, number[-4:] and number],
        body={"id_number": number, "purpose": "casework"},
    )


def _other_steward():
    from tests.conftest import make_user

    return make_user("steward_canlian", "data_steward", "320400", "canlian")


def _claims_batch():
    from dajiuzhu.exchange.services import batch_ingest_rows
    from tests.exchange.conftest import claim, person_id

    bad_id = person_id(77)[:17] + ("0" if person_id(77)[17] != "0" else "1")
    rows = [claim(901), {**claim(902), "id_number": bad_id}]
    result = batch_ingest_rows(actor=None, token=None, dataset="medical_claims", rows=rows)
    return result.batch, rows, bad_id


def _batch_record() -> Record:
    batch, rows, bad_id = _claims_batch()
    return Record(
        kwargs={"batch_id": batch.pk, "fmt": "xlsx"},
        secrets=[bad_id, rows[1]["claim_id"]],
        body={"reason": "越权撤回"},
        outsiders=[_other_steward()],
        unchanged=lambda: type(batch).objects.get(pk=batch.pk).status == "published",
    )


def _delivery_record() -> Record:
    from dajiuzhu.exchange.models import Batch
    from tests.exchange.conftest import claim

    before = Batch.objects.count()
    return Record(
        kwargs={"dataset": "medical_claims"},
        secrets=["C99999999"],
        body={"rows": [claim(99999999)]},
        outsiders=[_other_steward()],
        unchanged=lambda: Batch.objects.count() == before,
    )


def _shared_rows_record() -> Record:
    _batch, rows, _bad = _claims_batch()
    return Record(
        kwargs={"dataset": "medical_claims"},
        secrets=[rows[0]["claim_id"]],
        query={"purpose": "warning"},
        body={"purpose": "warning", "id_numbers": [rows[0]["id_number"]]},
        outsiders=[_other_steward()],
    )


def _warning_record() -> Record:
    """A warning about a person of 天宁区 (through ingestion and a real scan)."""
    from dajiuzhu.warnings.models import Warning
    from dajiuzhu.warnings.services import scan_run
    from tests.conftest import make_user
    from tests.warnings.conftest import YEAR, City

    city = City()
    person = city.person("越权", household_no="HX-WARN-PROBE")
    city.accident(person, "AC-PROBE", f"{YEAR}-05-05", "serious")
    city.load()
    scan_run(year=YEAR, rules=["TRAFFIC"])
    warning = Warning.objects.get(event_ref="AC-PROBE")
    grid = make_user("probe_grid", "grid_worker", "320402001001")
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


PROBES: dict[str, Callable[[], Record]] = {
    "report": _report_record,
    "candidate_list": _candidate_record,
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
}
# Kinds that are not about a record in someone's scope.
UNSCOPED = {"none", "self"}


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


def _operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
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


def _assert_no_leak(response, record: Record, where: str, echoed: str = "") -> None:
    """No secret of the record in the response (the caller's own query may be echoed)."""
    body = response.content.decode(errors="replace")
    for secret in record.secrets:
        if secret == echoed:
            continue
        assert secret not in body, f"{where} leaked {secret!r}"
    assert record.unchanged(), f"{where} changed data out of scope"


PAGE_CASES = [
    (route, p.callback.personal_data)
    for route, p in _pages()
    if getattr(p.callback, "personal_data", "none") not in UNSCOPED
]


@pytest.mark.parametrize(("route", "kind"), PAGE_CASES)
def test_pages_refuse_users_outside_the_scope(route, kind, wj_caseworker, outsider):
    record = PROBES[kind]()
    url = _page_url(route, record.kwargs)
    for user in (wj_caseworker, outsider, *record.outsiders):
        client = client_for(user)
        get = client.get(url)
        assert get.status_code in (200, 403, 404, 405), (url, get.status_code)
        if get.status_code == 200:
            assert kind.endswith("_list"), f"{url} answered 200 to an outsider"
        _assert_no_leak(get, record, f"GET {url}")
        query = record.secrets[-1]
        post = client.post(url, {"q": query})
        assert post.status_code in (200, 403, 404, 405), (url, post.status_code)
        _assert_no_leak(post, record, f"POST {url}", echoed=query)


API_CASES = [
    (path, method, op["x-personal-data"])
    for path, method, op in _operations()
    if op.get("x-personal-data") not in UNSCOPED
]


def _multipart(path: str, method: str) -> bool:
    op = api.get_openapi_schema()["paths"][path][method]
    return "multipart/form-data" in op.get("requestBody", {}).get("content", {})


def _send(client, method: str, url: str, record: Record, path: str):
    if _multipart(path, method):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("rows.csv", b"claim_id\nC1\n", content_type="text/csv")
        return client.post(url, {"file": upload})
    return client.generic(
        method.upper(), url, data=json.dumps(record.body), content_type="application/json"
    )


@pytest.mark.parametrize(("path", "method", "kind"), API_CASES)
def test_api_operations_refuse_users_outside_the_scope(path, method, kind, wj_caseworker, outsider):
    record = PROBES[kind]()
    url = re.sub(r"{(\w+)}", lambda m: str(record.kwargs[m.group(1)]), path)
    for user in (wj_caseworker, outsider, *record.outsiders):
        client = client_for(user)
        if method == "get":
            query = {"q": record.secrets[-1]} if kind.endswith("_list") else dict(record.query)
            response = client.get(url, query)
        else:
            response = _send(client, method, url, record, path)
        if kind.endswith("_list"):
            assert response.status_code == 200
            assert response.json() == []
        else:
            assert response.status_code in (403, 404), (method, url, response.status_code)
        _assert_no_leak(response, record, f"{method.upper()} {url}")


@pytest.mark.parametrize(("path", "method", "kind"), API_CASES)
def test_residents_and_anonymous_callers_get_nothing(path, method, kind, db):
    from django.test import Client

    from dajiuzhu.core.models import User

    record = PROBES[kind]()
    url = re.sub(r"{(\w+)}", lambda m: str(record.kwargs[m.group(1)]), path)
    resident = User.objects.create(username="resident1", role="resident")

    for client, allowed in ((client_for(resident), (403, 404)), (Client(), (401,))):
        if method == "get":
            response = client.get(url, dict(record.query))
        else:
            response = _send(client, method, url, record, path)
        assert response.status_code in allowed, (method, url, response.status_code)
        _assert_no_leak(response, record, f"{method.upper()} {url}")


def test_the_city_scope_covers_every_district(db):
    city = Division.objects.get(code="320400")
    for district in Division.objects.filter(level="district"):
        assert district.code.startswith(city.scope_prefix)
