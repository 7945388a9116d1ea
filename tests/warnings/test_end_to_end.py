"""End to end on a synthetic city: `dajiuzhu synth` data → `dajiuzhu ingest` → `dajiuzhu scan`
→ `dajiuzhu warnings export`, checked against the rules computed independently in plain SQL
over the departments' original files (with clear ID numbers, as RULES.md states them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from dajiuzhu.cli import main

YEAR = 2024
DATASETS = (
    "hukou",
    "deaths",
    "disability_certificates",
    "insured_persons",
    "medical_claims",
    "wages",
    "traffic_accidents",
    "incidents",
    "assistance_recipients",
    "disposable_income",
)

TRUTH_SQL = """
WITH
claims AS (SELECT * FROM read_parquet('{d}/medical_claims.parquet')),
rec AS (SELECT * FROM read_parquet('{d}/assistance_recipients.parquet')),
ins AS (SELECT * FROM read_parquet('{d}/insured_persons.parquet')),
hukou AS (SELECT * FROM read_parquet('{d}/hukou.parquet')),
deaths AS (SELECT * FROM read_parquet('{d}/deaths.parquet')),
wages AS (SELECT * FROM read_parquet('{d}/wages.parquet')),
certs AS (SELECT * FROM read_parquet('{d}/disability_certificates.parquet')),
spend AS (
    SELECT id_number, sum(round(out_of_pocket, 2)::DECIMAL(18,2)) AS s FROM claims
    WHERE year(settlement_date) = {y} GROUP BY 1),
held AS (
    SELECT DISTINCT id_number FROM rec
    WHERE program_code IN ('tekun', 'dibao', 'dibian', 'zhichu')
      AND start_date <= DATE '{y}-12-31' AND (end_date IS NULL OR end_date >= DATE '{y}-01-01')),
med_return AS (SELECT id_number, s FROM spend JOIN held USING (id_number) WHERE s > 10000),
income AS (
    SELECT round(amount, 2)::DECIMAL(18,2) AS amount FROM
    read_parquet('{d}/disposable_income.parquet') WHERE year = {y} - 1),
med_fall AS (
    SELECT id_number, s FROM spend
    WHERE s > (SELECT amount FROM income)
      AND id_number IN (SELECT id_number FROM ins WHERE year = {y})
      AND id_number NOT IN (SELECT id_number FROM med_return)),
dead AS (
    SELECT d.id_number, d.death_date, h.household_no,
           date_diff('year', h.birth_date, d.death_date)
             - CASE WHEN strftime(d.death_date, '%m%d') < strftime(h.birth_date, '%m%d')
                    THEN 1 ELSE 0 END AS age
    FROM deaths d JOIN hukou h USING (id_number) WHERE year(d.death_date) = {y}),
members AS (SELECT id_number AS m, household_no, status FROM hukou WHERE status <> 'moved_out'),
earned AS (
    SELECT d.id_number, m.m, sum(round(w.wage, 2)::DECIMAL(18,2)) AS e
    FROM dead d JOIN members m USING (household_no) JOIN wages w ON w.id_number = m.m
    WHERE strptime(w.month || '-01', '%Y-%m-%d')::DATE
          >= date_trunc('month', d.death_date) - INTERVAL 12 MONTH
      AND strptime(w.month || '-01', '%Y-%m-%d')::DATE < date_trunc('month', d.death_date)
    GROUP BY 1, 2),
earner AS (
    SELECT id_number FROM earned GROUP BY id_number
    HAVING sum(e) > 0
       AND max(CASE WHEN m = id_number THEN e END) >= max(e)
       AND 2 * max(CASE WHEN m = id_number THEN e END) >= sum(e)),
remaining AS (
    SELECT DISTINCT d.id_number FROM dead d JOIN members m USING (household_no)
    LEFT JOIN deaths o ON o.id_number = m.m
    WHERE m.m <> d.id_number
      AND CASE WHEN o.death_date IS NULL THEN m.status <> 'deceased'
               ELSE o.death_date > d.death_date END),
earner_death AS (
    SELECT id_number FROM dead WHERE age BETWEEN 18 AND 59
      AND id_number IN (SELECT id_number FROM earner)
      AND id_number IN (SELECT id_number FROM remaining)),
severe AS (
    SELECT *, row_number() OVER (PARTITION BY id_number ORDER BY issued_date, certificate_no) AS n
    FROM certs
    WHERE grade <= 2 OR (grade = 3 AND disability_kind IN ('intellectual', 'psychiatric')))
SELECT 'MED_RETURN', id_number, '', s::VARCHAR FROM med_return
UNION ALL SELECT 'MED_FALL', id_number, '', s::VARCHAR FROM med_fall
UNION ALL SELECT 'TRAFFIC', id_number, accident_id, ''
    FROM read_parquet('{d}/traffic_accidents.parquet')
    WHERE year(accident_date) = {y} AND injury IN ('serious', 'fatal')
UNION ALL SELECT 'DISASTER', id_number, incident_id, '' FROM read_parquet('{d}/incidents.parquet')
    WHERE year(incident_date) = {y} AND loss_level IN ('serious', 'major', 'catastrophic')
UNION ALL SELECT 'EARNER_DEATH', id_number, id_number, '' FROM earner_death
UNION ALL SELECT 'NEW_SEVERE_DISABILITY', id_number, certificate_no, '' FROM severe
    WHERE n = 1 AND year(issued_date) = {y} AND status = 'valid'
"""


@pytest.mark.slow
def test_a_synthetic_city_from_files_to_exported_warnings(db, capsys, tmp_path):
    from dajiuzhu.synth.generator import generate

    data = tmp_path / "city"
    generate(persons=20_000, seed=11, year=YEAR, out_dir=data)
    for dataset in DATASETS:
        capsys.readouterr()
        assert main(["ingest", dataset, str(data / f"{dataset}.parquet")]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["rejected"] == 0, summary
    capsys.readouterr()
    assert main(["scan", "--year", str(YEAR)]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [s["status"] for s in summaries] == ["ok"] * 6
    out = tmp_path / "warnings.csv"
    assert main(["warnings", "export", "--year", str(YEAR), "--out", str(out)]) == 0
    exported = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))

    truth = duckdb.sql(TRUTH_SQL.format(d=data, y=YEAR)).fetchall()
    assert {(r["rule"], r["id_number"], r["event_ref"], r["amount"]) for r in exported} == set(
        truth
    )
    by_rule = {s["rule"]: s["found"] for s in summaries}
    assert sum(by_rule.values()) == len(exported) > 20
    assert sum(1 for n in by_rule.values() if n) >= 4, by_rule  # a city this small may lack one
    homes = dict(
        duckdb.sql(
            f"SELECT id_number, household_no || '|' || left(division_code, 9) "
            f"FROM read_parquet('{Path(data) / 'hukou.parquet'}')"
        ).fetchall()
    )
    for r in exported:
        assert f"{r['household_no']}|{r['town_code']}" == homes[r["id_number"]]
