"""`dajiuzhu warnings export`: the administrators' CSV, re-identified through the registry."""

from __future__ import annotations

import csv
import json

import pytest

from dajiuzhu.cli import main
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.warnings import services
from dajiuzhu.warnings.models import Warning
from tests.factories.city import EXPECTED, YEAR


def test_the_export_names_person_household_town_event_and_amount(city, capsys, tmp_path):
    services.scan_run(year=YEAR)
    out = tmp_path / "out" / "warnings.csv"
    capsys.readouterr()
    code = main(["warnings", "export", "--year", str(YEAR), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary == {"year": YEAR, "rows": len(EXPECTED), "unknown_persons": 1, "out": str(out)}
    assert "not in the registry" in captured.err
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "rule,id_number,household_no,town_code,event_ref,amount"
    rows = list(csv.DictReader(text.splitlines()))
    p = city.people
    by_person = {r["id_number"]: r for r in rows if r["id_number"]}
    assert by_person[p["med_return"].id_number] == {
        "rule": "MED_RETURN",
        "id_number": p["med_return"].id_number,
        "household_no": p["med_return"].household_no,
        "town_code": "320402001",
        "event_ref": "",
        "amount": "12000.00",
    }
    assert by_person[p["med_fall"].id_number]["amount"] == "60000.00"
    earner = by_person[p["earner"].id_number]
    assert (earner["rule"], earner["household_no"], earner["event_ref"], earner["amount"]) == (
        "EARNER_DEATH",
        "HE1",
        p["earner"].id_number,
        "",
    )
    assert by_person[p["traffic"].id_number]["event_ref"] == "AC-1"
    assert by_person[p["disaster"].id_number]["town_code"] == "320412001"
    assert by_person[p["severe_new"].id_number]["event_ref"] == "CN-1"
    unknown = [r for r in rows if not r["id_number"]]
    assert unknown == [
        {
            "rule": "TRAFFIC",
            "id_number": "",
            "household_no": "",
            "town_code": "",
            "event_ref": "AC-9",
            "amount": "",
        }
    ]
    assert [r["rule"] for r in rows] == sorted(
        (r["rule"] for r in rows),
        key=[
            "MED_RETURN",
            "MED_FALL",
            "TRAFFIC",
            "DISASTER",
            "EARNER_DEATH",
            "NEW_SEVERE_DISABILITY",
        ].index,
    )
    event = AuditEvent.objects.get(action="warning.export")
    assert event.detail == {
        "year": YEAR,
        "rows": len(EXPECTED),
        "unknown_persons": 1,
        "file": "warnings.csv",
    }
    assert event.purpose == "warning"
    assert p["med_return"].id_number not in json.dumps(event.detail)


def test_withdrawn_warnings_are_not_exported(city, tmp_path):
    services.scan_run(year=YEAR)
    Warning.objects.filter(rule="TRAFFIC").update(status="withdrawn")
    summary = services.warnings_export(actor=None, year=YEAR, out=tmp_path / "w.csv")
    assert summary.rows == len(EXPECTED) - 3


def test_only_administrators_may_export(city, tn_clerk, tmp_path):
    with pytest.raises(AccessDenied):
        services.warnings_export(actor=tn_clerk, year=YEAR, out=tmp_path / "w.csv")
    assert not (tmp_path / "w.csv").exists()


def test_an_unwritable_path_gets_a_message(city, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["warnings", "export", "--year", str(YEAR), "--out", str(blocker / "w.csv")])
    assert code == 2
    assert "cannot write" in capsys.readouterr().err


def test_the_export_holds_no_formula(city, tmp_path):
    from tests.spreadsheets import EVIL_CELLS, assert_csv_safe

    services.scan_run(year=YEAR)
    warnings = list(Warning.objects.filter(year=YEAR).exclude(rule="EARNER_DEATH"))
    for warning, value in zip(warnings, EVIL_CELLS, strict=False):  # 户籍 and event text
        Warning.objects.filter(pk=warning.pk).update(household_no=value[:30])
    out = tmp_path / "w.csv"
    services.warnings_export(actor=None, year=YEAR, out=out)
    text = out.read_bytes().decode("utf-8")  # as written: a bare CR must stay in its quotes
    assert assert_csv_safe(text) == 6 * (len(EXPECTED) + 1)
    household_numbers = {r["household_no"] for r in csv.DictReader(text.splitlines())}
    assert "'=1+1" in household_numbers
