"""Ingestion through the `dajiuzhu ingest` command, as a data steward's operator runs it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from dajiuzhu.cli import main
from dajiuzhu.core import crypto
from dajiuzhu.exchange import lake
from dajiuzhu.exchange.models import Batch, BatchStatus, QuarantineRow
from dajiuzhu.registry.models import Person
from tests.factories.exchange import claim, person_id, write_csv, write_parquet, write_xlsx


def ingest(capsys, *args) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    code = main(["ingest", *[str(a) for a in args]])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    summary = json.loads(lines[-1]) if code == 0 and lines else None
    return code, summary, captured.err


def current(dataset: str, columns: str = "*") -> list[tuple]:
    con = lake.connect()
    try:
        return con.execute(
            f"SELECT {columns} FROM {lake.current_sql(dataset)} ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_loads(db, capsys, files, encoding):
    rows = [claim(hospital_code="常州一院") for _ in range(5)]
    path = write_csv(files / "claims.csv", rows, encoding=encoding)
    code, summary, _ = ingest(capsys, "medical_claims", path)
    assert code == 0
    assert summary == {
        "dataset": "medical_claims",
        "batch": summary["batch"],
        "rows": 5,
        "accepted": 5,
        "rejected": 0,
        "seconds": summary["seconds"],
    }
    assert [r[0] for r in current("medical_claims", "hospital_code")] == ["常州一院"] * 5


def test_bad_rows_go_to_quarantine_and_good_rows_load(db, capsys, files):
    good = [claim() for _ in range(3)]
    bad = [
        claim(id_number=person_id(7)[:17] + ("0" if person_id(7)[17] != "0" else "1")),
        claim(settlement_date="2023-02-30"),
        claim(
            settlement_date=(
                timezone.localdate().replace(year=timezone.localdate().year + 1)
            ).isoformat()
        ),
        claim(claim_type="dental"),
        claim(total_cost="-5.00"),
        claim(out_of_pocket="2000.00", total_cost="100.00"),
        claim(claim_id=""),
        claim(fund_paid="12.345"),
    ]
    path = write_csv(files / "claims.csv", good[:2] + bad + good[2:])
    code, summary, _ = ingest(capsys, "medical_claims", path)
    assert code == 0
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (11, 3, 8)
    q = {
        r.row_number: [(p["field"], p["code"]) for p in r.problems]
        for r in QuarantineRow.objects.filter(batch_id=summary["batch"])
    }
    assert q == {
        3: [("id_number", "id_checksum")],
        4: [("settlement_date", "date_format")],
        5: [("settlement_date", "date_future")],
        6: [("claim_type", "enum")],
        7: [("total_cost", "negative"), ("out_of_pocket", "order")],
        8: [("out_of_pocket", "order")],
        9: [("claim_id", "required")],
        10: [("fund_paid", "decimals")],
    }
    message = QuarantineRow.objects.get(batch_id=summary["batch"], row_number=8).problems[0]
    assert message["message"] == "个人自负超过医疗总费用"
    assert sorted(r[0] for r in current("medical_claims", "claim_id")) == sorted(
        r["claim_id"] for r in good
    )


def test_a_header_that_does_not_match_refuses_the_whole_file(db, capsys, files):
    rows = [{**claim(), "patient_name": "张三"}]
    del rows[0]["hospital_code"]
    path = write_csv(files / "claims.csv", rows)
    code, summary, err = ingest(capsys, "medical_claims", path)
    assert code != 0
    assert summary is None
    assert "缺少列:hospital_code" in err
    assert "多余列:patient_name" in err
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.FAILED
    assert current("medical_claims") == []


def test_xlsx_and_parquet_load_like_csv(db, capsys, files):
    rows = [claim() for _ in range(4)]
    code, summary, _ = ingest(capsys, "medical_claims", write_xlsx(files / "c.xlsx", rows))
    assert (code, summary["accepted"]) == (0, 4)
    typed = [
        {
            **claim(),
            "total_cost": 10.5,
            "fund_paid": 5.0,
            "critical_illness_paid": 0.0,
            "assistance_paid": 0.0,
            "out_of_pocket": 5.5,
            "in_policy_out_of_pocket": 5.0,
            "settlement_date": date(2023, 4, 1),
        }
        for _ in range(3)
    ]
    code, summary, _ = ingest(capsys, "medical_claims", write_parquet(files / "c.parquet", typed))
    assert (code, summary["accepted"], summary["rejected"]) == (0, 3, 0)
    assert len(current("medical_claims")) == 7


def test_the_same_file_twice_changes_nothing(db, capsys, files):
    path = write_csv(files / "claims.csv", [claim() for _ in range(3)])
    _, first, _ = ingest(capsys, "medical_claims", path)
    before = current("medical_claims")
    code, second, _ = ingest(capsys, "medical_claims", path)
    assert code == 0
    assert second["duplicate_of"] == first["batch"]
    assert current("medical_claims") == before


def test_a_resent_key_replaces_the_earlier_row_and_retraction_restores_it(db, capsys, files):
    rows = [claim(n) for n in (1, 2, 3)]
    ingest(capsys, "medical_claims", write_csv(files / "a.csv", rows))
    corrected = [claim(2, out_of_pocket="50.00", in_policy_out_of_pocket="40.00"), claim(4)]
    _, second, _ = ingest(capsys, "medical_claims", write_csv(files / "b.csv", corrected))
    assert Batch.objects.get(pk=second["batch"]).overlaps is True
    view = {r[0]: str(r[1]) for r in current("medical_claims", "claim_id, out_of_pocket")}
    assert view == {
        "C00000001": "400.50",
        "C00000002": "50.00",
        "C00000003": "400.50",
        "C00000004": "400.50",
    }
    assert main(["ingest", "medical_claims", str(files / "a.csv")]) == 0  # duplicate: no effect
    from dajiuzhu.exchange.services import batch_retract

    with pytest.raises(Exception) as info:
        batch_retract(actor=None, batch_id=second["batch"], reason="")
    assert info.value.code == "batch.reason_required"
    batch_retract(actor=None, batch_id=second["batch"], reason="医院重传,数据有误")
    view = {r[0]: str(r[1]) for r in current("medical_claims", "claim_id, out_of_pocket")}
    assert view == {"C00000001": "400.50", "C00000002": "400.50", "C00000003": "400.50"}


def test_duplicate_keys_within_a_file_keep_the_last_row(db, capsys, files):
    rows = [claim(1), claim(1, out_of_pocket="10.00", in_policy_out_of_pocket="5.00"), claim(2)]
    _, summary, _ = ingest(capsys, "medical_claims", write_csv(files / "a.csv", rows))
    assert (summary["rows"], summary["accepted"]) == (3, 2)
    view = {r[0]: str(r[1]) for r in current("medical_claims", "claim_id, out_of_pocket")}
    assert view["C00000001"] == "10.00"


def test_the_lake_holds_no_id_number_or_name(db, capsys, files, lake):
    people = [
        {
            "id_number": person_id(n),
            "name": f"湖测{n}",
            "sex": "M" if person_id(n)[16] in "13579" else "F",
            "birth_date": "1975-06-01",
            "household_no": f"HH{n // 2}",
            "relation_to_head": "head",
            "division_code": "320402001001",
            "address": "红梅新村8幢",
            "status": "normal",
        }
        for n in range(6)
    ]
    code, summary, _ = ingest(capsys, "hukou", write_csv(files / "hukou.csv", people))
    assert (code, summary["accepted"]) == (0, 6)
    blob = b"".join(p.read_bytes() for p in Path(lake).rglob("*") if p.is_file())
    for p in people:
        assert p["id_number"].encode() not in blob
        assert p["name"].encode() not in blob
    assert "红梅新村".encode() not in blob
    keys = {r[0] for r in current("hukou", "person_key")}
    assert keys == {crypto.person_key(p["id_number"]) for p in people}


def test_hukou_feeds_the_registry_and_deaths_mark_persons(db, capsys, files):
    people = [
        {
            "id_number": person_id(n),
            "name": f"户籍{n}",
            "sex": "M" if int(person_id(n)[16]) % 2 else "F",
            "birth_date": "1975-06-01",
            "household_no": "HHX",
            "relation_to_head": "head" if n == 0 else "child",
            "division_code": "320402001001",
            "address": "",
            "status": "normal",
        }
        for n in range(3)
    ]
    people.append(
        {**people[0], "id_number": person_id(9), "sex": "F" if int(person_id(9)[16]) % 2 else "M"}
    )
    _code, summary, _ = ingest(capsys, "hukou", write_csv(files / "hukou.csv", people))
    assert (summary["accepted"], summary["rejected"]) == (3, 1)  # sex does not match the number
    assert Person.objects.count() == 3
    assert QuarantineRow.objects.get().problems[0]["code"] == "id_mismatch"
    deaths = [
        {
            "id_number": person_id(1),
            "death_date": "2023-05-01",
            "reported_at": "2023-05-02 09:30:00",
        }
    ]
    _code, summary, _ = ingest(capsys, "deaths", write_csv(files / "deaths.csv", deaths))
    assert summary["accepted"] == 1
    person = Person.objects.get(person_key=crypto.person_key(person_id(1)))
    assert (person.status, person.death_date) == ("deceased", date(2023, 5, 1))


def test_a_crash_mid_file_leaves_only_a_failed_batch(db, capsys, files, lake, monkeypatch):
    from dajiuzhu.exchange import quality

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(quality, "timeliness", boom)
    path = write_csv(files / "claims.csv", [claim() for _ in range(3)] + [claim(claim_type="x")])
    with pytest.raises(RuntimeError):
        main(["ingest", "medical_claims", str(path)])
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.FAILED
    assert "RuntimeError" in batch.error
    assert QuarantineRow.objects.count() == 0
    assert not list(Path(lake).rglob("*.parquet"))
    assert current("medical_claims") == []


def test_an_interrupted_batch_is_recovered_as_failed(db):
    from dajiuzhu.core.models import Department
    from dajiuzhu.exchange.ingest import recover_stale

    stale = Batch.objects.create(
        dataset="wages",
        department=Department.objects.get(code="renshe"),
        submitted_by="cli",
        channel="cli",
        status=BatchStatus.RECEIVING,
        received_at="2023-01-01T00:00:00Z",
        worker_pid=999_999_999,
    )
    assert recover_stale() == 1
    stale.refresh_from_db()
    assert stale.status == BatchStatus.FAILED
    assert "中断" in stale.error


def test_unknown_dataset_and_missing_file_get_messages(db, capsys, files):
    code, _, err = ingest(capsys, "nosuch", write_csv(files / "x.csv", [claim()]))
    assert code == 2 and "未知的数据集" in err
    code, _, err = ingest(capsys, "medical_claims", files / "missing.csv")
    assert code == 2 and "no such file" in err
    (files / "empty.csv").write_text("")
    code, _, err = ingest(capsys, "medical_claims", files / "empty.csv")
    assert code == 2 and "文件为空" in err


def test_quoted_line_breaks_and_commas_survive(db, capsys, files):
    path = files / "claims.csv"
    rows = [claim(1, hospital_code="A,B"), claim(2, hospital_code="第一\n分院")]
    write_csv(path, rows)
    code, summary, _ = ingest(capsys, "medical_claims", path)
    assert (code, summary["accepted"]) == (0, 2)
    assert sorted(r[0] for r in current("medical_claims", "hospital_code")) == ["A,B", "第一\n分院"]


def test_large_batches_are_sorted_by_person_after_publication(
    db, capsys, files, monkeypatch, django_capture_on_commit_callbacks
):
    from dajiuzhu.exchange import lake as lake_module

    monkeypatch.setattr(lake_module, "CLUSTER_MIN_ROWS", 10)
    rows = [claim(n) for n in range(40)]
    with django_capture_on_commit_callbacks(execute=True):
        _, summary, _ = ingest(capsys, "medical_claims", write_csv(files / "c.csv", rows))
    batch = Batch.objects.get(pk=summary["batch"])
    assert batch.clustered is True
    b = batch.pk
    con = lake.connect()
    keys = [
        r[0]
        for r in con.execute(
            f"SELECT person_key FROM read_parquet('{lake.batch_files('medical_claims', b)[0]}')"
        ).fetchall()
    ]
    assert keys == sorted(keys)
    assert len(current("medical_claims")) == 40  # same rows


def test_duplicate_keys_are_found_in_passes_over_a_large_file(db, capsys, files, monkeypatch):
    from dajiuzhu.exchange import quality

    monkeypatch.setattr(quality, "KEYS_PER_PASS", 3)  # many passes over slices of the hashes
    rows = [claim(n) for n in range(1, 11)] + [
        claim(5, out_of_pocket="1.00", in_policy_out_of_pocket="1.00")
    ]
    _, summary, _ = ingest(capsys, "medical_claims", write_csv(files / "a.csv", rows))
    assert (summary["rows"], summary["accepted"]) == (11, 10)
    view = {r[0]: str(r[1]) for r in current("medical_claims", "claim_id, out_of_pocket")}
    assert view["C00000005"] == "1.00"
