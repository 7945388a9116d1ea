"""Employment, wages, pensions, unemployment, housing provident fund, assets and the
assistance records of one chunk.

Income classes are chosen per household first: A (per-member counted income under the 低保
standard S), B (S … 1.5 S), Z (支出型: moderate income, a seriously ill member), X (listed as
recipients although they no longer qualify) and C (everyone else, kept at or above 1.6 S —
until a main earner dies). Incomes are then built to land in the class for December of
``year``, counted as the platform counts them (dajiuzhu.policy.inputs, RULES.md): the
average wage of the 12 months of ``year`` less min(20 %, 500), plus the average employee
pension; resident pensions are exempt income.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dajiuzhu.synth import calibration as cal
from dajiuzhu.synth import codes
from dajiuzhu.synth.people import (
    PHYSICAL,
    SPOUSE,
    Chunk,
    date_array,
    group_argmax,
    ids_for,
)
from dajiuzhu.synth.world import DISTRICT_WEIGHT, State

CLS_C, CLS_A, CLS_B, CLS_Z, CLS_X = range(5)
MIN_WAGE = 2_280.0
NEVER = 2**31 - 1


def _counted(wage: np.ndarray) -> np.ndarray:
    return wage - np.minimum(0.2 * wage, 500.0)


def _gross(counted: np.ndarray) -> np.ndarray:
    """The wage whose counted part is ``counted``."""
    return np.where(counted <= 2_000.0, counted / 0.8, counted + 500.0)


def _hsum(ch: Chunk, values: np.ndarray) -> np.ndarray:
    return np.bincount(ch.hh, weights=values, minlength=ch.H)


def classes(ch: Chunk, rng: np.random.Generator) -> None:
    member = ~ch.moved
    ch.n_eff = _hsum(ch, member.astype(float))
    min_age = np.minimum.reduceat(np.where(member, ch.age, 200), ch.hh_start)
    severe = _hsum(ch, (ch.severe & member).astype(float)) > 0
    disabled = _hsum(ch, ((ch.grade_now > 0) & member).astype(float)) > 0
    w = np.where(min_age >= 60, 4.0, 1.0) * np.where(ch.n_eff == 1, 1.5, 1.0)
    w *= np.where(severe, 4.0, np.where(disabled, 1.8, 1.0))
    w = np.where(ch.n_eff > 0, w, 0.0)
    w /= max(w.mean(), 1e-9)
    pa_ = np.minimum(cal.SHARE_UNDER_STANDARD * w, 0.6)
    pb_ = np.minimum(cal.SHARE_UNDER_1_5 * w, 0.35)
    working = _hsum(ch, ((ch.age >= 25) & (ch.age <= 55) & member).astype(float)) > 0
    pz_ = np.where(working, cal.SHARE_ZHICHU / max(working.mean(), 1e-9), 0.0)
    px_ = np.where(working, cal.SHARE_STALE / max(working.mean(), 1e-9), 0.0)
    u = rng.random(ch.H)
    c1 = pa_
    c2 = c1 + pb_
    c3 = c2 + pz_
    c4 = c3 + px_
    ch.cls = np.select([u < c1, u < c2, u < c3, u < c4], [CLS_A, CLS_B, CLS_Z, CLS_X], CLS_C)


def _district_p(w) -> np.ndarray:
    p = np.array([DISTRICT_WEIGHT[int(c)] for c in w.district_codes])
    return p / p.sum()


def employment(ch: Chunk, rng: np.random.Generator) -> None:
    """Baseline jobs, wages and pensions (class C behaviour) for everybody."""
    w = ch.world
    n = ch.P
    age, male = ch.age, ch.male
    bm = codes.month_index(ch.birth, w.y0)
    ret_age = np.where(male, 60, np.where(rng.random(n) < 0.6, 50, 55))
    ch.retire_m = bm + 12 * ret_age + 1
    ch.res_m = bm + 12 * 60 + 1
    p = np.select(
        [age < 16, age < 18, age < 20, age < 23, age < 30, age < 50, age < 60],
        [0.0, 0.02, 0.15, 0.45, 0.88, np.where(male, 0.93, 0.85), np.where(male, 0.85, 0.6)],
        0.0,
    )
    p = p * np.where(ch.severe, 0.15, np.where(ch.grade_now > 0, 0.6, 1.0))
    ch.employed = (ch.retire_m > 0) & ~ch.moved & (rng.random(n) < p)
    start = np.zeros(n, dtype=np.int64)
    entrant = ch.employed & (age <= 24) & (rng.random(n) < 0.35)
    july = np.where(rng.random(n) < 0.5, 6, 18)
    start = np.where(entrant, np.where(rng.random(n) < 0.6, july, rng.integers(0, 24, n)), start)
    ch.start_m = start
    ch.end_m = np.minimum(24, ch.retire_m)
    ch.employed &= ch.end_m > ch.start_m
    age_f = np.select([age < 25, age < 30, age < 40, age < 50], [0.72, 0.93, 1.1, 1.08], 0.95)
    base = 6_000.0 * 0.97 * age_f * np.where(male, 1.06, 0.92) * np.exp(rng.normal(0, 0.5, n))
    ch.wage1 = np.clip(base, MIN_WAGE, 80_000.0)
    ch.raise_ = np.clip(rng.normal(1.045, 0.03, n), 0.95, 1.2)
    ch.wage0 = np.maximum(ch.wage1 / ch.raise_, MIN_WAGE)
    ch.noise_sd = np.full(n, 0.03)
    ch.znoise = rng.standard_normal((n, 24), dtype=np.float32)
    # Employer: mostly in the home district, big employers take more people.
    d = np.where(
        rng.random(n) < 0.8,
        ch.district,
        rng.choice(w.district_codes.size, n, p=_district_p(w)),
    )
    ch.emp1 = w.employer_start[d] + (w.employer_count[d] * rng.random(n) ** 2.5).astype(np.int64)
    d2 = np.where(rng.random(n) < 0.85, d, ch.district)
    ch.emp2 = w.employer_start[d2] + (w.employer_count[d2] * rng.random(n) ** 2.5).astype(np.int64)
    ch.change_m = np.where(rng.random(n) < 0.08, rng.integers(1, 24, n), 99)
    # Unemployment spells (ending by October of year).
    ch.spell = ch.employed & (rng.random(n) < 0.035)
    s = rng.integers(0, 21, n)
    ch.spell_s = s
    ch.spell_e = np.minimum(s + rng.integers(2, 9, n), 22)
    ch.spell &= (ch.spell_s >= ch.start_m) & (ch.spell_e <= ch.end_m)
    # Pensions.
    hist = rng.random(n) < 0.72
    ch.emp_pension = (ch.retire_m <= 23) & ~ch.moved & (ch.employed | hist)
    ch.pension_start = np.maximum(0, ch.retire_m)
    ch.res_pension = ~ch.emp_pension & (ch.res_m <= 23) & ~ch.moved & (rng.random(n) < 0.95)
    ch.res_start = np.maximum(0, ch.res_m)
    emp = 3_600.0 * np.exp(rng.normal(0, 0.25, n)) * np.where(male, 1.05, 0.93)
    ch.pen1 = np.clip(emp, 1_800.0, 12_000.0)
    ch.pen0 = ch.pen1 / 1.038
    ch.rpen0 = np.rint(rng.uniform(200.0, 390.0, n))
    ch.rpen1 = ch.rpen0 + rng.integers(5, 16, n)


def _wage_values(ch: Chunk, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 24) monthly wages (before rounding) and their noise factors; December exact."""
    f = np.exp(ch.znoise[person] * ch.noise_sd[person, None].astype(np.float32)).astype(float)
    f[:, 23] = 1.0
    m = np.arange(24)[None, :]
    return np.where(m < 12, ch.wage0[person, None], ch.wage1[person, None]) * f, f


def _work_mask(ch: Chunk, person: np.ndarray, alive: bool) -> np.ndarray:
    """(n, 24): months with a wage (as if nobody died unless ``alive``)."""
    m = np.arange(24)[None, :]
    work = (m >= ch.start_m[person, None]) & (m < ch.end_m[person, None])
    sp = ch.spell[person, None]
    work &= ~(sp & (m >= ch.spell_s[person, None]) & (m < ch.spell_e[person, None]))
    if alive:
        work &= _month_alive(ch, person, 9)
    return work


def year_income(ch: Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per person, as if nobody died, over the 12 months of ``year`` (the window the
    platform reads for December): average wage, sum of the wage factors of the months
    worked (average = wage1 * factor_sum / 12), average employee pension and the months it
    is paid. Resident pensions are exempt income and not counted."""
    n = ch.P
    wage_avg = np.zeros(n)
    fsum = np.zeros(n)
    person = np.flatnonzero(ch.employed)
    if person.size:
        vals, f = _wage_values(ch, person)
        work = _work_mask(ch, person, alive=False)[:, 12:]
        wage_avg[person] = (vals[:, 12:] * work).sum(axis=1) / 12.0
        fsum[person] = (f[:, 12:] * work).sum(axis=1)
    months = np.where(
        ch.emp_pension & (ch.pension_start <= 23), 24 - np.maximum(12, ch.pension_start), 0
    )
    return wage_avg, fsum, ch.pen1 * months / 12.0, months


def counted_income(ch: Chunk) -> np.ndarray:
    wage_avg, _, pen_avg, _ = year_income(ch)
    return _counted(wage_avg) + pen_avg


def plan_incomes(ch: Chunk, rng: np.random.Generator) -> None:
    """Land A/B/Z/X households in their income band; keep C households at 1.6 S or more.

    Counted income is what the platform counts for December of year: the year's average
    wage less min(20 %, 500) plus the year's average employee pension (resident pensions
    are exempt)."""
    w = ch.world
    s = w.standard
    n = ch.P
    cls_p = ch.cls[ch.hh]
    poor = (cls_p != CLS_C) & ~ch.moved
    ch.employed &= ~poor
    ch.emp_pension &= ~poor
    ch.spell &= ~poor
    ch.res_pension = np.where(
        poor, (ch.res_m <= 23) & (rng.random(n) < 0.92), ch.res_pension
    ).astype(bool)
    ch.noise_sd = np.where(poor, 0.01, ch.noise_sd)
    u = rng.random(ch.H)
    target = np.select(
        [ch.cls == CLS_A, ch.cls == CLS_B, ch.cls == CLS_Z, ch.cls == CLS_X],
        [
            (0.05 + 0.90 * u) * s,
            (1.03 + 0.44 * u) * s,
            np.minimum(1.6 * s + u * 2.4 * s, 0.9 * w.di_prev / 12),
            (1.6 + 0.8 * u) * s,
        ],
        0.0,
    )
    needed = target * ch.n_eff
    earner_ok = (ch.age >= 18) & (ch.retire_m > 24) & ~ch.moved & ~ch.severe
    earner = group_argmax(-np.abs(ch.age - 38) + rng.random(n), ch, earner_ok)
    retiree = group_argmax(-ch.age.astype(float), ch, (ch.retire_m <= 0) & ~ch.moved)
    poor_h = ch.cls != CLS_C
    use_earner = poor_h & (earner >= 0) & (needed > 0)
    use_earner &= (ch.cls != CLS_A) | (needed >= 1_000.0)
    use_pension = poor_h & ~use_earner & (retiree >= 0) & (needed > 0) & (ch.cls != CLS_A)
    # B/Z/X households with nobody to carry the income become ordinary households.
    lost = poor_h & (ch.cls != CLS_A) & ~use_earner & ~use_pension
    ch.cls = np.where(lost, CLS_C, ch.cls)
    e = earner[use_earner]
    ch.employed[e] = True
    ch.start_m[e] = 0
    ch.end_m[e] = 24
    ch.change_m[e] = 99
    _, f = _wage_values(ch, e)
    wage = _gross(needed[use_earner]) * 12.0 / f[:, 12:].sum(axis=1)
    ch.wage1[e] = wage
    ch.wage0[e] = wage * rng.uniform(0.9, 1.0, e.size)
    ch.emp1[e] = (
        ch.world.employer_start[ch.district[e]]
        + ch.world.employer_count[ch.district[e]] * (0.3 + 0.7 * rng.random(e.size))
    ).astype(np.int64)
    r = retiree[use_pension]
    amount = needed[use_pension]
    ch.res_pension[r] = False
    ch.emp_pension[r] = True
    ch.pension_start[r] = 0
    ch.pen1[r] = amount
    ch.pen0[r] = amount / 1.038
    ch.earner = np.where(use_earner, earner, -1)
    _fix_ordinary(ch)
    ch.counted_asif = counted_income(ch)
    # Zhichu: a seriously ill member whose medical spending makes (income - rigid) / n < S.
    z = ch.cls == CLS_Z
    inc = _hsum(ch, np.where(~ch.moved, ch.counted_asif, 0.0))
    patient = group_argmax(ch.age + rng.random(n), ch, (ch.age >= 30) & ch.living)
    z &= patient >= 0
    rigid = np.maximum(inc - s * ch.n_eff, 0.0) * rng.uniform(1.3, 2.5, ch.H) + 300.0
    ch.z_patient = np.where(z, patient, -1)
    ch.z_oop = np.where(z, np.maximum(12.0 * rigid, 20_000.0), 0.0)
    ch.cls = np.where((ch.cls == CLS_Z) & ~z, CLS_C, ch.cls)


def _fix_ordinary(ch: Chunk) -> None:
    """Class C households: at least 1.6 S per member (counted, as if nobody died). Raise the
    main earner's wage, else the main pensioner's pension, else give a working-age member a
    job, else a retiree an employee pension."""
    s = ch.world.standard
    member = ~ch.moved
    for _ in range(4):
        wage_avg, fsum, pen_avg, pen_months = year_income(ch)
        inc = _hsum(ch, np.where(member, _counted(wage_avg) + pen_avg, 0.0))
        need = 1.6 * s * ch.n_eff - inc
        fix = (ch.cls == CLS_C) & (need > 0.5) & (ch.n_eff > 0)
        if not fix.any():
            return
        top_w = group_argmax(wage_avg, ch, (fsum >= 6.0) & member)
        top_p = group_argmax(pen_avg, ch, (pen_months >= 6) & member)
        cand_w = group_argmax(
            -np.abs(ch.age - 38).astype(float), ch, (ch.age >= 18) & (ch.retire_m > 24) & member
        )
        cand_p = group_argmax(ch.age.astype(float), ch, (ch.retire_m <= 12) & member)
        any_w = group_argmax(fsum, ch, (fsum > 0) & member)
        a = fix & (top_w >= 0)
        i = top_w[a]
        ch.wage1[i] += (need[a] / 0.8 + 1.0) * 12.0 / fsum[i]
        ch.wage0[i] = ch.wage1[i] / ch.raise_[i]
        b = fix & ~a & (top_p >= 0)
        i = top_p[b]
        ch.pen1[i] += (need[b] + 1.0) * 12.0 / pen_months[i]
        ch.pen0[i] = ch.pen1[i] / 1.038
        c = fix & ~a & ~b & (cand_w >= 0)
        i = cand_w[c]
        ch.employed[i] = True
        ch.start_m[i] = 0
        ch.end_m[i] = 24
        ch.spell[i] = False
        ch.wage1[i] = np.maximum(ch.wage1[i], need[c] / 0.8 + 500.0)
        ch.wage0[i] = ch.wage1[i] / ch.raise_[i]
        d = fix & ~a & ~b & ~c & (cand_p >= 0)
        i = cand_p[d]
        ch.emp_pension[i] = True
        ch.res_pension[i] = False
        ch.pension_start[i] = np.maximum(0, ch.retire_m[i])
        ch.pen1[i] = np.maximum(ch.pen1[i], need[d] + 1.0)
        ch.pen0[i] = ch.pen1[i] / 1.038
        e = fix & ~a & ~b & ~c & ~d & (any_w >= 0)
        i = any_w[e]
        ch.wage1[i] += (need[e] / 0.8 + 1.0) * 12.0 / fsum[i]
        ch.wage0[i] = ch.wage1[i] / ch.raise_[i]


def _month_alive(ch: Chunk, person: np.ndarray, grace: int) -> np.ndarray:
    """(n, 24): alive on day ``grace`` of each month."""
    starts = ch.world.month_days[:24]
    return (starts[None, :] + grace) <= ch.death_day[person][:, None]


def wages_table(ch: Chunk) -> pa.Table:
    w = ch.world
    person = np.flatnonzero(ch.employed)
    value, _ = _wage_values(ch, person)
    work = _work_mask(ch, person, alive=True)
    ch.work = work
    ch.work_person = person
    ch.wage_value = value
    r, mm = np.nonzero(work)
    p = person[r]
    employer = np.where(mm >= ch.change_m[p], ch.emp2[p], ch.emp1[p])
    wage = np.rint(value[r, mm] * 100.0) / 100.0
    return pa.table(
        {
            "id_number": ids_for(ch, p),
            "month": w.months.take(pa.array(mm)),
            "employer_code": w.employer_codes.take(pa.array(employer)),
            "wage": pa.array(wage),
        }
    )


def pensions_table(ch: Chunk) -> pa.Table:
    w = ch.world
    person = np.flatnonzero(ch.emp_pension | ch.res_pension)
    emp = ch.emp_pension[person]
    start = np.where(emp, ch.pension_start[person], ch.res_start[person])
    m = np.arange(24)[None, :]
    paid = (m >= start[:, None]) & _month_alive(ch, person, 0)
    r, mm = np.nonzero(paid)
    p = person[r]
    e = emp[r]
    amount = np.where(
        e,
        np.where(mm < 12, ch.pen0[p], ch.pen1[p]),
        np.where(mm < 12, ch.rpen0[p], ch.rpen1[p]),
    )
    return pa.table(
        {
            "id_number": ids_for(ch, p),
            "month": w.months.take(pa.array(mm)),
            "pension_type": pa.array(["resident", "employee"]).take(pa.array(e.astype(np.int64))),
            "amount": pa.array(np.rint(amount * 100.0) / 100.0),
        }
    )


def unemployment_table(ch: Chunk, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    n = ch.P
    md = w.month_days
    sp = np.flatnonzero(ch.spell)
    reg1 = md[ch.spell_s[sp]] + rng.integers(0, 15, sp.size)
    end1 = md[ch.spell_e[sp]] + rng.integers(0, 10, sp.size)
    cls_p = ch.cls[ch.hh]
    open_ = (
        (ch.age >= 18)
        & (ch.retire_m > 23)
        & ~ch.moved
        & ~ch.employed
        & ~(ch.age < 23)
        & (rng.random(n) < np.where(cls_p == CLS_C, 0.04, 0.55))
    )
    op = np.flatnonzero(open_)
    lo = ch.birth[op] + 18 * 365
    reg2 = np.maximum(lo, w.ref - rng.integers(30, 2_500, op.size))
    person = np.concatenate([sp, op])
    reg = np.concatenate([reg1, reg2])
    end = np.concatenate([end1, np.full(op.size, NEVER)])
    dd = ch.death_day[person]
    keep = reg < dd
    end = np.where(dd < end, dd, end)
    person, reg, end = person[keep], reg[keep], end[keep]
    order = np.argsort(person, kind="stable")
    person, reg, end = person[order], reg[order], end[order]
    return pa.table(
        {
            "id_number": ids_for(ch, person),
            "registered_date": date_array(reg),
            "ended_date": date_array(np.where(end == NEVER, 0, end), mask=end == NEVER),
        }
    )


def provident_table(ch: Chunk, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    person = ch.work_person
    k = person.size
    cls_c = ch.cls[ch.hh[person]] == CLS_C
    pct = np.argsort(np.argsort(ch.wage1[person])) / max(k - 1, 1)
    has = cls_c & (rng.random(k) < np.clip(0.15 + 0.65 * pct, 0, 0.9))
    late = np.where(rng.random(k) < 0.15, rng.integers(0, 24, k), 0)
    mask = ch.work & has[:, None] & (np.arange(24)[None, :] >= late[:, None])
    base = np.clip(np.rint(ch.wage_value), MIN_WAGE, 31_000.0)
    rate = rng.choice([0.10, 0.16, 0.24], size=k, p=[0.2, 0.3, 0.5])
    contrib = np.where(mask, base * rate[:, None], 0.0)
    mortgage = rng.random(k) < 0.25
    withdraw = np.where(mask & mortgage[:, None], contrib * rng.uniform(0.6, 1.0, (k, 1)), 0.0)
    years = np.clip(ch.age[person] - 22, 0, 35)
    start_bal = np.rint(years * 4_000.0 * np.exp(rng.normal(0, 0.6, k)) * (0.5 + pct))
    balance = start_bal[:, None] + np.cumsum(contrib - withdraw, axis=1)
    r, mm = np.nonzero(mask)
    p = person[r]
    return pa.table(
        {
            "id_number": ids_for(ch, p),
            "month": w.months.take(pa.array(mm)),
            "deposit_base": pa.array(base[r, mm].astype(np.float64)),
            "balance": pa.array(np.rint(balance[r, mm] * 100.0) / 100.0),
        }
    )


# ---------------------------------------------------------------- assets


def _rank_pct(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros(values.size)
    idx = np.flatnonzero(mask)
    if idx.size:
        out[idx] = np.argsort(np.argsort(values[idx], kind="stable")) / max(idx.size - 1, 1)
    return out


def assets(ch: Chunk, state: State, rng: np.random.Generator) -> None:
    """Deposits, real estate, vehicles and businesses, and their asset test per household."""
    w = ch.world
    s = w.standard
    n_h = ch.H
    poor = ch.cls != CLS_C
    fail = poor & (
        rng.random(n_h)
        < np.select([ch.cls == CLS_Z, ch.cls == CLS_X], [0.1, 0.5], cal.ASSET_FAIL_RATE)
    )
    reason = rng.choice(4, size=n_h, p=[0.4, 0.3, 0.2, 0.1])
    ch.asset_fail, ch.fail_reason = fail, np.where(fail, reason, -1)
    inc_h = _hsum(ch, np.where(~ch.moved, ch.counted_asif, 0.0))
    pm = inc_h / np.maximum(ch.n_eff, 1)
    ch.pct = _rank_pct(pm, ~poor)
    adult = (ch.age >= 18) & ~ch.moved
    ch.tables_assets = {
        "deposits": _deposits(ch, rng, poor, fail, adult, s),
        "real_estate": _real_estate(ch, state, rng, poor, fail),
        "vehicles": _vehicles(ch, state, rng, poor, fail),
        "businesses": _businesses(ch, state, rng, poor, fail, adult),
    }


def _deposits(ch, rng, poor, fail, adult, s) -> pa.Table:
    w = ch.world
    n = ch.P
    poor_p = poor[ch.hh]
    p_has = np.where(adult, np.where(poor_p, 0.85, 0.97), np.where(poor_p, 0.05, 0.3))
    p_has = np.where(ch.dead, p_has * 0.6, p_has)
    has = ~ch.moved & (rng.random(n) < p_has)
    head = ch.hh_start
    has[head[(fail & (ch.fail_reason == 0))]] = True
    k = np.where(has, 1 + rng.poisson(np.where(poor_p, 0.3, 0.9)), 0).clip(0, 5)
    nb = w.bank_p.size
    keys = np.log(w.bank_p)[None, :] + rng.gumbel(size=(n, nb))
    order = np.argsort(-keys, axis=1)
    person = np.repeat(np.arange(n), k)
    j = np.arange(person.size) - np.repeat(np.cumsum(k) - k, k)
    inst = order[person, j]
    # Household wealth, split over the household's accounts.
    n_adults = np.maximum(np.bincount(ch.hh, weights=adult, minlength=ch.H), 1)
    inc_pm = np.maximum(
        np.bincount(ch.hh, weights=np.where(~ch.moved, ch.counted_asif, 0), minlength=ch.H)
        / np.maximum(ch.n_eff, 1),
        500.0,
    )
    wealth_c = n_adults * np.exp(
        np.log(45_000.0) + 0.9 * np.log(inc_pm / 3_500.0) + rng.normal(0, 1.2, ch.H)
    )
    limit = 24 * s * np.maximum(ch.n_eff, 1)
    wealth_poor = limit * rng.uniform(0.02, 0.85, ch.H) ** 2
    wealth_fail = limit * rng.uniform(1.3, 4.0, ch.H)
    wealth = np.where(
        poor, np.where(fail & (ch.fail_reason == 0), wealth_fail, wealth_poor), wealth_c
    )
    hh = ch.hh[person]
    share = rng.gamma(0.8, 1.0, person.size) + 1e-6
    tot = np.bincount(hh, weights=share, minlength=ch.H)
    bal = wealth[hh] * share / tot[hh]
    bal = np.rint(np.minimum(bal, 5e7) * 100.0) / 100.0
    as_of = w.ref - rng.integers(0, 8, person.size)
    ch.fin_h = np.bincount(hh, weights=np.where(ch.living[person], bal, 0.0), minlength=ch.H)
    return pa.table(
        {
            "id_number": ids_for(ch, person),
            "institution_code": w.bank_codes.take(pa.array(inst)),
            "as_of_date": date_array(as_of),
            "balance": pa.array(bal),
        }
    )


_OFFICE = {
    320402: "常州市",
    320404: "常州市",
    320411: "常州市",
    320412: "常州市武进区",
    320413: "常州市金坛区",
    320481: "溧阳市",
}


def _uniform_day(rng, lo, hi) -> np.ndarray:
    hi = np.maximum(hi, lo)
    return lo + (rng.random(lo.size) * (hi - lo + 1)).astype(np.int64)


def _real_estate(ch, state, rng, poor, fail) -> pa.Table:
    w = ch.world
    n_h = ch.H
    head = ch.hh_start
    second = np.minimum(head + 1, ch.P - 1)
    spouse = np.where((ch.size > 1) & (ch.rel[second] == SPOUSE), second, -1)
    prop_fail = fail & (ch.fail_reason == 2)
    own_main = np.where(
        poor,
        prop_fail | (rng.random(n_h) < 0.6),
        rng.random(n_h) < np.where(ch.village, 0.95, 0.86),
    )
    extra = np.where(
        poor, prop_fail.astype(np.int64), rng.choice(4, n_h, p=[0.78, 0.17, 0.04, 0.01])
    )
    commercial = ~poor & (rng.random(n_h) < 0.04)
    other = ~poor & ~ch.village & (rng.random(n_h) < 0.12)
    transferred = rng.random(n_h) < np.where(poor, 0.03, 0.08)
    # Properties: (household, usage 0 res / 1 com / 2 other, held?)
    hh = np.concatenate(
        [
            np.flatnonzero(own_main),
            np.repeat(np.arange(n_h), extra),
            np.flatnonzero(commercial),
            np.flatnonzero(other),
            np.flatnonzero(transferred),
        ]
    )
    usage = np.concatenate(
        [
            np.zeros(int(own_main.sum()) + int(extra.sum()), np.int64),
            np.ones(int(commercial.sum()), np.int64),
            np.full(int(other.sum()), 2, np.int64),
            np.zeros(int(transferred.sum()), np.int64),
        ]
    )
    held = np.concatenate(
        [np.ones(hh.size - int(transferred.sum()), bool), np.zeros(int(transferred.sum()), bool)]
    )
    main = np.zeros(hh.size, bool)
    main[: int(own_main.sum())] = True
    k = hh.size
    owner = head[hh]
    adult_from = np.maximum(codes.day_number(1998), ch.birth[owner] + 22 * 365)
    reg = np.where(
        held,
        _uniform_day(rng, adult_from, np.full(k, w.ref - 20)),
        _uniform_day(
            rng, np.minimum(adult_from, codes.day_number(2016)), np.full(k, codes.day_number(2018))
        ),
    )
    reg = np.minimum(reg, w.ref)
    village = ch.village[hh]
    area = np.select(
        [usage == 1, usage == 2, village & main],
        [
            np.clip(np.exp(rng.normal(np.log(70), 0.9, k)), 8, 3_000),
            rng.uniform(12, 40, k),
            np.clip(np.exp(rng.normal(np.log(180), 0.25, k)), 80, 400),
        ],
        np.clip(np.exp(rng.normal(np.log(92), 0.3, k)), 28, 320) * np.where(poor[hh], 0.8, 1.0),
    )
    pid_seq = state.take("property", k)
    co = main & (spouse[hh] >= 0) & (rng.random(k) < 0.45)
    rows_prop = np.concatenate([np.arange(k), np.flatnonzero(co)])
    rows_person = np.concatenate([owner, spouse[hh][co]])
    order = np.argsort(rows_prop, kind="stable")
    rows_prop, rows_person = rows_prop[order], rows_person[order]
    reg_year = codes.ymd(reg)[0]
    office = pa.array([_OFFICE[int(c)] for c in w.district_codes]).take(pa.array(ch.district_h[hh]))
    num = codes.fixed_strings(
        codes.digits(codes._scramble(pid_seq, 10**7, 7_777_777, 1_234_567), 7)
    )
    pid = pc.binary_join_element_wise(
        "苏(", pc.cast(pa.array(reg_year), pa.string()), ")", office, "不动产权第", num, "号", ""
    )
    # Asset test: residential units held by living members.
    alive_any = ch.living[owner] | (co & ch.living[np.maximum(spouse[hh], 0)])
    units = np.bincount(hh, weights=(held & (usage == 0) & alive_any).astype(float), minlength=n_h)
    ch.extra_units_h = units > 1
    return pa.table(
        {
            "property_id": pid.take(pa.array(rows_prop)),
            "id_number": ids_for(ch, rows_person),
            "usage": pa.array(["residential", "commercial", "other"]).take(
                pa.array(usage[rows_prop])
            ),
            "area_m2": pa.array(np.rint(area[rows_prop] * 100.0) / 100.0),
            "registered_date": date_array(reg[rows_prop]),
            "status": pa.array(["transferred", "held"]).take(
                pa.array(held[rows_prop].astype(np.int64))
            ),
        }
    )


_PLATE_LETTERS = b"ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_ALNUM = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_NEV_SPACE = 2 * 34 * 10**4


def _plates(state: State, nev: np.ndarray) -> pa.Array:
    """苏D plates, unique across the run: 苏D + letter + 4 letters/digits, or a new-energy
    苏D + D/F + letter/digit + 4 digits."""
    used = state.counters.get("plate_nev", 0)
    nev = nev & (used + np.cumsum(nev) <= _NEV_SPACE)
    i = np.flatnonzero(nev)
    v = codes._scramble(state.take("plate_nev", i.size), _NEV_SPACE, 100_003, 4_321)
    green = np.empty((i.size, 6), dtype=np.uint8)
    green[:, 0] = np.frombuffer(b"DF", np.uint8)[v // (34 * 10**4)]
    green[:, 1] = np.frombuffer(_PLATE_ALNUM, np.uint8)[(v // 10**4) % 34]
    green[:, 2:] = codes.digits(v % 10**4, 4)
    j = np.flatnonzero(~nev)
    space = 24 * 34**4
    v = codes._scramble(state.take("plate", j.size), space, 1_000_003, 98_765)
    blue = np.empty((j.size, 5), dtype=np.uint8)
    blue[:, 0] = np.frombuffer(_PLATE_LETTERS, np.uint8)[v // 34**4]
    blue[:, 1:] = codes.alnum_codes(v % 34**4, 4, _PLATE_ALNUM, 1, 0)
    body = pa.concat_arrays([codes.fixed_strings(green), codes.fixed_strings(blue)])
    where = np.empty(nev.size, dtype=np.int64)
    where[i] = np.arange(i.size)
    where[j] = i.size + np.arange(j.size)
    return pc.binary_join_element_wise("苏D", body.take(pa.array(where)), "")


def _vehicles(ch, state, rng, poor, fail) -> pa.Table:
    w = ch.world
    n_h = ch.H
    adult = (ch.age >= 20) & (ch.age <= 78) & ~ch.moved
    owner1 = group_argmax(-np.abs(ch.age - 40.0) + 3.0 * ch.male + rng.random(ch.P), ch, adult)
    owner2 = group_argmax(-np.abs(ch.age - 36.0) + rng.random(ch.P), ch, adult)
    alt = np.where(owner2 == owner1, -1, owner2)
    has_owner = owner1 >= 0
    pct = ch.pct
    car1 = has_owner & np.where(
        poor, fail & (ch.fail_reason == 1), rng.random(n_h) < np.clip(0.35 + 0.6 * pct, 0, 0.95)
    )
    car2 = car1 & ~poor & (rng.random(n_h) < 0.15 + 0.5 * pct)
    truck = has_owner & ~poor & (rng.random(n_h) < 0.015)
    moto = has_owner & ~poor & (rng.random(n_h) < 0.04)
    oth = has_owner & ~poor & (rng.random(n_h) < 0.005)
    past = has_owner & ~poor & (rng.random(n_h) < 0.12)
    dis_v = (ch.grade_now > 0) & (ch.dis_kind == PHYSICAL) & adult & (rng.random(ch.P) < 0.05)
    o2 = np.where(alt >= 0, alt, owner1)
    person = np.concatenate(
        [
            owner1[car1],
            o2[car2],
            owner1[truck],
            o2[moto],
            owner1[oth],
            owner1[past],
            np.flatnonzero(dis_v),
        ]
    )
    vtype = np.concatenate(
        [
            np.zeros(int(car1.sum() + car2.sum()), np.int64),
            np.ones(int(truck.sum()), np.int64),
            np.full(int(moto.sum()), 2, np.int64),
            np.full(int(oth.sum()), 4, np.int64),
            np.zeros(int(past.sum()), np.int64),
            np.full(int(dis_v.sum()), 3, np.int64),
        ]
    )
    k = person.size
    n_past = int(past.sum())
    n_dis = int(dis_v.sum())
    status = np.zeros(k, np.int64)  # held
    ps = slice(k - n_dis - n_past, k - n_dis)
    status[ps] = np.where(rng.random(n_past) < 0.6, 1, 2)
    lo = np.maximum(codes.day_number(2008), ch.birth[person] + 18 * 365)
    hi = np.where(status == 0, w.ref - 5, codes.day_number(2019))
    reg = _uniform_day(rng, np.minimum(lo, hi), hi)
    nev = (vtype == 0) & (status == 0) & (reg >= codes.day_number(2018)) & (rng.random(k) < 0.3)
    order = np.argsort(person, kind="stable")
    person, vtype, status, reg, nev = (
        person[order],
        vtype[order],
        status[order],
        reg[order],
        nev[order],
    )
    plates = _plates(state, nev)
    held_car = (status == 0) & (vtype != 3) & ch.living[person]
    ch.vehicle_h = np.bincount(ch.hh[person], weights=held_car, minlength=n_h) > 0
    return pa.table(
        {
            "plate_no": plates,
            "id_number": ids_for(ch, person),
            "vehicle_type": pa.array(
                ["car", "truck", "motorcycle", "disability_vehicle", "other"]
            ).take(pa.array(vtype)),
            "registered_date": date_array(reg),
            "status": pa.array(["held", "transferred", "scrapped"]).take(pa.array(status)),
        }
    )


def _businesses(ch, state, rng, poor, fail, adult) -> pa.Table:
    n = ch.P
    poor_p = poor[ch.hh]
    fail_b = (fail & (ch.fail_reason == 3))[ch.hh]
    ok_age = adult & (ch.age >= 25) & (ch.age <= 70)
    rep = ok_age & ~poor_p & (rng.random(n) < 0.085)
    head = np.zeros(n, bool)
    head[ch.hh_start] = True
    forced = fail_b & head
    closed_poor = ok_age & poor_p & ~fail_b & (rng.random(n) < 0.02)
    rep_idx = np.flatnonzero(rep | forced | closed_poor)
    k = rep_idx.size
    company = (rng.random(k) < 0.38) & ~forced[rep_idx] & ~closed_poor[rep_idx]
    active = np.where(
        forced[rep_idx], True, np.where(closed_poor[rep_idx], False, rng.random(k) < 0.78)
    )
    cap = np.where(
        company,
        rng.choice(
            [1e5, 3e5, 5e5, 1e6, 2e6, 5e6, 1e7], k, p=[0.2, 0.15, 0.2, 0.2, 0.12, 0.08, 0.05]
        ),
        np.maximum(1_000.0, np.rint(np.exp(rng.normal(np.log(50_000), 1.0, k)) / 1_000) * 1_000),
    )
    seq = 10**7 + state.take("business", k)
    div = ch.world.district_codes[ch.district[rep_idx]]
    code_mat = np.empty((k, 18), np.uint8)
    if company.any():
        code_mat[company] = codes.credit_codes(b"91", div[company], seq[company])
    if (~company).any():
        code_mat[~company] = codes.credit_codes(b"92", div[~company], seq[~company])
    # Shareholders of companies: the spouse, sometimes another adult of the chunk.
    second = np.minimum(ch.hh_start + 1, n - 1)
    spouse_h = np.where((ch.size > 1) & (ch.rel[second] == SPOUSE) & adult[second], second, -1)
    sp = spouse_h[ch.hh[rep_idx]]
    with_sp = company & (sp >= 0) & (rng.random(k) < 0.5)
    adults = np.flatnonzero(adult & ~poor_p)
    with_other = company & (rng.random(k) < 0.3) & (adults.size > 0)
    other = (
        adults[rng.integers(0, max(adults.size, 1), int(with_other.sum()))]
        if adults.size
        else np.zeros(0, np.int64)
    )
    biz = np.concatenate([np.arange(k), np.flatnonzero(with_sp), np.flatnonzero(with_other)])
    person = np.concatenate([rep_idx, sp[with_sp], other])
    role = np.concatenate(
        [np.zeros(k, np.int64), np.ones(int(with_sp.sum() + with_other.sum()), np.int64)]
    )
    # a person appears once per business
    key = biz * (n + 1) + person
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    biz, person, role = biz[first], person[first], role[first]
    order = np.lexsort((role, biz))
    biz, person, role = biz[order], person[order], role[order]
    live = ch.living[person] & active[biz]
    ch.business_h = np.bincount(ch.hh[person], weights=live, minlength=ch.H) > 0
    return pa.table(
        {
            "credit_code": codes.fixed_strings(code_mat[biz]),
            "id_number": ids_for(ch, person),
            "role": pa.array(["legal_rep", "shareholder"]).take(pa.array(role)),
            "registered_capital": pa.array(cap[biz].astype(np.float64)),
            "status": pa.array(["closed", "active"]).take(pa.array(active[biz].astype(np.int64))),
        }
    )


# ---------------------------------------------------------------- assistance

PROGRAMS = ["tekun", "dibao", "dibian", "zhichu", "linshi", "yiliao"]
TEKUN, DIBAO, DIBIAN, ZHICHU, LINSHI, YILIAO = range(6)
MED_RATE = np.array([1.0, 0.9, 0.8, 0.7, 0.0, 0.0])


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


def eligibility(ch: Chunk, rng: np.random.Generator) -> None:
    """December of year: income per living member, the asset test and what the rules cover;
    then who is listed (most), who is missed, who is listed but no longer qualifies."""
    w = ch.world
    s = w.standard
    living = ch.living
    counted = np.where(living, ch.counted_asif, 0.0)
    n_live = np.bincount(ch.hh, weights=living, minlength=ch.H)
    inc = np.bincount(ch.hh, weights=counted, minlength=ch.H)
    pm = np.where(n_live > 0, inc / np.maximum(n_live, 1), np.inf)
    assets_ok = (ch.fin_h / np.maximum(n_live, 1) <= 24 * s) & ~ch.vehicle_h
    assets_ok &= ~ch.extra_units_h & ~ch.business_h
    ch.n_live, ch.inc_h, ch.pm, ch.assets_ok = n_live, inc, pm, assets_ok
    poor = (ch.cls == CLS_A) | (ch.cls == CLS_B)
    single = group_argmax(np.zeros(ch.P), ch, living)
    single = np.where(n_live == 1, single, -1)
    sp = np.maximum(single, 0)
    tekun = (
        (single >= 0)
        & poor
        & assets_ok
        & (pm < 1.5 * s)
        & ((ch.age[sp] >= 60) | (ch.age[sp] < 18) | ch.severe[sp])
        & (counted[sp] < 1.3 * s)
    )
    dibao = ~tekun & (pm < s) & assets_ok
    dibian = ~tekun & (pm >= s) & (pm < 1.5 * s) & assets_ok
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
        living & ((live_age >= 70) | (live_age < 18) | ((ch.grade_now >= 1) & (ch.grade_now <= 2)))
    ).astype(float)
    extra = 0.1 * s * np.bincount(ch.hh, weights=bonus, minlength=ch.H)
    dibao_amt = np.maximum(s * n_live - inc, 0.1 * s * n_live) + extra
    care = np.select(
        [
            (ch.grade_now[sp] == 1) | (ch.age[sp] >= 85),
            (ch.grade_now[sp] == 2) | (ch.age[sp] >= 75),
        ],
        [1_380.0, 690.0],
        230.0,
    )
    tekun_amt = 1.3 * s + care
    rigid = ch.z_oop / 12.0
    zhichu_amt = np.maximum(s * n_live - (inc - rigid), 0.1 * s * n_live)
    stale_amt = s * np.maximum(n_live, 1) * rng.uniform(0.15, 0.5, ch.H)
    amount = np.select(
        [program == TEKUN, program == DIBAO, program == DIBIAN, program == ZHICHU],
        [tekun_amt, dibao_amt, 0.0, zhichu_amt],
        0.0,
    )
    amount = np.where(stale | ended, stale_amt, amount)
    ch.amount_h = _round_half_up(amount)
    ch.start_h, ch.end_h = start, end


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
    ch.med_rate[p] = MED_RATE[prog[active]]
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
