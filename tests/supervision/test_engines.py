"""The same check expressions on DuckDB and Spark give identical findings."""

from __future__ import annotations

import pytest

from dajiuzhu.analytics import engine as engines
from dajiuzhu.analytics import open_lake
from dajiuzhu.core.services import ServiceError
from dajiuzhu.supervision import running
from dajiuzhu.supervision.checks import CHECK_CODES
from dajiuzhu.supervision.models import Finding
from tests.conftest import require
from tests.supervision.conftest import EXPECTED, MONTH, build_fund_city, found


@pytest.fixture(scope="module", autouse=True)
def _stop_spark():
    yield
    from dajiuzhu.analytics import spark

    spark.stop()


def _findings(engine: str) -> list[tuple]:
    with open_lake(engine) as lake:
        results = running.compute(lake, month=MONTH, codes=list(CHECK_CODES))
    return sorted(
        (
            f.check,
            f.person_key,
            f.program_code,
            f.payment_id,
            f.amount,
            f.division_code,
            tuple(sorted(f.evidence.items())),
        )
        for found_list in results.values()
        for f in found_list
    )


def test_an_unknown_engine_is_a_clear_message(fund_city):
    with pytest.raises(ServiceError) as error:
        running.check_run(month=MONTH, engine="oracle")
    assert error.value.code == "engine.unknown"
    assert not Finding.objects.exists()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_and_duckdb_give_identical_findings(db):
    ok, why = engines.spark_available()
    require(ok, f"Spark engine unavailable: {why}")
    c = build_fund_city()
    c.load()
    # a re-sent payment overlaps an earlier batch: both engines keep the latest version
    c.pay(c.people["duplicate"], "dibao", "700.00", pid="DU-2")
    c.load()
    duck = _findings("duckdb")
    spark = _findings("spark")
    assert spark == duck
    assert len(duck) == len(EXPECTED)
    report = running.check_run(month=MONTH, engine="spark")
    assert {s["engine"] for s in report.checks} == {"spark"}
    expected = {e if e[1] != "duplicate" else (*e[:4], "1500.00") for e in EXPECTED}
    assert found(c, Finding.objects.all()) == expected
