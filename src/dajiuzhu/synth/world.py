"""What every chunk shares: geography (districts, towns, synthetic communities), employers,
hospitals, banks, name pools, the calendar — and the counters carried from chunk to chunk so
that codes stay unique."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

import numpy as np
import pyarrow as pa

from dajiuzhu.synth import calibration, codes, names
from dajiuzhu.synth.figures import Figures, figures

# Share of the city's population by district (2020 census, rounded).
DISTRICT_WEIGHT = {
    320402: 0.136,  # 天宁区
    320404: 0.120,  # 钟楼区
    320411: 0.170,  # 新北区
    320412: 0.325,  # 武进区
    320413: 0.103,  # 金坛区
    320481: 0.146,  # 溧阳市
}
# Region codes of people born elsewhere in Jiangsu (and old Changzhou codes).
OTHER_REGIONS = np.array(
    [
        320102, 320106, 320205, 320281, 320282, 320303, 320582, 320583, 320623, 320721,
        320830, 320923, 320981, 321002, 321181, 321183, 321281, 321323, 321324, 320483,
        320482, 320405,
    ],
    dtype=np.int64,
)  # fmt: skip
# Banks present in Changzhou: CNAPS bank-class code and a share of accounts.
BANKS = [
    ("102", 0.14),  # 工商银行
    ("103", 0.16),  # 农业银行
    ("104", 0.10),  # 中国银行
    ("105", 0.13),  # 建设银行
    ("301", 0.06),  # 交通银行
    ("403", 0.08),  # 邮储银行
    ("313", 0.07),  # 江苏银行
    ("314", 0.12),  # 江南农商银行
    ("308", 0.04),  # 招商银行
    ("309", 0.02),  # 兴业银行
    ("310", 0.02),  # 浦发银行
    ("302", 0.02),  # 中信银行
    ("305", 0.01),  # 民生银行
    ("303", 0.01),  # 光大银行
    ("304", 0.01),  # 华夏银行
    ("316", 0.01),  # 南京银行
]
BIRTH_YEARS_BACK = 110  # the ID counters cover births from year - 110


def _divisions() -> list[dict[str, str]]:
    text = resources.files("dajiuzhu.core").joinpath("data/divisions.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, *key): chunk index, stage number, ..."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


@dataclass
class World:
    seed: int
    year: int
    persons: int
    ref: int = 0  # day number of year-12-31
    jan1: int = 0  # day number of year-01-01
    y0: int = 0  # first year of the 24-month window (year - 1)
    month_days: np.ndarray = field(default_factory=lambda: np.zeros(0))  # 25 month starts
    months: pa.Array = field(init=False)  # 24 'YYYY-MM'
    standard: float = 0.0  # 低保 standard for December of year
    figures: Figures = field(init=False)  # the policy figures of December of year
    di_prev: float = 0.0  # disposable income of year - 1
    district_codes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    district_names: list[str] = field(default_factory=list)
    town_codes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    town_names: list[str] = field(default_factory=list)
    town_district: np.ndarray = field(default_factory=lambda: np.zeros(0))
    town_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    comm_codes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    comm_names: list[str] = field(default_factory=list)
    comm_town: np.ndarray = field(default_factory=lambda: np.zeros(0))
    comm_village: np.ndarray = field(default_factory=lambda: np.zeros(0))
    comm_cum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    estates: pa.Array = field(init=False)  # 3 per community
    roads: pa.Array = field(init=False)  # 3 per community
    comm_prefix: pa.Array = field(init=False)  # 常州市XX区XX街道XX社区
    town_prefix: pa.Array = field(init=False)  # 常州市XX区XX镇
    last_names: pa.Array = field(init=False)
    last_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    first_male: pa.Array = field(init=False)
    first_female: pa.Array = field(init=False)
    employer_codes: pa.Array = field(init=False)
    employer_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    employer_count: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hospital_codes: pa.Array = field(init=False)
    hospital_start: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per district
    hospital_count: np.ndarray = field(default_factory=lambda: np.zeros(0))
    health_center: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per town
    pharmacy_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pharmacy_count: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bank_codes: pa.Array = field(init=False)
    bank_p: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def communities_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["code", "name", "town_code"])
        for code, name, town in zip(
            self.comm_codes.tolist(), self.comm_names, self.comm_town.tolist(), strict=True
        ):
            w.writerow([str(code), name, str(int(self.town_codes[town]))])
        return out.getvalue()


@dataclass
class State:
    """Counters carried across chunks (chunks are generated in order)."""

    id_seq: np.ndarray  # (regions, days, 2) persons so far per region, birth day and sex
    id_regions: np.ndarray  # region codes indexing id_seq
    id_day0: int
    hh_seq: np.ndarray  # households so far per town
    counters: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, n: int) -> np.ndarray:
        start = self.counters.get(name, 0)
        self.counters[name] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def build_world(*, seed: int, year: int, persons: int) -> World:
    rng = stream(seed, 10_000)
    w = World(seed=seed, year=year, persons=persons)
    w.ref = codes.day_number(year, 12, 31)
    w.jan1 = codes.day_number(year, 1, 1)
    w.y0 = year - 1
    w.month_days = codes.month_start(np.arange(25), w.y0)
    w.months = pa.array([f"{w.y0 + m // 12}-{m % 12 + 1:02d}" for m in range(24)])
    w.standard = float(calibration.dibao_standard(date(year, 12, 1)))
    w.figures = figures(date(year, 12, 1))
    w.di_prev = float(calibration.disposable_income(year - 1))

    rows = _divisions()
    districts = [r for r in rows if r["level"] == "district"]
    towns = [r for r in rows if r["level"] == "town"]
    w.district_codes = np.array([int(r["code"]) for r in districts], dtype=np.int64)
    w.district_names = [r["name"] for r in districts]
    d_index = {r["code"]: i for i, r in enumerate(districts)}
    w.town_codes = np.array([int(r["code"]) for r in towns], dtype=np.int64)
    w.town_names = [r["name"] for r in towns]
    w.town_district = np.array([d_index[r["parent_code"]] for r in towns], dtype=np.int64)
    tw = np.array(
        [0.03 if "监狱" in r["name"] else 0.6 if r["code"][6:] >= "400" else 1.0 for r in towns]
    )
    dist_w = np.array([DISTRICT_WEIGHT[int(r["code"])] for r in districts])
    per_d = np.bincount(w.town_district, weights=tw, minlength=len(districts))
    w.town_p = tw / per_d[w.town_district] * dist_w[w.town_district]
    w.town_p /= w.town_p.sum()

    # Communities: 10-30 per town; 社区 numbered from 001, 村 from 200.
    comm_codes, comm_names, comm_town, comm_village, comm_w = [], [], [], [], []
    for t, r in enumerate(towns):
        prison = "监狱" in r["name"]
        count = 10 if prison else int(rng.integers(10, 31))
        share = 0.0 if prison else 0.7 if r["name"].endswith("镇") else 0.08
        if r["name"].endswith("区") and not prison:
            share = 0.3
        village = rng.random(count) < share
        village = np.sort(village)  # 社区 first, then 村
        names_t = names.community_names(rng, count, village)
        n_comm = int((~village).sum())
        for k in range(count):
            number = k + 1 if k < n_comm else 200 + (k - n_comm) + 1
            comm_codes.append(int(r["code"]) * 1000 + number)
            comm_names.append(names_t[k])
            comm_town.append(t)
            comm_village.append(bool(village[k]))
        weights = rng.gamma(3.0, 1.0, size=count) * np.where(village, 0.7, 1.0)
        comm_w.append(weights / weights.sum())
    w.comm_codes = np.array(comm_codes, dtype=np.int64)
    w.comm_names = comm_names
    w.comm_town = np.array(comm_town, dtype=np.int64)
    w.comm_village = np.array(comm_village, dtype=bool)
    cum = []
    for t, weights in enumerate(comm_w):
        c = np.cumsum(weights)
        c[-1] = 1.0
        cum.append(t + c)
    w.comm_cum = np.concatenate(cum)
    estates, roads = names.estate_and_road_names(rng, 3 * len(comm_codes))
    w.estates = pa.array(estates)
    w.roads = pa.array(roads)
    dn, tn = w.district_names, w.town_names
    w.comm_prefix = pa.array(
        [
            f"江苏省常州市{dn[w.town_district[t]]}{tn[t]}{cname}"
            for t, cname in zip(comm_town, comm_names, strict=True)
        ]
    )
    w.town_prefix = pa.array(
        [f"江苏省常州市{dn[w.town_district[t]]}{tn[t]}" for t in range(len(towns))]
    )

    pools = names.person_name_pools()
    w.last_names = pa.array(pools["last"])
    w.last_p = pools["last_p"]
    w.first_male = pa.array(pools["first_male"])
    w.first_female = pa.array(pools["first_female"])

    # Employers: about one per 14 employees, per district.
    n_d = len(districts)
    counts = np.maximum(40, np.rint(persons * dist_w * 0.52 / 14)).astype(np.int64)
    w.employer_count = counts
    w.employer_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    emp_div = np.repeat(w.district_codes, counts)
    w.employer_codes = codes.fixed_strings(
        codes.credit_codes(b"91", emp_div, np.arange(counts.sum(), dtype=np.int64))
    )

    # Hospitals: 8-14 per district (the first few large) + a health centre per town;
    # pharmacies about one per 3,500 persons.
    h_codes: list[np.ndarray] = []
    h_start, h_count = [], []
    health_center = np.zeros(len(towns), dtype=np.int64)
    pos = 0
    for d in range(n_d):
        big = int(rng.integers(8, 15))
        towns_d = np.flatnonzero(w.town_district == d)
        seq = np.arange(1, big + len(towns_d) + 1)
        div = codes.digits(np.full(seq.size, w.district_codes[d]), 6)
        h_codes.append(codes.concat_bytes(b"H", div, codes.digits(seq, 5)))
        h_start.append(pos)
        h_count.append(big)
        health_center[towns_d] = pos + big + np.arange(len(towns_d))
        pos += seq.size
    p_counts = np.maximum(20, np.rint(persons * dist_w / 3_500)).astype(np.int64)
    w.pharmacy_start = pos + np.concatenate([[0], np.cumsum(p_counts)[:-1]])
    w.pharmacy_count = p_counts
    for d in range(n_d):
        seq = np.arange(1, p_counts[d] + 1)
        div = codes.digits(np.full(seq.size, w.district_codes[d]), 6)
        h_codes.append(codes.concat_bytes(b"P", div, codes.digits(seq, 5)))
    w.hospital_codes = codes.fixed_strings(np.concatenate(h_codes))
    w.hospital_start = np.array(h_start, dtype=np.int64)
    w.hospital_count = np.array(h_count, dtype=np.int64)
    w.health_center = health_center

    bank_codes = []
    for bank, _ in BANKS:
        body = f"{bank}3040" + "0001"
        check = sum(int(c) * (i % 3 + 1) for i, c in enumerate(body)) % 10
        bank_codes.append(f"{body}{check}")
    w.bank_codes = pa.array(bank_codes)
    p = np.array([share for _, share in BANKS])
    w.bank_p = p / p.sum()
    return w


def new_state(world: World) -> State:
    regions = np.concatenate([world.district_codes, OTHER_REGIONS])
    day0 = codes.day_number(world.year - BIRTH_YEARS_BACK, 1, 1)
    days = world.ref - day0 + 1
    return State(
        id_seq=np.zeros((regions.size, days, 2), dtype=np.int16),
        id_regions=regions,
        id_day0=day0,
        hh_seq=np.zeros(world.town_codes.size, dtype=np.int64),
    )
