import json

from dajiuzhu.cli import main
from dajiuzhu.core.models import ApiToken
from dajiuzhu.core.services import api_token_authenticate, api_token_create
from tests.factories.accounts import client_for


def test_tokens_are_stored_hashed_and_authenticate(db):
    token, clear = api_token_create(actor=None, department_code="yibao", name="医保结算推送")
    stored = ApiToken.objects.get(pk=token.pk)
    assert clear.split("_", 2)[2] not in stored.secret_hash
    assert api_token_authenticate(clear).department_id == "yibao"
    assert api_token_authenticate(clear[:-1] + ("A" if clear[-1] != "A" else "B")) is None
    assert api_token_authenticate("djz_nope_nope") is None


def test_an_administrator_creates_and_revokes_a_token(city_admin):
    client = client_for(city_admin)
    created = client.post(
        "/api/v1/tokens",
        {"department": "canlian", "name": "残联系统"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("djz_")
    revoked = client.post(f"/api/v1/tokens/{body['id']}/revoke")
    assert revoked.status_code == 200
    assert api_token_authenticate(body["token"]) is None


def test_the_cli_prints_a_new_token_once(db, capsys):
    assert main(["token", "--department", "gongan", "--name", "户籍推送"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["department"] == "gongan"
    assert api_token_authenticate(out["token"]).department_id == "gongan"
    assert main(["token", "--department", "nosuch"]) == 2


def test_non_admins_cannot_list_tokens(tn_clerk):
    assert client_for(tn_clerk).get("/api/v1/tokens").status_code == 403
