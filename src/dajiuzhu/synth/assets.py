"""Assets of one chunk: deposits, real estate, vehicles and businesses, and the asset test
per household (the limits of the policy parameters)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dajiuzhu.synth import calibration as cal
from dajiuzhu.synth import codes
from dajiuzhu.synth.income import CLS_C, CLS_X, CLS_Z, hsum
from dajiuzhu.synth.people import PHYSICAL, SPOUSE, Chunk, date_array, group_argmax, ids_for
from dajiuzhu.synth.world import State


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
    inc_h = hsum(ch, np.where(~ch.moved, ch.counted_asif, 0.0))
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
    limit = w.figures.financial_months * s * np.maximum(ch.n_eff, 1)
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
