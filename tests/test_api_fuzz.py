"""Schemathesis against the OpenAPI document: no generated request may cause a 5xx."""

from __future__ import annotations

import secrets

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from dajiuzhu.api import api
from dajiuzhu.core.roles import Role
from dajiuzhu.wsgi import application
from tests.conftest import make_household, make_user

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application

pytestmark = pytest.mark.xdist_group("fuzz")


@pytest.fixture
def in_process():
    """Keep the test's database connection open across in-process WSGI calls, as Django's own
    test client does (otherwise request_started closes it inside the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_auth(db, in_process):
    """A city administrator's session with a CSRF token, and some records to hit."""
    make_household("320402001")
    make_household("320412001")
    admin = make_user("fuzz_admin", Role.ADMIN, "320400")
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf, "Host": "localhost", "Referer": "http://localhost/"},
    }


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_causes_a_server_error(case, staff_auth):
    response = case.call(headers=staff_auth["headers"], cookies=staff_auth["cookies"])
    case.validate_response(response, checks=[not_a_server_error])
