"""The synthetic-population generator, through its public function (no database)."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dajiuzhu.core.idnumber import parse_id_number
from dajiuzhu.synth.calibration import measure
from dajiuzhu.synth.generator import generate

YEAR = 2023
PERSONS = 20_000

# The contract (shared/contracts/DATASETS.md), written out independently of the generator.
CONTRACT = {
    "hukou": "id_number name sex birth_date household_no relation_to_head division_code "
    "address status",
    "deaths": "id_number death_date reported_at",
    "disability_certificates": "certificate_no id_number disability_kind grade issued_date status",
    "insured_persons": "id_number year insurance_type division_code",
    "medical_claims": "claim_id id_number settlement_date claim_type total_cost fund_paid "
    "critical_illness_paid assistance_paid out_of_pocket in_policy_out_of_pocket hospital_code",
    "wages": "id_number month employer_code wage",
    "unemployment": "id_number registered_date ended_date",
    "pensions": "id_number month pension_type amount",
    "real_estate": "property_id id_number usage area_m2 registered_date status",
    "vehicles": "plate_no id_number vehicle_type registered_date status",
    "businesses": "credit_code id_number role registered_capital status",
    "provident_fund": "id_number month deposit_base balance",
    "deposits": "id_number institution_code as_of_date balance",
    "traffic_accidents": "accident_id id_number accident_date injury",
    "incidents": "incident_id id_number incident_date kind loss_level loss_amount",
    "assistance_recipients": "id_number program_code household_no start_date end_date "
    "monthly_amount",
    "disposable_income": "year amount",
    "assistance_payments": "payment_id id_number program_code household_no month amount paid_date",
}
CONTRACT = {k: v.split() for k, v in CONTRACT.items()}
ENUMS = {
    ("hukou", "sex"): {"M", "F"},
    ("hukou", "relation_to_head"): {
        "head",
        "spouse",
        "child",
        "parent",
        "grandchild",
        "sibling",
        "other",
    },
    ("hukou", "status"): {"normal", "deceased", "moved_out"},
    ("disability_certificates", "disability_kind"): {
        "visual",
        "hearing",
        "speech",
        "physical",
        "intellectual",
        "psychiatric",
        "multiple",
    },
    ("disability_certificates", "status"): {"valid", "revoked"},
    ("insured_persons", "insurance_type"): {"employee", "resident"},
    ("medical_claims", "claim_type"): {"inpatient", "outpatient", "pharmacy"},
    ("pensions", "pension_type"): {"employee", "resident"},
    ("real_estate", "usage"): {"residential", "commercial", "other"},
    ("real_estate", "status"): {"held", "transferred"},
    ("vehicles", "vehicle_type"): {"car", "truck", "motorcycle", "disability_vehicle", "other"},
    ("vehicles", "status"): {"held", "transferred", "scrapped"},
    ("businesses", "role"): {"legal_rep", "shareholder"},
    ("businesses", "status"): {"active", "closed"},
    ("traffic_accidents", "injury"): {"none", "minor", "serious", "fatal"},
    ("incidents", "kind"): {
        "fire",
        "flood",
        "typhoon",
        "earthquake",
        "production_safety",
        "other",
    },
    ("incidents", "loss_level"): {"minor", "serious", "major", "catastrophic"},
}
MONEY = {
    "medical_claims": [
        "total_cost",
        "fund_paid",
        "critical_illness_paid",
        "assistance_paid",
        "out_of_pocket",
        "in_policy_out_of_pocket",
    ],
    "wages": ["wage"],
    "pensions": ["amount"],
    "businesses": ["registered_capital"],
    "provident_fund": ["deposit_base", "balance"],
    "deposits": ["balance"],
    "incidents": ["loss_amount"],
    "assistance_recipients": ["monthly_amount"],
    "disposable_income": ["amount"],
}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("city")
    summary = generate(persons=PERSONS, seed=7, year=YEAR, out_dir=out)
    return out, summary


@pytest.fixture(scope="module")
def con(city):
    out, _ = city
    c = duckdb.connect()
    c.execute("SET enable_progress_bar = false")
    for name in CONTRACT:
        c.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out / name}.parquet')")
    yield c
    c.close()


@pytest.fixture(scope="module")
def figures(city):
    out, _ = city
    return measure(out, YEAR)


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_every_dataset_is_written_with_exactly_the_contract_columns(city):
    out, summary = city
    for name, columns in CONTRACT.items():
        assert pq.read_schema(out / f"{name}.parquet").names == columns, name
        assert summary["rows"][name] == pq.read_metadata(out / f"{name}.parquet").num_rows
        assert summary["rows"][name] > 0, name
    assert summary["rows"]["hukou"] == PERSONS
    assert summary["seconds"] > 0


def test_parquet_types_are_native(city):
    out, _ = city
    claims = pq.read_schema(out / "medical_claims.parquet")
    assert str(claims.field("settlement_date").type) == "date32[day]"
    assert str(claims.field("total_cost").type) == "double"
    assert str(claims.field("id_number").type) == "string"
    assert str(pq.read_schema(out / "wages.parquet").field("month").type) == "string"
    assert str(pq.read_schema(out / "insured_persons.parquet").field("year").type) == "int64"


def test_enumerations_are_those_of_the_contract(con):
    for (table, column), allowed in ENUMS.items():
        values = {r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
        assert values <= allowed, (table, column, values - allowed)
    programs = {
        r[0]
        for r in con.execute("SELECT DISTINCT program_code FROM assistance_recipients").fetchall()
    }
    assert {"tekun", "dibao", "dibian"} <= programs
    assert (
        one(
            con,
            "SELECT count(*) FROM wages WHERE NOT regexp_matches(month, "
            "'^20[0-9]{2}-(0[1-9]|1[0-2])$')",
        )
        == 0
    )


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(persons=4_000, seed=3, year=YEAR, out_dir=a)
    generate(persons=4_000, seed=3, year=YEAR, out_dir=b)
    generate(persons=4_000, seed=4, year=YEAR, out_dir=c)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) == len(CONTRACT) + 1  # + _communities.csv
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "hukou.parquet").read_bytes() != (c / "hukou.parquet").read_bytes()
    assert (a / "medical_claims.parquet").read_bytes() != (
        c / "medical_claims.parquet"
    ).read_bytes()


def test_id_numbers_are_valid_unique_and_agree_with_birth_date_and_sex(con):
    rows = con.execute("SELECT id_number, birth_date, sex, division_code FROM hukou").fetchall()
    assert len({r[0] for r in rows}) == len(rows) == PERSONS
    home = 0
    for number, birth, sex, division in rows:
        parsed = parse_id_number(number, today=date(YEAR, 12, 31))
        assert parsed.birth_date == birth
        assert parsed.sex == sex
        assert parsed.region_code.startswith("32")
        home += parsed.region_code == division[:6]
    assert 0.85 < home / len(rows) < 0.99  # a few were born elsewhere in Jiangsu
    # every other dataset's persons are in the hukou
    for name in CONTRACT:
        if name == "disposable_income":
            continue
        assert (
            one(
                con,
                f"SELECT count(*) FROM {name} WHERE id_number NOT IN (SELECT id_number FROM hukou)",
            )
            == 0
        ), name


def test_every_person_is_in_one_household_with_exactly_one_head(con):
    assert (
        one(
            con,
            "SELECT count(*) FROM (SELECT household_no FROM hukou GROUP BY 1 "
            "HAVING count(*) FILTER (WHERE relation_to_head = 'head') <> 1)",
        )
        == 0
    )
    sizes = con.execute(
        "SELECT avg(n), avg((n = 1)::int) FROM (SELECT count(*) n FROM hukou GROUP BY household_no)"
    ).fetchone()
    assert 2.4 < sizes[0] < 2.8
    assert 0.2 < sizes[1] < 0.3
    assert (
        one(
            con,
            "SELECT count(DISTINCT household_no) FROM hukou WHERE "
            "NOT regexp_matches(division_code, '^[0-9]{9}([0-9]{3})?$')",
        )
        == 0
    )


def test_relations_agree_with_ages(con):
    gaps = con.execute(
        """
        WITH h AS (SELECT household_no, birth_date AS hb FROM hukou
                   WHERE relation_to_head = 'head')
        SELECT relation_to_head,
               min(date_diff('day', m.birth_date, h.hb) / 365.25),
               max(date_diff('day', m.birth_date, h.hb) / 365.25)
        FROM hukou m JOIN h USING (household_no) GROUP BY 1
        """
    ).fetchall()
    gap = {r[0]: (r[1], r[2]) for r in gaps}
    assert gap["spouse"][0] > -16 and gap["spouse"][1] < 16
    assert gap["child"][0] > -57 and gap["child"][1] < -14  # children 15-56 years younger
    assert gap["parent"][0] > 12  # parents older (ages stop at 100)
    assert gap["grandchild"][1] < -34


def test_ageing_city(figures):
    assert 0.19 < figures["aged_60_plus_share"] < 0.25


def test_money_is_non_negative_with_two_decimals_and_claims_are_consistent(con):
    for table, columns in MONEY.items():
        for col in columns:
            bad = one(
                con,
                f"SELECT count(*) FROM {table} WHERE {col} < 0 "
                f"OR abs({col} * 100 - round({col} * 100)) > 1e-6",
            )
            assert bad == 0, (table, col)
    assert (
        one(
            con,
            """SELECT count(*) FROM medical_claims WHERE out_of_pocket > total_cost
        OR in_policy_out_of_pocket > out_of_pocket
        OR abs(total_cost - fund_paid - critical_illness_paid - assistance_paid
               - out_of_pocket) > 0.005""",
        )
        == 0
    )
    assert one(con, "SELECT count(*) - count(DISTINCT claim_id) FROM medical_claims") == 0
    first, last = con.execute(
        "SELECT min(settlement_date), max(settlement_date) FROM medical_claims"
    ).fetchone()
    assert first >= date(YEAR, 1, 1) and last <= date(YEAR, 12, 31)
    per_person = one(con, "SELECT count(*) / (SELECT count(*) FROM hukou) FROM medical_claims")
    assert 11 < per_person < 13


def test_natural_keys_are_unique(con):
    keys = {
        "deaths": "id_number",
        "disability_certificates": "certificate_no",
        "insured_persons": "id_number, year",
        "wages": "id_number, month, employer_code",
        "unemployment": "id_number, registered_date",
        "pensions": "id_number, month",
        "real_estate": "property_id, id_number",
        "vehicles": "plate_no",
        "businesses": "credit_code, id_number",
        "provident_fund": "id_number, month",
        "deposits": "id_number, institution_code, as_of_date",
        "traffic_accidents": "accident_id, id_number",
        "incidents": "incident_id, id_number",
        "assistance_recipients": "id_number, program_code, start_date",
        "disposable_income": "year",
        "assistance_payments": "payment_id",
    }
    for table, key in keys.items():
        assert one(con, f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}") == 0, table


def test_deaths_wages_and_pensions_hang_together(con):
    assert (
        one(
            con,
            f"""SELECT count(*) FROM deaths d JOIN hukou h USING (id_number)
        WHERE h.status <> 'deceased' OR year(d.death_date) <> {YEAR}
        OR d.reported_at < d.death_date""",
        )
        == 0
    )
    assert one(con, "SELECT count(*) FROM hukou WHERE status = 'deceased'") == one(
        con, "SELECT count(*) FROM deaths"
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM wages w JOIN deaths d USING (id_number)
        WHERE w.month > strftime(d.death_date, '%Y-%m')""",
        )
        == 0
    )
    months = con.execute(
        "SELECT count(DISTINCT month), min(month), max(month) FROM wages"
    ).fetchone()
    assert months == (24, f"{YEAR - 1}-01", f"{YEAR}-12")
    full = one(
        con,
        """SELECT avg((n = 24)::int) FROM (SELECT id_number, count(*) n FROM wages
                       GROUP BY 1)""",
    )
    assert full > 0.8  # most employees have all 24 months
    median = one(con, f"SELECT median(wage) FROM wages WHERE month = '{YEAR}-12'")
    assert 5_000 < median < 7_000
    assert one(con, "SELECT count(*) FROM unemployment") > 0
    pension = dict(
        con.execute(
            f"SELECT pension_type, median(amount) FROM pensions WHERE month = '{YEAR}-12' "
            "GROUP BY 1"
        ).fetchall()
    )
    assert 3_000 < pension["employee"] < 5_000
    assert 200 < pension["resident"] < 400


def test_shares_are_realistic(figures):
    assert 0.01 <= figures["share_under_standard"] <= 0.025
    assert figures["share_under_standard"] + 0.01 < figures["share_under_1_5_standard"] < 0.08
    assert 0.05 < figures["disability_share"] < 0.07
    assert 0.01 < figures["severe_share"] < 0.02
    assert 0.005 < figures["death_share"] < 0.009


def test_warnings_are_exercised_at_about_the_city_rate(figures):
    # 1,970 MED_RETURN and 3,280 MED_FALL for 5,000,000 persons: about 8 and 13 here.
    assert 2 <= figures["med_return"] <= 18
    assert 5 <= figures["med_fall"] <= 25
    for code in ("traffic", "disaster", "new_severe_disability", "earner_death"):
        assert figures[code] > 0, code


def test_some_households_the_rules_cover_are_missing_from_the_recipients(figures):
    covered = figures["under_1_5_assets_ok"]
    missing = figures["covered_households_missing"]
    assert 0.05 < missing / covered < 0.3
    assert figures["recipients"] > 0


def test_a_few_recipients_no_longer_qualify(figures):
    assert 0 < figures["listed_not_qualifying"] < 0.2 * figures["under_1_5_assets_ok"]


def test_low_income_households_mostly_pass_the_asset_test(figures):
    assert (
        figures["under_standard_assets_ok"]
        > 0.6 * figures["share_under_standard"] * (figures["living_households"])
    )


def test_disposable_income_rows(con):
    rows = dict(con.execute("SELECT year, amount FROM disposable_income").fetchall())
    assert sorted(rows) == list(range(2019, YEAR))
    assert rows[2020] == 52_080 and rows[2022] == 59_514


def test_communities_file(city):
    out, _ = city
    with (out / "_communities.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == ["code", "name", "town_code"]
    per_town: dict[str, int] = {}
    for r in rows:
        assert re.fullmatch(r"\d{12}", r["code"]) and r["code"].startswith(r["town_code"])
        assert r["name"].endswith(("社区", "村"))
        per_town[r["town_code"]] = per_town.get(r["town_code"], 0) + 1
    assert len(per_town) == 67
    assert all(10 <= n <= 30 for n in per_town.values())
    assert len({r["code"] for r in rows}) == len(rows)


def test_hukou_divisions_are_the_communities(con, city):
    out, _ = city
    con.execute(
        f"CREATE OR REPLACE VIEW comm AS SELECT * FROM read_csv('{out}/_communities.csv', "
        "all_varchar=true)"
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM hukou WHERE length(division_code) = 12
                       AND division_code NOT IN (SELECT code FROM comm)""",
        )
        == 0
    )


def test_csv_format(tmp_path):
    out = tmp_path / "csv"
    summary = generate(persons=1_500, seed=2, year=YEAR, out_dir=out, fmt="csv")
    for name, columns in CONTRACT.items():
        with (out / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            assert next(reader) == columns
            rows = list(reader)
        assert len(rows) == summary["rows"][name]
    with (out / "medical_claims.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["settlement_date"])
    assert all(re.fullmatch(r"\d+(\.\d{1,2})?", r["out_of_pocket"]) for r in rows)
    with (out / "assistance_recipients.csv").open(encoding="utf-8", newline="") as f:
        ends = {r["end_date"] for r in csv.DictReader(f)}
    assert "" in ends  # current records have an empty end_date


def test_xlsx_format_at_small_scale(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "xlsx"
    summary = generate(persons=400, seed=2, year=YEAR, out_dir=out, fmt="xlsx")
    wb = load_workbook(out / "hukou.xlsx", read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == CONTRACT["hukou"]
    assert len(rows) - 1 == summary["rows"]["hukou"] == 400
    assert isinstance(rows[1][0], str) and len(rows[1][0]) == 18
    wb.close()
    wb = load_workbook(out / "disposable_income.xlsx", read_only=True)
    assert list(next(wb.worksheets[0].iter_rows(values_only=True))) == ["year", "amount"]
    wb.close()


def test_xlsx_is_refused_when_a_sheet_would_be_too_long(tmp_path):
    with pytest.raises(ValueError, match="xlsx"):
        generate(persons=200_000, seed=1, year=YEAR, out_dir=tmp_path / "big", fmt="xlsx")
    assert not (tmp_path / "big").exists()


def test_xlsx_is_refused_on_the_exact_count_too(tmp_path, monkeypatch):
    from dajiuzhu.synth import generator

    monkeypatch.setattr(generator, "XLSX_MAX_ROWS", 3_000)
    monkeypatch.setattr(generator, "_ROWS_PER_PERSON", {})
    with pytest.raises(ValueError, match="xlsx refused"):
        generate(persons=500, seed=1, year=YEAR, out_dir=tmp_path / "x", fmt="xlsx")
    assert not list((tmp_path / "x").glob("*.xlsx"))


def test_assistance_records_are_well_formed(con):
    assert (
        one(
            con,
            f"""SELECT count(*) FROM assistance_recipients a JOIN hukou h USING (id_number)
        WHERE a.household_no <> h.household_no OR a.start_date < h.birth_date
        OR a.end_date < a.start_date OR a.start_date > DATE '{YEAR}-12-31'""",
        )
        == 0
    )
    amounts = dict(
        con.execute(
            """SELECT program_code, min(monthly_amount) FROM assistance_recipients
               WHERE end_date IS NULL GROUP BY 1"""
        ).fetchall()
    )
    assert amounts["dibao"] > 0
    assert amounts["tekun"] >= 1.3 * 1_070  # 1.3 S + care
    # and some records have ended
    assert (
        one(
            con,
            """SELECT count(*) FROM assistance_recipients WHERE end_date IS NOT NULL
                       AND program_code = 'dibao'""",
        )
        > 0
    )


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        generate(persons=100, seed=1, year=YEAR, out_dir=tmp_path, fmt="json")
    with pytest.raises(ValueError, match="year"):
        generate(persons=100, seed=1, year=1990, out_dir=tmp_path)


def test_the_known_answer_is_written_on_request_and_changes_no_dataset(tmp_path):
    plain, answered = tmp_path / "plain", tmp_path / "answered"
    generate(persons=2_000, seed=5, year=YEAR, out_dir=plain)
    summary = generate(persons=2_000, seed=5, year=YEAR, out_dir=answered, known_answer=True)
    names = sorted(p.name for p in plain.iterdir())
    assert sorted(p.name for p in answered.iterdir()) == sorted([*names, "_known_answer.parquet"])
    for name in names:
        assert (plain / name).read_bytes() == (answered / name).read_bytes(), name
    answer = pq.read_table(answered / "_known_answer.parquet")
    assert answer.column_names == [
        "household_no",
        "members",
        "income_per_member",
        "assets_within_limits",
        "programme",
        "listed",
        "recorded",
    ]
    assert answer.num_rows == summary["households"]
    rows = answer.to_pylist()
    covered = [r for r in rows if r["programme"] is not None]
    assert summary["stats"]["covered_households"] == len(covered)
    assert summary["stats"]["missed_covered"] == sum(1 for r in covered if not r["listed"])
    assert {r["programme"] for r in covered} <= {"tekun", "dibao", "dibian", "zhichu"}
    # Listed cover is what the records say; a household below the standard is covered.
    assert all(r["recorded"] == r["programme"] for r in covered if r["listed"])
    assert all(
        r["programme"] is not None
        for r in rows
        if r["members"] and r["assets_within_limits"] and r["income_per_member"] < 1070
    )
