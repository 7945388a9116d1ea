"""Income of one chunk: the households' income classes, employment, wages, pensions,
unemployment and the housing provident fund.

Income classes are chosen per household first: A (per-member counted income under the 低保
standard S), B (S … 1.5 S), Z (支出型: moderate income, a seriously ill member), X (listed as
recipients although they no longer qualify) and C (everyone else, kept at or above 1.6 S —
until a main earner dies). Incomes are then built to land in the class for December of
``year``, counted as the platform counts them (dajiuzhu.policy.inputs, RULES.md): the
average wage of the 12 months of ``year`` less the employment-cost deduction min(rate ×
wage, cap) of the policy parameters, plus the average employee pension; resident pensions
are exempt income.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.synth import calibration as cal
from dajiuzhu.synth import codes
from dajiuzhu.synth.figures import Figures
from dajiuzhu.synth.people import NEVER, Chunk, date_array, group_argmax, ids_for
from dajiuzhu.synth.world import DISTRICT_WEIGHT

CLS_C, CLS_A, CLS_B, CLS_Z, CLS_X = range(5)
MIN_WAGE = 2_280.0


def counted_wage(wage: np.ndarray, f: Figures) -> np.ndarray:
    """The counted part of a wage: less the employment-cost deduction."""
    return wage - np.minimum(f.cost_rate * wage, f.cost_cap)


def _gross(counted: np.ndarray, f: Figures) -> np.ndarray:
    """The wage whose counted part is ``counted``."""
    keep = 1.0 - f.cost_rate
    return np.where(
        counted <= f.cost_cap * keep / f.cost_rate, counted / keep, counted + f.cost_cap
    )


def hsum(ch: Chunk, values: np.ndarray) -> np.ndarray:
    """Per household: the sum of a per-person value."""
    return np.bincount(ch.hh, weights=values, minlength=ch.H)


def classes(ch: Chunk, rng: np.random.Generator) -> None:
    member = ~ch.moved
    ch.n_eff = hsum(ch, member.astype(float))
    min_age = np.minimum.reduceat(np.where(member, ch.age, 200), ch.hh_start)
    severe = hsum(ch, (ch.severe & member).astype(float)) > 0
    disabled = hsum(ch, ((ch.grade_now > 0) & member).astype(float)) > 0
    w = np.where(min_age >= 60, 4.0, 1.0) * np.where(ch.n_eff == 1, 1.5, 1.0)
    w *= np.where(severe, 4.0, np.where(disabled, 1.8, 1.0))
    w = np.where(ch.n_eff > 0, w, 0.0)
    w /= max(w.mean(), 1e-9)
    pa_ = np.minimum(cal.SHARE_UNDER_STANDARD * w, 0.6)
    pb_ = np.minimum(cal.SHARE_UNDER_1_5 * w, 0.35)
    working = hsum(ch, ((ch.age >= 25) & (ch.age <= 55) & member).astype(float)) > 0
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
    return counted_wage(wage_avg, ch.world.figures) + pen_avg


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
    wage = _gross(needed[use_earner], w.figures) * 12.0 / f[:, 12:].sum(axis=1)
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
    inc = hsum(ch, np.where(~ch.moved, ch.counted_asif, 0.0))
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
    f = ch.world.figures
    keep = 1.0 - f.cost_rate  # the counted share of a wage below the deduction's cap
    member = ~ch.moved
    for _ in range(4):
        wage_avg, fsum, pen_avg, pen_months = year_income(ch)
        inc = hsum(ch, np.where(member, counted_wage(wage_avg, f) + pen_avg, 0.0))
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
        ch.wage1[i] += (need[a] / keep + 1.0) * 12.0 / fsum[i]
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
        ch.wage1[i] = np.maximum(ch.wage1[i], need[c] / keep + f.cost_cap)
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
        ch.wage1[i] += (need[e] / keep + 1.0) * 12.0 / fsum[i]
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
