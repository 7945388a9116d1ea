"""「政策找人」: the rules over the whole population, vectorised, compared with who receives what.

The population and its inputs come from the lake (the 户籍 dataset's current view gives the
households; the other datasets their incomes and assets — see :mod:`dajiuzhu.policy.inputs`),
assembled by DuckDB into columns, and evaluated by OpenFisca in batches of households
(:func:`dajiuzhu.policy.engine.simulate`), never one household at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dajiuzhu.core.errors import UserError
from dajiuzhu.exchange import lake
from dajiuzhu.policy import catalogue, inputs
from dajiuzhu.policy.engine import PolicyError, simulate

KIND_INDEX = {
    k: i
    for i, k in enumerate(
        [
            "none",
            "visual",
            "hearing",
            "speech",
            "physical",
            "intellectual",
            "psychiatric",
            "multiple",
        ]
    )
}
KIND_NAMES = list(KIND_INDEX)
KIND_CASES = " ".join(f"WHEN '{k}' THEN {i}" for k, i in KIND_INDEX.items())
HOUSEHOLD_OUTPUTS = [
    "dibao_standard",
    "income_per_member",
    "assets_within_limits",
    "dibao_eligible",
    "dibao_gradual_exit",
    "dibao_amount",
    "dibian_eligible",
    "zhichu_eligible",
]
PERSON_OUTPUTS = [
    "tekun_eligible",
    "tekun_support",
    "single_person_dibao_eligible",
    "single_person_dibao_amount",
]
# Results of the catalogue a household or person may be a candidate for (in the order of the
# summary), with their labels.
CANDIDATE_RESULTS = ("dibao", "dibian", "zhichu", "tekun", "single_person_dibao")
PROGRAMMES = {
    r.code: r.label for code in CANDIDATE_RESULTS for r in catalogue.results() if r.code == code
}


class PopulationError(UserError, ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Population:
    """Columns for OpenFisca plus what is needed to route candidates."""

    persons: dict[str, np.ndarray]
    households: dict[str, np.ndarray]
    household_index: np.ndarray
    person_key: np.ndarray
    household_no: np.ndarray  # per household
    division_code: np.ndarray  # per household
    receives: dict[str, np.ndarray]  # programme -> bool per household ("hh_") or person ("p_")
    seconds: float = 0.0


@dataclass
class CandidateRow:
    programme: str
    household_no: str
    division_code: str
    person_key: int
    amount: float | None
    figures: dict


@dataclass
class Result:
    month: str
    persons: int
    households: int
    summary: dict[str, dict] = field(default_factory=dict)
    candidates: list[CandidateRow] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def load_population(month: str, *, con=None) -> Population:
    started = time.perf_counter()
    w = inputs.window(month)
    own = con is None
    con = con or lake.connect(memory_limit="4GB")
    try:
        if not lake.active_batches("hukou"):
            raise PopulationError("hukou.unavailable", "尚未加载户籍人口数据,无法开展政策找人")
        end = f"DATE '{w.month_end.isoformat()}'"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE pop AS
            SELECT person_key, household_no, division_code,
                   date_part('year', age({end}, birth_date))::INTEGER AS age
            FROM {lake.current_sql("hukou")}
            WHERE status = 'normal' AND birth_date <= {end}
        """)
        features = inputs.person_features_sql(w, "pop")
        assets = inputs.person_assets_sql(w, "pop")
        con.execute(f"CREATE OR REPLACE TEMP TABLE pf AS {features}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE pa AS {assets}")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE hh AS
            WITH agg AS (
                SELECT household_no, min(division_code) AS division_code,
                       sum(a.deposits) AS financial_assets, sum(a.vehicles) AS vehicles,
                       sum(a.businesses) > 0 AS business,
                       sum(f.medical_monthly) AS rigid_expenditure,
                       bool_or(a.dibao_last_month) AS dibao_last_month,
                       max(a.dibao_amount) AS last_dibao_amount,
                       0 AS unused
                FROM pop p JOIN pf f USING (person_key) JOIN pa a USING (person_key)
                GROUP BY household_no),
            homes AS (
                SELECT p.household_no, count(DISTINCT h.home) AS n
                FROM pop p JOIN (SELECT person_key, unnest(homes) AS home FROM pa) h
                     USING (person_key)
                GROUP BY p.household_no)
            SELECT agg.*, greatest(coalesce(homes.n, 0) - 1, 0) AS extra_homes,
                   dense_rank() OVER (ORDER BY agg.household_no) - 1 AS idx
            FROM agg LEFT JOIN homes USING (household_no)
        """)
        persons = con.execute(f"""
            SELECT p.person_key, hh.idx, p.age, f.wage_income, f.other_income, f.exempt_income,
                   f.disability_grade,
                   CASE f.disability_kind {KIND_CASES}
                        ELSE 0 END AS disability_kind,
                   f.has_serious_illness,
                   (hh.dibao_last_month AND f.first_wage_month >= '{w.recent_month}') AS exemption
            FROM pop p JOIN pf f USING (person_key) JOIN hh USING (household_no)
            ORDER BY hh.idx
        """).fetchnumpy()
        households = con.execute("""
            SELECT household_no, division_code, substr(division_code, 1, 6) AS district_code,
                   financial_assets, vehicles, extra_homes, business, rigid_expenditure,
                   dibao_last_month, last_dibao_amount
            FROM hh ORDER BY idx
        """).fetchnumpy()
        receives = _receiving(con, w)
    finally:
        if own:
            con.close()
    return Population(
        persons={
            "age": persons["age"].astype(np.int64),
            "wage_income": persons["wage_income"].astype(np.float64),
            "other_income": persons["other_income"].astype(np.float64),
            "exempt_income": persons["exempt_income"].astype(np.float64),
            "disability_grade": persons["disability_grade"].astype(np.int64),
            "disability_kind": persons["disability_kind"].astype(np.int64),
            "has_serious_illness": persons["has_serious_illness"].astype(bool),
            "income_exemption_eligible": np.nan_to_num(persons["exemption"].astype(float)) > 0,
        },
        households={
            "district_code": households["district_code"].astype(str),
            "financial_assets": households["financial_assets"].astype(np.float64),
            "non_exempt_vehicles": households["vehicles"].astype(np.int64),
            "extra_residential_units": households["extra_homes"].astype(np.int64),
            "runs_active_business": households["business"].astype(bool),
            "rigid_expenditure": households["rigid_expenditure"].astype(np.float64),
            "dibao_last_month": households["dibao_last_month"].astype(bool),
            "last_dibao_amount": households["last_dibao_amount"].astype(np.float64),
        },
        household_index=persons["idx"].astype(np.int64),
        person_key=persons["person_key"].astype(np.int64),
        household_no=households["household_no"].astype(str),
        division_code=households["division_code"].astype(str),
        receives=receives,
        seconds=time.perf_counter() - started,
    )


def _receiving(con, w: inputs.Window) -> dict[str, np.ndarray]:
    """Who receives what in month M (救助对象, current in M): per household and per person."""
    recipients = lake.current_sql("assistance_recipients")
    programmes = ("dibao", "dibian", "zhichu", "tekun")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE recv AS
        SELECT DISTINCT person_key, household_no, program_code FROM {recipients}
        WHERE start_date <= DATE '{w.month_end.isoformat()}'
          AND (end_date IS NULL OR end_date >= DATE '{w.month_start.isoformat()}')
          AND program_code IN ('dibao', 'dibian', 'zhichu', 'tekun')
    """)
    # A household receives a programme when a record names its number or one of its members.
    flags = ", ".join(f"bool_or(program_code = '{p}') AS {p}" for p in programmes)
    household = con.execute(f"""
        WITH hits AS (
            SELECT household_no, program_code FROM recv
            UNION ALL
            SELECT p.household_no, r.program_code FROM recv r JOIN pop p USING (person_key))
        SELECT hh.idx, {", ".join(f"coalesce(h.{p}, false) AS {p}" for p in programmes)}
        FROM hh LEFT JOIN (SELECT household_no, {flags} FROM hits GROUP BY household_no) h
             USING (household_no)
        ORDER BY hh.idx
    """).fetchnumpy()
    person = con.execute(f"""
        SELECT {", ".join(f"coalesce(r.{p}, false) AS {p}" for p in programmes)}
        FROM pop p JOIN hh USING (household_no)
        LEFT JOIN (SELECT person_key, {flags} FROM recv GROUP BY person_key) r USING (person_key)
        ORDER BY hh.idx
    """).fetchnumpy()
    out = {}
    for programme in programmes:
        out[f"hh_{programme}"] = household[programme].astype(bool)
        out[f"p_{programme}"] = person[programme].astype(bool)
    return out


def standards(system, month: str, districts: np.ndarray) -> dict[str, float]:
    """The 低保 standard of each district for the month (from the rules' parameters)."""
    codes = sorted(set(districts.tolist()))
    result = simulate(
        system,
        month,
        {"age": np.full(len(codes), 30)},
        {"district_code": np.array(codes)},
        np.arange(len(codes)),
        ["dibao_standard"],
    )
    return dict(zip(codes, (float(x) for x in result["dibao_standard"]), strict=True))


def able_supporters(population: Population, standard_per_household: np.ndarray) -> np.ndarray:
    """has_able_supporter: another member of the household is of working age (18–59) and not
    severely disabled, or has an income of their own (wages, employee pension) of at least the
    低保 standard. The data knows no 法定义务人 outside the household; the town checks."""
    p = population.persons
    hidx = population.household_index
    own = p["wage_income"] + p["other_income"]
    able = ((p["age"] >= 18) & (p["age"] <= 59) & ~np.isin(p["disability_grade"], (1, 2))) | (
        own >= standard_per_household[hidx]
    )
    per_household = np.bincount(
        hidx, weights=able.astype(np.int64), minlength=len(population.household_no)
    )
    return (per_household[hidx] - able) > 0


def _batches(population: Population, size: int) -> Iterator[tuple[slice, slice]]:
    """Contiguous household ranges and the matching person ranges (persons are ordered by
    household)."""
    n = len(population.household_no)
    bounds = np.searchsorted(population.household_index, np.arange(0, n + size, size))
    for i, start in enumerate(range(0, n, size)):
        yield slice(start, min(start + size, n)), slice(int(bounds[i]), int(bounds[i + 1]))


def evaluate(
    population: Population, *, month: str, system, batch_households: int = 200_000
) -> dict[str, np.ndarray]:
    """Run the rules in batches; returns household and person output columns."""
    by_district = standards(system, month, population.households["district_code"])
    per_household = (
        np.array([by_district[d] for d in population.households["district_code"]])
        if len(population.household_no)
        else np.zeros(0)
    )
    population.persons["has_able_supporter"] = able_supporters(population, per_household)
    out: dict[str, list[np.ndarray]] = {k: [] for k in HOUSEHOLD_OUTPUTS + PERSON_OUTPUTS}
    for hs, ps in _batches(population, batch_households):
        result = simulate(
            system,
            month,
            {k: v[ps] for k, v in population.persons.items()},
            {k: v[hs] for k, v in population.households.items()},
            population.household_index[ps] - hs.start,
            HOUSEHOLD_OUTPUTS + PERSON_OUTPUTS,
        )
        for k in out:
            out[k].append(np.asarray(result[k]))
    return {k: (np.concatenate(v) if v else np.array([])) for k, v in out.items()}


def find_candidates(
    population: Population, results: dict[str, np.ndarray], *, month: str
) -> Result:
    r, rec = results, population.receives
    hh_n = len(population.household_no)
    size = np.bincount(population.household_index, minlength=hh_n)
    result = Result(month=month, persons=len(population.person_key), households=hh_n)
    # Basic-living cover (低保 or 特困) makes a household no candidate for 低保, 低边 or 支出型.
    basic_hh = rec["hh_dibao"] | rec["hh_tekun"]
    household_rules = {
        "dibao": (r["dibao_eligible"], basic_hh, r["dibao_amount"]),
        "dibian": (
            r["dibian_eligible"] & ~r["dibao_gradual_exit"],
            rec["hh_dibian"] | basic_hh,
            None,
        ),
        "zhichu": (r["zhichu_eligible"], rec["hh_zhichu"] | basic_hh, None),
    }
    for programme, (eligible, receiving, amount) in household_rules.items():
        eligible = eligible.astype(bool)
        missed = eligible & ~receiving
        result.summary[programme] = {
            "programme": programme,
            "label": PROGRAMMES[programme],
            "level": "household",
            "eligible": int(eligible.sum()),
            "receiving": int((eligible & receiving).sum()),
            "candidates": int(missed.sum()),
            "receiving_not_eligible": int(
                (rec["hh_dibao"] & ~eligible & ~r["dibao_gradual_exit"].astype(bool)).sum()
            )
            if programme == "dibao"
            else None,
        }
        for i in np.flatnonzero(missed):
            result.candidates.append(
                CandidateRow(
                    programme=programme,
                    household_no=str(population.household_no[i]),
                    division_code=str(population.division_code[i]),
                    person_key=0,
                    amount=float(amount[i]) if amount is not None else None,
                    figures={
                        "income_per_member": round(float(r["income_per_member"][i]), 2),
                        "dibao_standard": float(r["dibao_standard"][i]),
                        "members": int(size[i]),
                        "financial_assets": round(
                            float(population.households["financial_assets"][i]), 2
                        ),
                    },
                )
            )
    hidx = population.household_index
    # A person already covered for basic living (特困 or 低保, personally or through the
    # household) is not a candidate for the other basic-living programme.
    basic = rec["p_tekun"] | rec["p_dibao"] | rec["hh_dibao"][hidx]
    # (特困 includes the household's asset test: 无生活来源, 民发〔2021〕43号 第六条.)
    person_rules = {
        "tekun": (r["tekun_eligible"], basic, r["tekun_support"]),
        "single_person_dibao": (
            r["single_person_dibao_eligible"],
            basic,
            r["single_person_dibao_amount"],
        ),
    }
    for programme, (eligible, receiving, amount) in person_rules.items():
        eligible = eligible.astype(bool)
        missed = eligible & ~receiving
        result.summary[programme] = {
            "programme": programme,
            "label": PROGRAMMES[programme],
            "level": "person",
            "eligible": int(eligible.sum()),
            "receiving": int((eligible & receiving).sum()),
            "candidates": int(missed.sum()),
            "receiving_not_eligible": None,
        }
        for j in np.flatnonzero(missed):
            i = hidx[j]
            result.candidates.append(
                CandidateRow(
                    programme=programme,
                    household_no=str(population.household_no[i]),
                    division_code=str(population.division_code[i]),
                    person_key=int(population.person_key[j]),
                    amount=float(amount[j]),
                    figures={
                        "age": int(population.persons["age"][j]),
                        "disability_grade": int(population.persons["disability_grade"][j]),
                        "income_per_member": round(float(r["income_per_member"][i]), 2),
                        "dibao_standard": float(r["dibao_standard"][i]),
                    },
                )
            )
    return result


def run(month: str, *, system, batch_households: int = 200_000) -> Result:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        population = load_population(month)
    except PolicyError as exc:  # pragma: no cover - load does not call the engine
        raise PopulationError(exc.code, exc.message_zh) from None
    timings["inputs"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    results = evaluate(population, month=month, system=system, batch_households=batch_households)
    timings["rules"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    result = find_candidates(population, results, month=month)
    timings["compare"] = time.perf_counter() - t2
    result.seconds = {k: round(v, 3) for k, v in timings.items()}
    return result
