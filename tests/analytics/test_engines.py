"""Engine selection and the current views: the same Ibis expressions on DuckDB and Spark."""

from __future__ import annotations

import pytest

from dajiuzhu.analytics import engine as engines
from dajiuzhu.analytics import open_lake
from dajiuzhu.analytics.engine import EngineError, engine_name
from dajiuzhu.warnings import scan, services
from dajiuzhu.warnings.models import Warning
from tests.conftest import require
from tests.factories.city import EXPECTED, YEAR, City, build_city, found


@pytest.fixture(scope="module", autouse=True)
def _stop_spark():
    """One Spark session for this module (started by the first Spark test), stopped after."""
    yield
    from dajiuzhu.analytics import spark

    spark.stop()


def test_duckdb_is_the_default_and_the_environment_can_choose(monkeypatch):
    monkeypatch.delenv("DAJIUZHU_ENGINE", raising=False)
    assert engine_name() == "duckdb"
    monkeypatch.setenv("DAJIUZHU_ENGINE", "DuckDB")
    assert engine_name() == "duckdb"
    assert engine_name("duckdb") == "duckdb"
    with pytest.raises(EngineError) as error:
        engine_name("oracle")
    assert error.value.code == "engine.unknown"


def test_spark_unavailable_is_a_clear_message(monkeypatch):
    monkeypatch.setattr(engines, "spark_available", lambda: (False, "未找到 Java 运行环境"))
    with pytest.raises(EngineError) as error:
        engine_name("spark")
    assert error.value.message == "Spark 引擎不可用:未找到 Java 运行环境"


def test_the_current_view_keeps_the_latest_version_of_a_key(db):
    c = City()
    p = c.person("x")
    c.claim(p, f"{YEAR}-01-01", "100.00", claim_id="K1")
    c.claim(p, f"{YEAR}-01-02", "200.00", claim_id="K2")
    c.load()
    c.claim(p, f"{YEAR}-01-01", "150.00", claim_id="K1")
    c.load()
    with open_lake("duckdb") as lake:
        claims = lake.table("medical_claims")
        rows = lake.to_rows(claims.select("claim_id", "out_of_pocket").order_by("claim_id"))
        assert [(r["claim_id"], str(r["out_of_pocket"])) for r in rows] == [
            ("K1", "150.00"),
            ("K2", "200.00"),
        ]
        assert lake.scalar(lake.table("deaths").count()) == 0  # no batch yet: empty, typed


def _findings(engine: str) -> list[tuple]:
    with open_lake(engine) as lake:
        codes = scan.resolve_rules(None)
        params = scan.parameters(lake, YEAR, codes)
        results = scan.compute(lake, year=YEAR, codes=codes, params=params)
        restricted = scan.compute(
            lake, year=YEAR, codes=codes, params=params, persons=[results[0].findings[0].person_key]
        )
    rows = sorted(
        (
            f.rule,
            f.person_key,
            f.event_ref,
            f.event_date,
            f.amount,
            f.household_no,
            f.division_code,
            tuple(sorted((k, str(v)) for k, v in f.evidence.items())),
        )
        for r in results
        for f in r.findings
    )
    return rows, sorted((r.rule, len(r.findings)) for r in restricted)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_and_duckdb_give_identical_warnings(
    db, capsys, monkeypatch, settings, django_capture_on_commit_callbacks
):
    ok, why = engines.spark_available()
    require(ok, f"Spark engine unavailable: {why}")
    settings.SUMMARY_REFRESH_DELAY = 0
    c = build_city()
    with django_capture_on_commit_callbacks(execute=True):  # the worker writes the summaries
        c.load()
        # a re-sent claim overlaps an earlier batch: both engines must keep the latest version
        p = c.people["med_fall"]
        c.claim(p, f"{YEAR}-04-01", "45000.00", claim_id=c.claim_ids[p.id_number][0])
        c.load()
    with open_lake("duckdb") as lake:
        assert lake.summary_file("wages_by_year") and lake.summary_file("hukou_by_person")
    duck, duck_restricted = _findings("duckdb")
    spark, spark_restricted = _findings("spark")
    assert spark == duck
    assert spark_restricted == duck_restricted
    # and Spark computes the same from the current views when there are no summary files
    with monkeypatch.context() as m:
        m.setattr(engines.Lake, "summary_file", lambda self, name: None)
        assert _findings("spark") == (duck, duck_restricted)
    assert len(duck) == len(EXPECTED)
    assert any(row[0] == "MED_FALL" and str(row[4]) == "65000.00" for row in duck)
    # and the command records the same warnings with --engine spark
    report = services.scan_run(year=YEAR, engine="spark")
    assert {s["engine"] for s in report.rules} == {"spark"}
    assert found(c, Warning.objects.all()) == EXPECTED
