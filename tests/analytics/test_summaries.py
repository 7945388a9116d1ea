"""Lake summaries: kept by the worker for exactly the published batches, never used when stale,
and giving the same rows — and so the same warnings — as the current views they summarise."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from dajiuzhu.analytics import open_lake, summaries, summary_files
from dajiuzhu.analytics.engine import Lake
from dajiuzhu.cli import main
from dajiuzhu.warnings import scan
from dajiuzhu.warnings.apps import SUMMARY_DATASETS
from tests.factories.city import YEAR, City, build_city


@pytest.fixture
def worker(django_capture_on_commit_callbacks, settings):
    """Run what publication enqueues for the worker (summaries, clustering) as it commits."""
    settings.SUMMARY_REFRESH_DELAY = 0
    return django_capture_on_commit_callbacks


def _rows(lake: Lake, name: str) -> list[dict]:
    spec = summaries.SUMMARIES[name]
    persons = lake.table(spec.dataset).select("person_key").distinct()
    return sorted(
        lake.to_rows(lake.summary(name, persons)),
        key=lambda r: tuple(str(r[c]) for c in spec.order),
    )


def _findings(lake: Lake) -> list[tuple]:
    codes = scan.resolve_rules(None)
    results = scan.compute(lake, year=YEAR, codes=codes, params=scan.parameters(lake, YEAR, codes))
    return sorted(
        (f.rule, f.person_key, f.event_ref, f.household_no, f.division_code, f.fingerprint)
        for r in results
        for f in r.findings
    )


def test_every_summarised_dataset_has_its_publish_hook():
    from dajiuzhu.exchange.hooks import after_commit_hooks
    from dajiuzhu.warnings.apps import on_summarised_batch

    assert set(SUMMARY_DATASETS) == {s.dataset for s in summaries.SUMMARIES.values()}
    for dataset in SUMMARY_DATASETS:
        assert after_commit_hooks(dataset).count(on_summarised_batch) == 1


def test_a_publication_schedules_the_rewrite_a_little_later(
    db, settings, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    settings.SUMMARY_REFRESH_DELAY = 60
    HUEY.flush()
    c = City()
    c.wages(c.person("x", hukou=False), f"{YEAR}-01", 1, "5000.00")
    with django_capture_on_commit_callbacks(execute=True):
        c.load()
    scheduled = [t for t in HUEY.scheduled() if t.name.endswith("refresh_summaries")]
    assert len(scheduled) == 1
    with open_lake("duckdb") as lake:
        assert lake.summary_file("wages_by_year") is None  # not yet: the worker waits
    HUEY.flush()


def test_the_worker_writes_each_summary_for_the_published_batches(db, capsys, worker):
    c = build_city()
    with worker(execute=True):
        c.load()
    with open_lake("duckdb") as lake:
        for name in summaries.SUMMARIES:
            path = lake.summary_file(name)
            assert path is not None and path.suffix == ".arrow", name
    # nothing is stale: optimize has nothing to write
    assert main(["lake", "optimize"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["summaries_written"] == []
    # a summary that went missing is written again by optimize
    for name in summaries.SUMMARIES:
        for path in summaries.summary_dir(name).iterdir():
            path.unlink()
    assert main(["lake", "optimize"]) == 0
    written = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["summaries_written"]
    assert sorted(written) == sorted(summaries.SUMMARIES)


def test_a_summary_file_gives_the_rows_of_the_current_view(db, monkeypatch, worker):
    c = build_city()
    # two employers in one month are summed; a month without wages stays empty (NULL)
    p = c.person("two_jobs", household_no="HJ1")
    c.wages(p, f"{YEAR}-01", 1, "1000.10")
    c.add("wages", id_number=p.id_number, month=f"{YEAR}-01", employer_code="E02", wage="0.05")
    c.wages(p, f"{YEAR}-03", 1, "99999999.99")
    with worker(execute=True):
        c.load()
    with open_lake("duckdb") as lake:
        from_files = {name: _rows(lake, name) for name in summaries.SUMMARIES}
        assert all(lake.summary_file(name) for name in summaries.SUMMARIES)
    monkeypatch.setattr(Lake, "summary_file", lambda self, name: None)
    with open_lake("duckdb") as lake:
        from_views = {name: _rows(lake, name) for name in summaries.SUMMARIES}
    assert from_files == from_views
    mine = [r for r in from_files["wages_by_year"] if r["person_key"] == p.key]
    assert len(mine) == 1 and mine[0]["year"] == YEAR
    assert mine[0]["m01"] == Decimal("1000.15")
    assert mine[0]["m02"] is None
    assert mine[0]["m03"] == Decimal("99999999.99")
    homes = {r["person_key"]: r for r in from_files["hukou_by_person"]}
    assert homes[p.key]["household_no"] == "HJ1"
    assert homes[p.key]["birth_date"] == p.birth


def test_the_scan_finds_the_same_warnings_with_or_without_summaries(db, monkeypatch, worker):
    c = build_city()
    with worker(execute=True):
        c.load()
    with open_lake("duckdb") as lake:
        with_files = _findings(lake)
    monkeypatch.setattr(Lake, "summary_file", lambda self, name: None)
    with open_lake("duckdb") as lake:
        without = _findings(lake)
    assert with_files == without
    assert any(row[0] == "EARNER_DEATH" for row in with_files)


def test_a_stale_summary_is_never_read(db, worker):
    """A wages correction published while the worker has not yet rewritten the summary: the
    scan reads the corrected wages from the current view, not the stale file."""
    c = build_city()
    with worker(execute=True):
        c.load()
    with open_lake("duckdb") as lake:
        before = lake.summary_file("wages_by_year")
        assert before is not None
        assert [r for r in _findings(lake) if r[0] == "EARNER_DEATH"]
    # the spouse's wages corrected upwards: the deceased no longer earned the most (published;
    # the worker has not run yet)
    spouse = c.people["earner_spouse"]
    c.wages(spouse, f"{YEAR - 1}-01", 24, "9000.00")
    c.load()
    with open_lake("duckdb") as lake:
        assert lake.summary_file("wages_by_year") is None
        assert before.exists()  # kept for a while for scans that started before
        assert [r for r in _findings(lake) if r[0] == "EARNER_DEATH"] == []
    assert summaries.refresh("wages_by_year") is True
    with open_lake("duckdb") as lake:
        assert lake.summary_file("wages_by_year") not in (None, before)
        assert [r for r in _findings(lake) if r[0] == "EARNER_DEATH"] == []


def test_a_retracted_wages_batch_makes_the_summary_stale(db, worker):
    from dajiuzhu.exchange.services import batch_retract

    c = City()
    p = c.person("x", birth=date(1980, 1, 1))
    c.wages(p, f"{YEAR}-01", 2, "5000.00")
    with worker(execute=True):
        c.load()
        c.wages(p, f"{YEAR}-03", 1, "7000.00")
        later = c.load()["wages"]
    with open_lake("duckdb") as lake:
        assert [r["m03"] for r in _rows(lake, "wages_by_year")] == [Decimal("7000.00")]
    batch_retract(actor=None, batch_id=later, reason="重复报送")  # the worker has not run yet
    with open_lake("duckdb") as lake:
        assert lake.summary_file("wages_by_year") is None
        rows = _rows(lake, "wages_by_year")
    assert [(r["m01"], r["m02"], r["m03"]) for r in rows] == [
        (Decimal("5000.00"), Decimal("5000.00"), None)
    ]


def test_cents_become_decimals_with_sign_and_nulls():
    cents = pa.array([0, 1, -1, 12345, -999_999_999_999_999, None], pa.int64())
    values = summary_files.decimal_from_cents(cents)
    assert values.type == pa.decimal128(18, 2)
    assert values.to_pylist() == [
        Decimal("0.00"),
        Decimal("0.01"),
        Decimal("-0.01"),
        Decimal("123.45"),
        Decimal("-9999999999999.99"),
        None,
    ]
    assert summary_files.decimal_from_cents(cents.slice(2, 2)).to_pylist() == [
        Decimal("-0.01"),
        Decimal("123.45"),
    ]
