"""Schemathesis against the OpenAPI document: no generated request may cause a 5xx, and every
answer must conform to the document — a documented status code, the documented content type
and a body matching the documented schema.

Path parameters are steered half of the time onto records that exist (households, persons,
batches, tokens, a check report, datasets), so that the 200 answers are checked too, not only
the 404s of random ids. ``DAJIUZHU_FUZZ_EXAMPLES`` (default 30) sets the examples per
operation for a longer campaign; the cases are counted (tests/probe_tally.py).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from dajiuzhu.api import api
from dajiuzhu.core.roles import Role
from dajiuzhu.wsgi import application
from tests import probe_tally
from tests.factories.accounts import make_user
from tests.factories.registry import make_household

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application

pytestmark = pytest.mark.xdist_group("fuzz")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Ids of records that exist, filled by the fixture (path parameter name -> values).
KNOWN: dict[str, list] = {}


@schema.hook("map_path_parameters")
def existing_records(context, path_parameters):
    """Replace an even generated id by one of the records that exist (odd ones stay random)."""
    if not path_parameters:
        return path_parameters
    out = dict(path_parameters)
    for name, value in path_parameters.items():
        known = KNOWN.get(name)
        if not known:
            continue
        if isinstance(value, int) and value % 2 == 0:
            out[name] = known[(value // 2) % len(known)]
        elif isinstance(value, str) and len(value) % 2 == 0:
            out[name] = known[len(value) % len(known)]
    return out


@pytest.fixture
def in_process():
    """Keep the test's database connection open across in-process WSGI calls, as Django's own
    test client does (otherwise request_started closes it inside the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _records() -> dict[str, list]:
    from dajiuzhu.core.services import api_token_create
    from dajiuzhu.exchange.services import batch_ingest_rows
    from dajiuzhu.verification.services import authorisation_record, verify
    from tests.factories.exchange import claim

    tn, tn_people = make_household("320402001")
    wj, wj_people = make_household("320412001")
    for person in tn_people:
        authorisation_record(
            actor=None,
            person_id=person.pk,
            signed_on=timezone.localdate(),
            expires_on=timezone.localdate() + timedelta(days=30),
        )
    rows = [claim(1), {**claim(2), "claim_type": "dental"}]
    batch = batch_ingest_rows(actor=None, token=None, dataset="medical_claims", rows=rows).batch
    # (a check needs data that reach its month: the claims are settled in 2023-03)
    report = verify(actor=None, household_id=tn.pk, month="2023-03")
    token, _clear = api_token_create(actor=None, department_code="yibao", name="fuzz")
    return {
        "household_id": [tn.pk, wj.pk],
        "person_id": [p.pk for p in (*tn_people, *wj_people)],
        "report_id": [report.pk],
        "batch_id": [batch.pk],
        "token_id": [token.pk],
        "dataset": ["medical_claims", "hukou", "disposable_income"],
        "code": ["dibao", "tekun"],
    }


@pytest.fixture
def staff_auth(db, in_process):
    """A city administrator's session with a CSRF token, and some records to hit."""
    KNOWN.clear()
    KNOWN.update(_records())
    admin = make_user("fuzz_admin", Role.ADMIN, "320400")
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret
    yield {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf, "Host": "localhost", "Referer": "http://localhost/"},
    }
    KNOWN.clear()


EXAMPLES = int(os.environ.get("DAJIUZHU_FUZZ_EXAMPLES", "30"))
# One test per operation, named after it (schema.parametrize gives every operation the same
# test id, and pytest-xdist then runs only one of them).
OPERATIONS = [op.label for op in (r.ok() for r in schema.get_all_operations())]


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_answer_conforms_to_the_document(label, staff_auth):
    operation = schema.find_operation_by_label(label)
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=staff_auth["headers"], cookies=staff_auth["cookies"])
        problems = ["5xx"] if response.status_code >= 500 else []
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError):  # a 5xx or an answer that does not conform
            problems.append("does not conform")
            raise
        finally:
            probe_tally.count("schemathesis cases", problems)
            probe_tally.COUNTS["schemathesis cases|5xx"] += "5xx" in problems

    run()
