"""Targets the synthetic population is calibrated to, and a DuckDB check of written output.

The figures are generation parameters, not policy: the platform's own dated parameters live
in the policy package. Illustrative values are marked as such.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dajiuzhu.synth import figures

if TYPE_CHECKING:
    import duckdb

# Early-warning targets for the full city (5,000,000 persons), per year: the seed's 3,944
# MED_RETURN and 6,563 MED_FALL warnings over about two years.
CITY_PERSONS = 5_000_000
MED_RETURN_PER_PERSON = 1_970 / CITY_PERSONS
MED_FALL_PER_PERSON = 3_280 / CITY_PERSONS
MED_RETURN_THRESHOLD = 10_000.0

# Household income classes (shares of households).
SHARE_UNDER_STANDARD = 0.0145  # per-member counted income < S
SHARE_UNDER_1_5 = 0.028  # S <= per-member income < 1.5 S
SHARE_ZHICHU = 0.0003  # 支出型: moderate income, heavy medical spending
SHARE_STALE = 0.0012  # recipients who no longer qualify
MISS_RATE = 0.15  # households the rules cover but assistance_recipients lacks
ASSET_FAIL_RATE = 0.15  # low-income households failing the asset tests

DEATH_RATE = 0.007
DISABILITY_RATE = 0.06
SEVERE_SHARE = 0.25  # grade 1-2 among certificate holders (1.5 % of persons)

# The policy figures themselves (standards, disposable income) come from the rules' dated
# parameters (dajiuzhu.synth.figures). The generator's own history below covers only what
# the parameters do not: per-capita disposable income of years without a published figure
# (interpolated / extrapolated, illustrative) and 低保 standards before the first published
# one (for the start dates of old records; illustrative).
_DISPOSABLE_INCOME = {2019: 49_800, 2021: 55_900}
_STANDARDS_BEFORE_PARAMETERS = [
    (date(2018, 7, 1), 820),
    (date(2019, 7, 1), 865),
    (date(2020, 7, 1), 910),
    (date(2021, 7, 1), 955),
]


def disposable_income(year: int) -> float:
    published = figures.disposable_income_of(year)
    if published is not None:
        return published
    if year in _DISPOSABLE_INCOME:
        return float(_DISPOSABLE_INCOME[year])
    if year > 2022:
        return float(round(disposable_income(2022) * 1.046 ** (year - 2022)))
    return float(round(_DISPOSABLE_INCOME[2019] / 1.065 ** (2019 - year)))


def dibao_standard(on: date) -> float:
    published = figures.standard_on(on)
    if published is not None:
        return published
    value = 780
    for start, amount in _STANDARDS_BEFORE_PARAMETERS:
        if on >= start:
            value = amount
    return float(value)


_VIEWS = (
    "hukou",
    "deaths",
    "disability_certificates",
    "insured_persons",
    "medical_claims",
    "wages",
    "pensions",
    "real_estate",
    "vehicles",
    "businesses",
    "deposits",
    "traffic_accidents",
    "incidents",
    "assistance_recipients",
)

_PREPARE = """
CREATE TEMP TABLE recip AS
SELECT DISTINCT id_number FROM assistance_recipients, p
WHERE program_code IN ('tekun', 'dibao', 'dibian', 'zhichu')
  AND start_date <= p.y1 AND (end_date IS NULL OR end_date >= p.y0);
CREATE TEMP TABLE oop AS
SELECT id_number, sum(out_of_pocket) AS total FROM medical_claims, p
WHERE settlement_date BETWEEN p.y0 AND p.y1 GROUP BY 1;
CREATE TEMP TABLE ins AS
SELECT DISTINCT id_number FROM insured_persons, p WHERE year = p.yr;
-- households in December of the year: living members; counted income (as the platform
-- counts it) = the year's average wage - min(rate × wage, cap) + the year's average
-- employee pension (resident pensions are exempt)
CREATE TEMP TABLE inc AS
WITH w AS (SELECT id_number, sum(wage) / 12.0 AS wage FROM wages, p
           WHERE month BETWEEN p.mjan AND p.mdec GROUP BY 1),
     q AS (SELECT id_number, sum(amount) / 12.0 AS pension FROM pensions, p
           WHERE pension_type = 'employee' AND month BETWEEN p.mjan AND p.mdec GROUP BY 1)
SELECT h.household_no, count(*) AS n,
       sum(coalesce(w.wage - least(p.cost_rate * w.wage, p.cost_cap), 0)
           + coalesce(q.pension, 0)) AS income
FROM hukou h LEFT JOIN w USING (id_number) LEFT JOIN q USING (id_number), p
WHERE h.status = 'normal' GROUP BY 1;
CREATE TEMP TABLE assets AS
WITH m AS (SELECT id_number, household_no FROM hukou WHERE status = 'normal'),
dep AS (SELECT m.household_no, sum(d.balance) AS fin FROM deposits d
        JOIN m USING (id_number) GROUP BY 1),
veh AS (SELECT DISTINCT m.household_no FROM vehicles v JOIN m USING (id_number)
        WHERE v.status = 'held' AND v.vehicle_type <> 'disability_vehicle'),
est AS (SELECT m.household_no FROM real_estate r JOIN m USING (id_number)
        WHERE r.status = 'held' AND r.usage = 'residential'
        GROUP BY 1 HAVING count(DISTINCT r.property_id) > 1),
bus AS (SELECT DISTINCT m.household_no FROM businesses b JOIN m USING (id_number)
        WHERE b.status = 'active')
SELECT i.household_no, i.n, i.income / i.n AS pm,
       coalesce(dep.fin, 0) / i.n <= p.months * p.s
       AND veh.household_no IS NULL AND est.household_no IS NULL
       AND bus.household_no IS NULL AS assets_ok
FROM inc i CROSS JOIN p LEFT JOIN dep USING (household_no)
     LEFT JOIN veh USING (household_no) LEFT JOIN est USING (household_no)
     LEFT JOIN bus USING (household_no);
"""

_QUERIES = {
    "persons": "SELECT count(*) FROM hukou",
    "households": "SELECT count(DISTINCT household_no) FROM hukou",
    "med_return": "SELECT count(*) FROM oop JOIN recip USING (id_number) WHERE total > 10000",
    "med_fall": """
        SELECT count(*) FROM oop JOIN ins USING (id_number), p
        WHERE total > p.di AND id_number NOT IN (
          SELECT id_number FROM oop JOIN recip USING (id_number) WHERE total > 10000)""",
    "claims_per_person": """
        SELECT (SELECT count(*) FROM medical_claims) / (SELECT count(*) FROM hukou)""",
    "recipients": "SELECT count(*) FROM recip",
    "living_households": "SELECT count(*) FROM assets",
    "share_under_standard": "SELECT avg((pm < p.s)::int) FROM assets, p",
    "share_under_1_5_standard": "SELECT avg((pm < 1.5 * p.s)::int) FROM assets, p",
    "under_standard_assets_ok": "SELECT count(*) FROM assets, p WHERE pm < p.s AND assets_ok",
    "under_1_5_assets_ok": "SELECT count(*) FROM assets, p WHERE pm < 1.5 * p.s AND assets_ok",
    "covered_households_missing": """
        SELECT count(*) FROM assets a, p WHERE pm < 1.5 * p.s AND assets_ok
        AND NOT EXISTS (SELECT 1 FROM hukou h JOIN recip USING (id_number)
                        WHERE h.household_no = a.household_no)""",
    "listed_not_qualifying": """
        SELECT count(*) FROM assets a, p WHERE (pm >= 1.5 * p.s OR NOT assets_ok)
        AND EXISTS (SELECT 1 FROM hukou h JOIN assistance_recipients r USING (id_number)
                    WHERE h.household_no = a.household_no AND r.end_date IS NULL
                    AND r.program_code IN ('dibao', 'dibian'))""",
    "disability_share": """
        SELECT count(DISTINCT id_number) / (SELECT count(*) FROM hukou)
        FROM disability_certificates""",
    "severe_share": """
        SELECT count(DISTINCT id_number) / (SELECT count(*) FROM hukou)
        FROM disability_certificates WHERE grade <= 2 AND status = 'valid'""",
    "death_share": """
        SELECT count(*) / (SELECT count(*) FROM hukou) FROM deaths, p
        WHERE death_date BETWEEN p.y0 AND p.y1""",
    "aged_60_plus_share": """
        SELECT avg((date_diff('year', birth_date, p.y1) >= 60)::int) FROM hukou, p""",
    "traffic": """
        SELECT count(*) FROM (SELECT DISTINCT accident_id, id_number FROM traffic_accidents, p
        WHERE injury IN ('serious', 'fatal') AND accident_date BETWEEN p.y0 AND p.y1)""",
    "disaster": """
        SELECT count(*) FROM (SELECT DISTINCT incident_id, id_number FROM incidents, p
        WHERE loss_level IN ('serious', 'major', 'catastrophic')
        AND incident_date BETWEEN p.y0 AND p.y1)""",
    "new_severe_disability": """
        WITH sev AS (SELECT * FROM disability_certificates
             WHERE grade <= 2 OR (grade = 3 AND disability_kind IN
             ('intellectual', 'psychiatric')))
        SELECT count(DISTINCT a.id_number) FROM sev a, p
        WHERE a.issued_date BETWEEN p.y0 AND p.y1
        AND NOT EXISTS (SELECT 1 FROM sev b WHERE b.id_number = a.id_number
                        AND b.issued_date < a.issued_date)""",
    "earner_death": """
        WITH d AS (
          SELECT h.id_number, h.household_no, x.death_date,
                 strftime(x.death_date - INTERVAL 12 MONTH, '%Y-%m') AS m0,
                 strftime(x.death_date - INTERVAL 1 MONTH, '%Y-%m') AS m1
          FROM deaths x JOIN hukou h USING (id_number), p
          WHERE x.death_date BETWEEN p.y0 AND p.y1
            AND date_part('year', age(x.death_date, h.birth_date)) BETWEEN 18 AND 59),
        hw AS (
          SELECT d.id_number AS dead, m.id_number, sum(w.wage) AS total
          FROM d JOIN hukou m ON m.household_no = d.household_no
          JOIN wages w ON w.id_number = m.id_number AND w.month BETWEEN d.m0 AND d.m1
          GROUP BY 1, 2),
        agg AS (
          SELECT dead, max(total) AS top, sum(total) AS everyone,
                 max(total) FILTER (WHERE id_number = dead) AS own
          FROM hw GROUP BY 1)
        SELECT count(*) FROM d JOIN agg ON agg.dead = d.id_number
        WHERE agg.own > 0 AND agg.own = agg.top AND 2 * agg.own >= agg.everyone
          AND EXISTS (SELECT 1 FROM hukou o WHERE o.household_no = d.household_no
                      AND o.id_number <> d.id_number AND o.status = 'normal')""",
}


def measure(out_dir: Path, year: int) -> dict[str, float | int]:
    """Recompute, from the written files alone (Parquet or CSV), the figures the generator
    is calibrated to: MED_RETURN / MED_FALL counts, households under the 低保 standard in
    December of ``year`` (income counted over the year's 12 months, as the platform does;
    whether they pass the asset test, and whether they are listed),
    disability and death shares, and the other early-warning counts."""
    import duckdb

    out_dir = Path(out_dir)
    f = figures.figures(date(year, 12, 1))
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        for name in _VIEWS:
            parquet, csv = out_dir / f"{name}.parquet", out_dir / f"{name}.csv"
            if parquet.exists():
                rel = con.read_parquet(str(parquet))
            elif csv.exists():
                rel = con.read_csv(str(csv), header=True)
            else:
                raise FileNotFoundError(f"{name} not found in {out_dir} (parquet or csv)")
            rel.create_view(name)
        con.execute(
            "CREATE TEMP TABLE p AS SELECT ?::INTEGER AS yr, ?::DATE AS y0, ?::DATE AS y1, "
            "?::VARCHAR AS mjan, ?::VARCHAR AS mdec, ?::DOUBLE AS s, ?::DOUBLE AS di, "
            "?::DOUBLE AS cost_rate, ?::DOUBLE AS cost_cap, ?::DOUBLE AS months",
            [
                year,
                date(year, 1, 1),
                date(year, 12, 31),
                f"{year}-01",
                f"{year}-12",
                float(dibao_standard(date(year, 12, 1))),
                float(disposable_income(year - 1)),
                f.cost_rate,
                f.cost_cap,
                f.financial_months,
            ],
        )
        con.execute(_PREPARE)
        return {name: _one(con, sql) for name, sql in _QUERIES.items()}
    finally:
        con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    if row is None:  # an aggregate always answers one row
        raise RuntimeError(f"no row from {sql!r}")
    return row[0]
