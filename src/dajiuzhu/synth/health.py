"""Medical insurance enrolment and claims of one chunk.

Each insured person draws a year's out-of-pocket total from a log-logistic distribution (a
heavy, Pareto-like tail with closed-form quantiles), scaled by age and health. The scale is
solved per chunk so that the expected number of assistance recipients above 10,000 yuan
(MED_RETURN) and of other insured persons above the previous year's disposable income
(MED_FALL) match the city's targets per person. The total is then split over claim lines
(about 12 a person), and each line gets consistent fund, critical-illness and assistance
payments.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.synth import calibration as cal
from dajiuzhu.synth import codes
from dajiuzhu.synth.assistance import YILIAO
from dajiuzhu.synth.people import NEVER, Chunk, date_array, ids_for
from dajiuzhu.synth.world import State

BETA = 1.65  # tail index of the yearly out-of-pocket distribution
MEDIAN = 700.0  # yuan, for a person of base risk 1
CAP = 800_000.0
LINES_PER_PERSON = 12.0
INPATIENT, OUTPATIENT, PHARMACY = 0, 1, 2
CLAIM_TYPES = ["inpatient", "outpatient", "pharmacy"]


def insurance(ch: Chunk, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    ch.uninsured = (rng.random(ch.P) < 0.008) & ~ch.in_r
    wage_y = np.zeros((ch.P, 2), dtype=bool)
    wage_y[ch.work_person, 0] = ch.work[:, :12].any(axis=1)
    wage_y[ch.work_person, 1] = ch.work[:, 12:].any(axis=1)
    emp_pen = ch.emp_pension
    pen_y0 = emp_pen & (ch.pension_start <= 11)
    pen_y1 = emp_pen & (ch.pension_start <= 23)
    y0 = ~ch.uninsured & (ch.birth < w.jan1)
    y1 = ~ch.uninsured & ~ch.moved
    ch.insured = y1
    ch.employee_y1 = wage_y[:, 1] | pen_y1
    person = np.concatenate([np.flatnonzero(y0), np.flatnonzero(y1)])
    year = np.concatenate([np.full(int(y0.sum()), w.year - 1), np.full(int(y1.sum()), w.year)])
    emp = np.concatenate([(wage_y[:, 0] | pen_y0)[y0], ch.employee_y1[y1]])
    order = np.argsort(person, kind="stable")
    person, year, emp = person[order], year[order], emp[order]
    return pa.table(
        {
            "id_number": ids_for(ch, person),
            "year": pa.array(year.astype(np.int64)),
            "insurance_type": pa.array(["resident", "employee"]).take(
                pa.array(emp.astype(np.int64))
            ),
            "division_code": ch.division_h.take(pa.array(ch.hh[person])),
        }
    )


def _tail(scale: np.ndarray, threshold: float) -> np.ndarray:
    """P(X > threshold) for log-logistic X with the given scales."""
    return 1.0 / (1.0 + (threshold / np.maximum(scale, 1e-12)) ** BETA)


def _solve_scale(base: np.ndarray, threshold: float, expected: float, lo: float) -> float:
    """s with sum(P(s * base * MEDIAN * LL > threshold)) == expected (bisection in log s)."""
    if base.size == 0:
        return 1.0
    a, b = np.log(lo), np.log(100.0)
    if _tail(np.exp(a) * base * MEDIAN, threshold).sum() >= expected:
        return float(np.exp(a))
    for _ in range(60):
        mid = 0.5 * (a + b)
        if _tail(np.exp(mid) * base * MEDIAN, threshold).sum() < expected:
            a = mid
        else:
            b = mid
    return float(np.exp(0.5 * (a + b)))


def yearly_out_of_pocket(ch: Chunk, rng: np.random.Generator) -> np.ndarray:
    w = ch.world
    age = ch.age
    base = np.select(
        [age < 7, age < 18, age < 40, age < 60, age < 70, age < 80],
        [0.8, 0.45, 0.6, 1.0, 1.7, 2.4],
        2.8,
    )
    base = base * np.where(ch.dead, 4.0, 1.0) * np.where(ch.severe, 1.6, 1.0)
    base = base * np.where(ch.grade_now > 0, 1.15, 1.0)
    forced = np.zeros(ch.P, dtype=bool)
    x_forced = np.zeros(ch.P)
    zp = ch.z_patient[ch.z_patient >= 0]
    forced[zp] = True
    x_forced[zp] = ch.z_oop[ch.hh[zp]]
    forced &= ch.insured
    claimant = ch.insured
    rec = claimant & ch.in_r & ~forced
    oth = claimant & ~ch.in_r & ~forced
    want_r = (
        cal.MED_RETURN_PER_PERSON * ch.P
        - (forced & ch.in_r & (x_forced > cal.MED_RETURN_THRESHOLD)).sum()
    )
    want_n = cal.MED_FALL_PER_PERSON * ch.P - (forced & ~ch.in_r & (x_forced > w.di_prev)).sum()
    s_r = _solve_scale(base[rec], cal.MED_RETURN_THRESHOLD, max(want_r, 0.0), 0.3)
    s_n = _solve_scale(base[oth], w.di_prev, max(want_n, 0.0), 0.3)
    u = rng.random(ch.P)
    ll = (u / (1.0 - u)) ** (1.0 / BETA)
    x = np.where(ch.in_r, s_r, s_n) * base * MEDIAN * ll
    x = np.where(forced, x_forced, np.minimum(x, CAP))
    ch.stats["med_return_expected"] = float(
        _tail(s_r * base[rec] * MEDIAN, cal.MED_RETURN_THRESHOLD).sum() + (forced & ch.in_r).sum()
    )
    return np.where(claimant, x, 0.0)


def _cents(values: np.ndarray) -> np.ndarray:
    return np.rint(values * 100.0).astype(np.int64)


def claims(ch: Chunk, state: State, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    x = yearly_out_of_pocket(ch, rng)
    claimant = ch.insured
    lam = (x + 80.0) ** 0.42 * np.where(ch.age >= 60, 1.25, 1.0) * claimant
    lam *= LINES_PER_PERSON * ch.P / max(lam.sum(), 1e-9)
    n_lines = rng.poisson(lam)
    n_lines = np.where(claimant & (x > 150.0), np.maximum(n_lines, 1), n_lines)
    n_lines = np.where(x > 20_000.0, np.maximum(n_lines, 6), n_lines).clip(0, 400)
    in_p = np.where(x > 800.0, 0.12, 0.02)
    n_in = np.where(x > 4_000.0, 1 + rng.poisson(x / 50_000.0), (rng.random(ch.P) < in_p) * 1)
    n_in = np.minimum(n_in, np.minimum(n_lines, 10))
    person = np.repeat(np.arange(ch.P, dtype=np.int32), n_lines)
    k = person.size
    j = np.arange(k, dtype=np.int32) - np.repeat((np.cumsum(n_lines) - n_lines), n_lines)
    ctype = np.where(rng.random(k) < 0.55, OUTPATIENT, PHARMACY).astype(np.int8)
    ctype[j < n_in[person]] = INPATIENT
    del j
    # split the person's year over the lines
    weight = rng.gamma(np.array([2.0, 1.3, 1.3])[ctype]) * np.array([14.0, 1.0, 0.7])[ctype]
    weight += 1e-6
    weight /= np.bincount(person, weights=weight, minlength=ch.P)[person]
    oop = x[person] * weight
    del weight
    # settlement dates within the person's year (born / died)
    lo = np.maximum(w.jan1, ch.birth)[person]
    span = np.minimum(w.ref, ch.death_day)[person] - lo + 1
    day = lo + (rng.random(k) * span).astype(np.int64)
    del lo, span
    # out-of-policy share of the out-of-pocket money, then what was paid before it
    phi = rng.beta(np.array([2.0, 1.5, 2.5])[ctype], np.array([4.0, 4.5, 2.5])[ctype])
    in_pol = (1.0 - phi) * oop
    del phi
    assist = np.zeros(k)
    sub = np.flatnonzero(ch.med_rate[person] > 0)
    if sub.size:
        p_sub = person[sub]
        d_sub = day[sub]
        rate = ch.med_rate[p_sub]
        rate = np.where((d_sub >= ch.med_from[p_sub]) & (d_sub <= ch.med_to[p_sub]), rate, 0.0)
        full = rate >= 1.0
        in_pol[sub[full]] = 0.0
        part = ~full & (rate > 0)
        assist[sub[part]] = in_pol[sub[part]] * rate[part] / (1.0 - rate[part])
        assist[sub[full]] = oop[sub[full]] * rng.uniform(0.5, 2.5, int(full.sum()))
    self_in = in_pol + assist
    emp = ch.employee_y1[person]
    rho_mean = np.array([[0.72, 0.52, 0.25], [0.86, 0.65, 0.45]])[emp.astype(np.int8), ctype]
    del emp
    rho = np.clip(rho_mean + rng.normal(0, 0.04, k), 0.05, 0.93)
    del rho_mean
    fund = self_in * rho / (1.0 - rho)
    del rho
    crit_share = np.where(
        (ctype == INPATIENT) & (self_in > 5_000.0), np.minimum(0.35, (self_in - 5_000) / 60_000), 0
    )
    del self_in
    c_crit = _cents(fund * crit_share)
    c_fund = _cents(fund * (1.0 - crit_share))
    del fund, crit_share
    c_oop = _cents(oop)
    del oop
    c_in = np.minimum(_cents(in_pol), c_oop)
    del in_pol
    c_assist = _cents(assist)
    del assist
    floor_cost = rng.integers(500, 2_500, k)  # 5-25 yuan at least
    c_fund += np.maximum(floor_cost - (c_fund + c_crit + c_assist + c_oop), 0)
    del floor_cost
    total = c_fund + c_crit + c_assist + c_oop
    # hospitals: inpatient mostly in the district (15 % in the city hospitals of 天宁/钟楼),
    # outpatient often at the town's health centre, pharmacy at a district pharmacy
    d = ch.district[person]
    dh = np.where((ctype == INPATIENT) & (rng.random(k) < 0.15), rng.integers(0, 2, k), d)
    hosp = w.hospital_start[dh] + (w.hospital_count[dh] * rng.random(k) ** 2.2).astype(np.int64)
    del dh
    centre = (ctype == OUTPATIENT) & (rng.random(k) < 0.55)
    hosp[centre] = w.health_center[ch.town[ch.hh[person[centre]]]]
    ph = ctype == PHARMACY
    dp = d[ph]
    hosp[ph] = w.pharmacy_start[dp] + (w.pharmacy_count[dp] * rng.random(dp.size)).astype(np.int64)
    del d, dp, ph, centre
    seq = state.take("claim", k)
    yy, mm, dd = codes.ymd(day)
    cid = codes.concat_bytes(b"3204", codes.digits(yy, 4), codes.digits(mm, 2), codes.digits(dd, 2))
    del yy, mm, dd
    cid = np.concatenate([cid, codes.digits(seq, 10)], axis=1)
    ch.stats["oop_total"] = float(c_oop.sum() / 100.0)
    ch.x_year = x
    return pa.table(
        {
            "claim_id": codes.fixed_strings(cid),
            "id_number": ids_for(ch, person),
            "settlement_date": date_array(day),
            "claim_type": pa.array(CLAIM_TYPES).take(pa.array(ctype)),
            "total_cost": pa.array(total / 100.0),
            "fund_paid": pa.array(c_fund / 100.0),
            "critical_illness_paid": pa.array(c_crit / 100.0),
            "assistance_paid": pa.array(c_assist / 100.0),
            "out_of_pocket": pa.array(c_oop / 100.0),
            "in_policy_out_of_pocket": pa.array(c_in / 100.0),
            "hospital_code": w.hospital_codes.take(pa.array(hosp)),
        }
    )


def medical_assistance_rows(ch: Chunk, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """依申请 medical assistance (yiliao) for some non-recipients with a heavy year."""
    w = ch.world
    s = w.standard
    pm = ch.pm[ch.hh]
    cand = ch.insured & ~ch.in_r & (ch.x_year > 20_000.0) & (pm < 3.0 * s)
    pick = cand & (rng.random(ch.P) < 0.35)
    person = np.flatnonzero(pick)
    hi = np.minimum(w.ref, ch.death_day[person])
    start = np.minimum(w.jan1 + 120 + (rng.random(person.size) * 240).astype(np.int64), hi)
    amount = np.rint(np.minimum(ch.x_year[person] * rng.uniform(0.2, 0.5, person.size), 50_000))
    return {
        "person": person,
        "program": np.full(person.size, YILIAO, dtype=np.int64),
        "start": start,
        "end": start,
        "cents": (amount * 100).astype(np.int64),
    }


__all__ = ["NEVER", "claims", "insurance", "medical_assistance_rows"]
