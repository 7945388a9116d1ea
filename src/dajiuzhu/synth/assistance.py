"""Assistance of one chunk: who the rules cover in December of ``year`` (the generator's
known answer), who is listed, missed or listed although no longer qualifying, their
amounts, and the ``assistance_recipients`` records — with the figures of the policy
parameters and the programme codes of the catalogue."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.policy import catalogue
from dajiuzhu.policy.variables.common import (
    ADULT_AGE,
    EXTRA_AGE_FROM,
    SEVERE_GRADES,
    TEKUN_AGE_FROM,
    TEKUN_CHILD_UNDER,
    TEKUN_MENTAL_GRADES,
    TEKUN_PHYSICAL_GRADES,
    TEKUN_VISUAL_GRADES,
)
from dajiuzhu.synth import calibration as cal
from dajiuzhu.synth.figures import Figures
from dajiuzhu.synth.income import CLS_A, CLS_B, CLS_C, CLS_X, CLS_Z
from dajiuzhu.synth.people import (
    INTELLECTUAL,
    MULTIPLE,
    NEVER,
    PHYSICAL,
    PSYCHIATRIC,
    VISUAL,
    Chunk,
    date_array,
    group_argmax,
    ids_for,
)

# The programmes whose records the generator writes, in the order of its internal indices;
# each code is read from the catalogue (the one source of programmes).
PROGRAMS = [
    catalogue.programme(code).code
    for code in ("tekun", "dibao", "dibian", "zhichu", "linshi", "yiliao")
]
TEKUN, DIBAO, DIBIAN, ZHICHU, LINSHI, YILIAO = range(6)


def medical_rates(f: Figures) -> np.ndarray:
    """The medical-assistance rate by the generator's programme index."""
    return np.array([f.medical_tekun, f.medical_dibao, f.medical_dibian, f.medical_zhichu, 0, 0])


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


def unable_to_work(ch: Chunk) -> np.ndarray:
    """Per person, 无劳动能力 (民发〔2021〕43号 第五条), as the rules decide it: aged ≥ 60 or
    under 16 in December of year, or a physical or multiple disability of grade 1–2, a visual
    one of grade 1, an intellectual or psychiatric one of grade 1–3 (hearing and speech
    alone do not count)."""
    grade, kind = ch.grade_now, ch.dis_kind
    disabled = grade >= 1
    physical = np.isin(kind, (PHYSICAL, MULTIPLE)) & np.isin(grade, TEKUN_PHYSICAL_GRADES)
    visual = (kind == VISUAL) & np.isin(grade, TEKUN_VISUAL_GRADES)
    mental = np.isin(kind, (INTELLECTUAL, PSYCHIATRIC)) & np.isin(grade, TEKUN_MENTAL_GRADES)
    return (
        (ch.age >= TEKUN_AGE_FROM)
        | (ch.age < TEKUN_CHILD_UNDER)
        | (disabled & (physical | visual | mental))
    )


def eligibility(ch: Chunk, rng: np.random.Generator) -> None:
    """December of year: income per living member, the asset test and what the rules cover;
    then who is listed (most), who is missed, who is listed but no longer qualifies."""
    w = ch.world
    s = w.standard
    f = w.figures
    living = ch.living
    counted = np.where(living, ch.counted_asif, 0.0)
    n_live = np.bincount(ch.hh, weights=living, minlength=ch.H)
    inc = np.bincount(ch.hh, weights=counted, minlength=ch.H)
    pm = np.where(n_live > 0, inc / np.maximum(n_live, 1), np.inf)
    assets_ok = (ch.fin_h / np.maximum(n_live, 1) <= f.financial_months * s) & ~ch.vehicle_h
    assets_ok &= ~ch.extra_units_h & ~ch.business_h
    ch.n_live, ch.inc_h, ch.pm, ch.assets_ok = n_live, inc, pm, assets_ok
    poor = (ch.cls == CLS_A) | (ch.cls == CLS_B)
    # 特困 (民发〔2021〕43号), for a member living alone (nobody in the household to support
    # them): unable to work, counted income below the standard, the assets within the limits.
    single = group_argmax(np.zeros(ch.P), ch, living)
    single = np.where(n_live == 1, single, -1)
    sp = np.maximum(single, 0)
    tekun = (single >= 0) & assets_ok & unable_to_work(ch)[sp] & (counted[sp] < s)
    dibao = ~tekun & (pm < s) & assets_ok
    dibian = ~tekun & (pm >= s) & (pm < f.dibian_multiplier * s) & assets_ok
    zhichu = (ch.cls == CLS_Z) & assets_ok & ~dibao & ~dibian & ~tekun
    program = np.select([tekun, dibao, dibian, zhichu], [TEKUN, DIBAO, DIBIAN, ZHICHU], -1)
    covered = program >= 0
    listed = covered & (rng.random(ch.H) >= cal.MISS_RATE)
    # No longer qualifying: class X (income rose), some asset failures, some ended records.
    stale = (ch.cls == CLS_X) | (poor & ch.asset_fail & (rng.random(ch.H) < 0.12))
    stale &= ~listed & (n_live > 0)
    ended = (ch.cls == CLS_C) & (n_live > 0) & (rng.random(ch.H) < 0.0025)
    ch.program_h = np.where(listed, program, np.where(stale | ended, DIBAO, -1))
    ch.covered, ch.listed, ch.stale, ch.ended = covered, listed, stale, ended
    ch.program_true = program
    # Dates.
    u = rng.random(ch.H)
    hist = w.jan1 - 1 - np.floor(365 * 9 * rng.random(ch.H) ** 1.7).astype(np.int64)
    within = w.jan1 + (rng.random(ch.H) * 330).astype(np.int64)
    start = np.where(u < 0.8, hist, within)
    start = np.where(
        program == ZHICHU, w.jan1 - 365 + (rng.random(ch.H) * 690).astype(np.int64), start
    )
    start = np.where(stale, w.jan1 - rng.integers(400, 3_000, ch.H), start)
    start = np.where(ended, w.jan1 - rng.integers(800, 3_000, ch.H), start)
    end = np.where(
        ended,
        np.where(
            rng.random(ch.H) < 0.3,
            w.jan1 - rng.integers(1, 365, ch.H),
            w.jan1 + rng.integers(0, 300, ch.H),
        ),
        NEVER,
    )
    # Household amounts (yuan/month).
    live_age = ch.age
    bonus = (
        living
        & (
            (live_age >= EXTRA_AGE_FROM)
            | (live_age < ADULT_AGE)
            | np.isin(ch.grade_now, SEVERE_GRADES)
        )
    ).astype(float)
    extra = f.extra_share * s * np.bincount(ch.hh, weights=bonus, minlength=ch.H)
    dibao_amt = np.maximum(s * n_live - inc, f.minimum_share * s * n_live) + extra
    care = np.select(
        [
            (ch.grade_now[sp] == 1) | (ch.age[sp] >= 85),
            (ch.grade_now[sp] == 2) | (ch.age[sp] >= 75),
        ],
        [f.care_none, f.care_partial],
        f.care_full,
    )
    tekun_amt = f.tekun_multiplier * s + care
    rigid = ch.z_oop / 12.0
    zhichu_amt = np.maximum(s * n_live - (inc - rigid), f.minimum_share * s * n_live)
    stale_amt = s * np.maximum(n_live, 1) * rng.uniform(0.15, 0.5, ch.H)
    amount = np.select(
        [program == TEKUN, program == DIBAO, program == DIBIAN, program == ZHICHU],
        [tekun_amt, dibao_amt, 0.0, zhichu_amt],
        0.0,
    )
    amount = np.where(stale | ended, stale_amt, amount)
    ch.amount_h = _round_half_up(amount)
    ch.start_h, ch.end_h = start, end


def known_answer(ch: Chunk) -> pa.Table:
    """The generator's known answer for December of ``year``, one row per household: its
    living members, counted income per member and asset test as the generator built them,
    the programme the rules truly cover it by (特困 before 低保 before 低边 before 支出型;
    null: none), whether that cover is listed in ``assistance_recipients``, and the programme
    of the record written (null: none; a listed household no longer qualifying has one)."""
    program = ch.program_true
    recorded = ch.program_h
    names = pa.array(PROGRAMS)
    return pa.table(
        {
            "household_no": ch.household_no,
            "members": pa.array(ch.n_live.astype(np.int64)),
            "income_per_member": pa.array(np.where(ch.n_live > 0, ch.pm, np.nan), from_pandas=True),
            "assets_within_limits": pa.array(ch.assets_ok),
            "programme": names.take(pa.array(np.where(program >= 0, program, 0), mask=program < 0)),
            "listed": pa.array(ch.listed),
            "recorded": names.take(
                pa.array(np.where(recorded >= 0, recorded, 0), mask=recorded < 0)
            ),
        }
    )


def recipients_rows(ch: Chunk) -> dict[str, np.ndarray]:
    """Person rows of the tekun/dibao/dibian/zhichu records (members alive or who died in
    year; a dead member's record ends on the day of death)."""
    prog_p = ch.program_h[ch.hh]
    member = (prog_p >= 0) & ~ch.moved
    member &= np.where(ch.dead, ch.death_day >= ch.start_h[ch.hh], True)
    member &= (prog_p != TEKUN) | ch.living  # 特困 is the survivor's own status
    hh_all = ch.hh
    start_all = np.maximum(ch.start_h[hh_all], ch.birth)
    member &= start_all <= np.minimum(ch.end_h[hh_all], ch.death_day)  # born before the end
    person = np.flatnonzero(member)
    hh = ch.hh[person]
    start = start_all[person]
    end = np.minimum(ch.end_h[hh], ch.death_day[person])
    # split the household amount equally (cents), the remainder to the first listed member
    cnt = np.bincount(hh, minlength=ch.H)
    cents = (ch.amount_h * 100).astype(np.int64)
    share = cents[hh] // np.maximum(cnt[hh], 1)
    first = np.ones(hh.size, dtype=bool)
    first[1:] = hh[1:] != hh[:-1]
    share = share + np.where(first, cents[hh] - share * cnt[hh], 0)
    return {
        "person": person,
        "program": ch.program_h[hh],
        "start": start,
        "end": end,
        "cents": share,
    }


def assistance_window(ch: Chunk, rows: dict[str, np.ndarray]) -> None:
    """Per person: the medical-assistance rate and the days of year it applies."""
    w = ch.world
    ch.med_rate = np.zeros(ch.P)
    ch.med_from = np.full(ch.P, NEVER, dtype=np.int64)
    ch.med_to = np.zeros(ch.P, dtype=np.int64)
    prog = rows["program"]
    core = prog <= ZHICHU
    lo = np.maximum(rows["start"], w.jan1)
    hi = np.minimum(rows["end"], w.ref)
    active = core & (lo <= hi)
    p = rows["person"][active]
    ch.med_rate[p] = medical_rates(w.figures)[prog[active]]
    ch.med_from[p] = lo[active]
    ch.med_to[p] = hi[active]
    ch.in_r = np.zeros(ch.P, dtype=bool)
    ch.in_r[p] = True


def recipients_table(ch: Chunk, rows: dict[str, np.ndarray], extra: list[dict]) -> pa.Table:
    parts = [rows, *extra]
    person = np.concatenate([r["person"] for r in parts])
    program = np.concatenate([r["program"] for r in parts])
    start = np.concatenate([r["start"] for r in parts])
    end = np.concatenate([r["end"] for r in parts])
    cents = np.concatenate([r["cents"] for r in parts])
    order = np.lexsort((start, program, person))
    person, program, start, end, cents = (
        person[order],
        program[order],
        start[order],
        end[order],
        cents[order],
    )
    # the natural key (id_number, program_code, start_date) must be unique
    key_dup = np.zeros(person.size, dtype=bool)
    key_dup[1:] = (
        (person[1:] == person[:-1]) & (program[1:] == program[:-1]) & (start[1:] == start[:-1])
    )
    keep = ~key_dup
    person, program, start, end, cents = (
        person[keep],
        program[keep],
        start[keep],
        end[keep],
        cents[keep],
    )
    open_ = end >= NEVER
    return pa.table(
        {
            "id_number": ids_for(ch, person),
            "program_code": pa.array(PROGRAMS).take(pa.array(program)),
            "household_no": ch.household_no.take(pa.array(ch.hh[person])),
            "start_date": date_array(start),
            "end_date": date_array(np.where(open_, 0, end), mask=open_),
            "monthly_amount": pa.array(cents / 100.0),
        }
    )
