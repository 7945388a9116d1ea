"""Administrators exist only at city level (docs/decisions/0006-city-level-administrators.md):
the CLI and the service refuse a narrower scope, the database refuses such a row, and a row
that predates the rule has no administrative power at all."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from dajiuzhu.cli import main
from dajiuzhu.core.access import is_admin, is_staff_user
from dajiuzhu.core.models import ApiToken, Division, User
from dajiuzhu.core.services import ServiceError, user_create
from dajiuzhu.exchange.models import Batch, SharingAgreement
from dajiuzhu.policy.models import ParameterOverride
from tests.factories.accounts import PASSWORD, client_for
from tests.factories.registry import make_household

ADMIN_SCOPE_MESSAGE = "系统管理员只设在市级:管辖范围必须是常州市(320400),不能是天宁区(320402)"


def test_createuser_refuses_an_administrator_below_city_level(db, capsys):
    argv = ["createuser", "tn_admin", "--role", "admin", "--password", "A-long-enough-pass-1"]
    assert main([*argv, "--scope", "320402"]) == 2
    assert capsys.readouterr().err.strip() == f"error: user.admin_scope: {ADMIN_SCOPE_MESSAGE}"
    assert not User.objects.filter(username="tn_admin").exists()
    assert main([*argv, "--scope", "320400"]) == 0
    assert User.objects.get(username="tn_admin").scope_id == "320400"


def test_user_create_refuses_an_administrator_below_city_level(db):
    for scope in ("320402", "320402001", "320412"):
        with pytest.raises(ServiceError) as info:
            user_create(
                actor=None,
                username=f"admin_{scope}",
                password=PASSWORD,
                role="admin",
                scope_code=scope,
                check_password=False,
            )
        assert (info.value.code, info.value.field) == ("user.admin_scope", "scope")
    assert not User.objects.filter(role="admin").exists()


def test_the_database_refuses_an_administrator_below_city_level(db, city_admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="raw_admin", role="admin", scope_id="320402")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=city_admin.pk).update(scope_id="320412")
    assert User.objects.get(pk=city_admin.pk).scope_id == "320400"


def _quarantined_claims_batch() -> Batch:
    from dajiuzhu.exchange.services import batch_ingest_rows
    from tests.factories.exchange import claim

    rows = [claim(1), {**claim(2), "claim_type": "dental"}]
    return batch_ingest_rows(actor=None, token=None, dataset="medical_claims", rows=rows).batch


def test_an_old_district_administrator_has_no_power_at_all(tn_admin_legacy, city_admin):
    """Every administrative action of the probe, as an administrator of 天宁区 left over from
    before the rule: all refused, nothing changed."""
    assert (is_admin(tn_admin_legacy), is_staff_user(tn_admin_legacy)) == (False, False)
    assert is_admin(city_admin)
    household, _people = make_household("320402001")
    batch = _quarantined_claims_batch()
    before = (
        ApiToken.objects.count(),
        Division.objects.count(),
        SharingAgreement.objects.count(),
        ParameterOverride.objects.count(),
        Batch.objects.count(),
    )
    client = client_for(tn_admin_legacy)
    json = "application/json"
    answers = {
        "quarantine api": client.get(f"/api/v1/exchange/batches/{batch.pk}/quarantine"),
        "quarantine csv": client.get(f"/work/exchange/batches/{batch.pk}/quarantine.csv"),
        "token api": client.post(
            "/api/v1/tokens", {"department": "gongan", "name": "x"}, content_type=json
        ),
        "token page": client.post("/work/admin/tokens/", {"department": "gongan"}),
        "token list": client.get("/api/v1/tokens"),
        "hukou push": client.post(
            "/api/v1/exchange/hukou/rows", {"rows": [{"id_number": "x"}]}, content_type=json
        ),
        "retract api": client.post(
            f"/api/v1/exchange/batches/{batch.pk}/retract", {"reason": "x"}, content_type=json
        ),
        "retract page": client.post(f"/work/exchange/batches/{batch.pk}/retract/", {"reason": "x"}),
        "division api": client.post(
            "/api/v1/divisions",
            {"parent_code": "320412001", "code": "320412001099", "name": "越权社区"},
            content_type=json,
        ),
        "division page": client.post(
            "/work/admin/divisions/",
            {"parent_code": "320412001", "code": "320412001099", "name": "越权社区"},
        ),
        "agreement page": client.post(
            "/work/exchange/agreements/",
            {"consumer": "minzheng", "dataset": "hukou", "purpose": "warning", "scope": "x"},
        ),
        "parameter api": client.post(
            "/api/v1/policy/parameters",
            {"name": "dibao.standard", "start": "2030-01-01", "value": 9, "reference": "x"},
            content_type=json,
        ),
        "parameter page": client.post(
            "/work/policy/parameters/",
            {"name": "dibao.standard", "start": "2030-01-01", "value": "9", "reference": "x"},
        ),
        "household in own district": client.get(f"/api/v1/households/{household.pk}"),
        "shared rows": client.get("/api/v1/exchange/hukou/rows?purpose=verification"),
    }
    statuses = {what: r.status_code for what, r in answers.items()}
    assert statuses == {what: 403 for what in answers}, statuses
    assert (
        ApiToken.objects.count(),
        Division.objects.count(),
        SharingAgreement.objects.count(),
        ParameterOverride.objects.count(),
        Batch.objects.count(),
    ) == before
    assert Batch.objects.get(pk=batch.pk).status == "published"


def test_the_migration_withdraws_administrators_below_city_level(tn_admin_legacy, city_admin):
    from importlib import import_module

    migration = import_module("dajiuzhu.core.migrations.0004_admin_city_wide_otp_clients")
    migration.withdraw_district_admins(apps, None)
    legacy = User.objects.get(pk=tn_admin_legacy.pk)
    assert (legacy.role, legacy.is_active, legacy.has_usable_password()) == (
        "resident",
        False,
        False,
    )
    assert User.objects.get(pk=city_admin.pk).role == "admin"
