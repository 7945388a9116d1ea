"""Households and persons of one chunk: composition and ages, places, ID numbers, names,
deaths, moves and disability certificates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dajiuzhu.synth import calibration, codes
from dajiuzhu.synth.world import State, World

HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, SIBLING, OTHER = range(7)
NEVER = 2**31 - 1  # a day number: never (an open end, no death)
RELATIONS = ["head", "spouse", "child", "parent", "grandchild", "sibling", "other"]
KINDS = ["visual", "hearing", "speech", "physical", "intellectual", "psychiatric", "multiple"]
VISUAL, PHYSICAL, INTELLECTUAL, PSYCHIATRIC, MULTIPLE = 0, 3, 4, 5, 6

# Household templates: relations of the members and share of households. Sizes come out as
# 1: 25 %, 2: 30 %, 3: 22 %, 4: 12 %, 5: 7 %, 6: 4 % (mean about 2.6, Jiangsu).
H, S, C, P, G, B, OT = HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, SIBLING, OTHER
TEMPLATES: list[tuple[str, tuple[int, ...], float]] = [
    ("single_young", (H,), 0.165),
    ("single_old", (H,), 0.085),
    ("couple_young", (H, S), 0.08),
    ("couple_middle", (H, S), 0.085),
    ("couple_old", (H, S), 0.06),
    ("lone_parent", (H, C), 0.045),
    ("with_parent", (H, P), 0.02),
    ("siblings", (H, B), 0.01),
    ("nuclear", (H, S, C), 0.175),
    ("couple_parent", (H, S, P), 0.02),
    ("skipped", (H, S, G), 0.025),
    ("nuclear2", (H, S, C, C), 0.06),
    ("nuclear_parent", (H, S, C, P), 0.035),
    ("three_gen", (H, S, C, G), 0.025),
    ("nuclear_parents", (H, S, C, P, P), 0.025),
    ("three_gen_inlaw", (H, S, C, OT, G), 0.035),
    ("nuclear2_parent", (H, S, C, C, P), 0.01),
    ("three_gen_big", (H, S, C, OT, G, G), 0.025),
    ("nuclear2_parents", (H, S, C, C, P, P), 0.015),
]
T_SIZE = np.array([len(r) for _, r, _ in TEMPLATES], dtype=np.int64)
T_P = np.array([p for _, _, p in TEMPLATES])
T_P = T_P / T_P.sum()
T_REL = np.full((len(TEMPLATES), 6), -1, dtype=np.int8)
for _k, (_n, _r, _p) in enumerate(TEMPLATES):
    T_REL[_k, : len(_r)] = _r

# Persons per 1,000 by five-year age group, Jiangsu-like (ageing: about 22 % aged 60+).
_AGE_GROUPS = [45, 52, 48, 45, 52, 62, 85, 72, 68, 80, 88, 78, 58, 62, 45, 28, 18, 10, 3.5, 0.8]
COHORT = np.concatenate([np.repeat(np.array(_AGE_GROUPS, dtype=float), 5), [0.1]])


class Chunk:
    """Arrays of one chunk: household-level (length H) and person-level (length P).

    The stages (households, ids, deaths, employment, assets, …) add their arrays as
    attributes; persons are grouped by household (``hh`` is non-decreasing) and a
    household's members are ``hh_start[h] … hh_start[h] + size[h] - 1``, head first."""

    def __init__(self, index: int, world: World) -> None:
        self.index = index
        self.world = world
        self.stats: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes no stage has set yet (lets type checkers accept the
        # dynamic attributes).
        raise AttributeError(f"chunk has no {name!r} yet (stage order?)")

    def __setattr__(self, name: str, value: Any) -> None:  # the stages add arrays freely
        super().__setattr__(name, value)


def expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges [starts[i], starts[i] + counts[i])."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.asarray(starts, dtype=np.int64) - (np.cumsum(counts) - counts)
    return np.repeat(offsets, counts) + np.arange(total, dtype=np.int64)


def group_argmax(values: np.ndarray, ch: Chunk, mask: np.ndarray) -> np.ndarray:
    """Per household, the person with the largest value among ``mask`` (-1 if none)."""
    v = np.where(mask, values, -np.inf)
    order = np.lexsort((-v, ch.hh))
    first = order[ch.hh_start]
    return np.where(np.isfinite(v[first]), first, -1)


def cohort(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    c = np.cumsum(COHORT[lo : hi + 1])
    return lo + np.searchsorted(c, rng.random(n) * c[-1], side="right").astype(np.int64)


def _gap(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.clip(np.rint(rng.normal(28.0, 4.5, n)), 20, 42).astype(np.int64)


def _spouse_gap(rng: np.random.Generator, n: int) -> np.ndarray:
    """Husband's age minus wife's: about two years, -4 … 10."""
    return np.clip(np.rint(rng.normal(2.0, 2.5, n)), -4, 10).astype(np.int64)


def _couple(
    rng: np.random.Generator,
    husband: np.ndarray,
    p_male_head: float,
    wife: np.ndarray | None = None,
):
    n = husband.size
    if wife is None:
        wife = husband - _spouse_gap(rng, n)
    wife = np.clip(wife, 19, 100)
    husband = np.clip(husband, 20, 100)
    head_male = rng.random(n) < p_male_head
    head = np.where(head_male, husband, wife)
    spouse = np.where(head_male, wife, husband)
    return head, head_male, spouse, ~head_male


def _sex(rng: np.random.Generator, n: int, p_male: float = 0.515) -> np.ndarray:
    return rng.random(n) < p_male


def _template_members(rng: np.random.Generator, name: str, n: int):
    """Ages and sexes (male) of the members of ``n`` households of one template."""
    ages: list[np.ndarray] = []
    male: list[np.ndarray] = []

    def add(a: np.ndarray, m: np.ndarray) -> None:
        ages.append(np.clip(a, 0, 100))
        male.append(m)

    def head_couple(husband: np.ndarray, p: float = 0.85) -> None:
        h, hm, s, sm = _couple(rng, husband, p)
        add(h, hm)
        add(s, sm)

    if name == "single_young":
        add(cohort(rng, n, 20, 59), _sex(rng, n, 0.58))
    elif name == "single_old":
        add(cohort(rng, n, 60, 100), _sex(rng, n, 0.38))
    elif name in ("couple_young", "couple_middle", "couple_old"):
        lo, hi = {"couple_young": (23, 42), "couple_middle": (44, 60), "couple_old": (62, 98)}[name]
        head_couple(cohort(rng, n, lo, hi), 0.82)
    elif name == "lone_parent":
        child = cohort(rng, n, 0, 30)
        add(child + _gap(rng, n), _sex(rng, n, 0.35))
        add(child, _sex(rng, n))
    elif name == "with_parent":
        parent = cohort(rng, n, 62, 100)
        add(np.maximum(parent - _gap(rng, n), 20), _sex(rng, n, 0.55))
        add(parent, _sex(rng, n, 0.35))
    elif name == "siblings":
        a = cohort(rng, n, 20, 90)
        add(a, _sex(rng, n))
        add(np.clip(a + rng.integers(-8, 9, n), 18, 100), _sex(rng, n))
    elif name == "couple_parent":
        parent = cohort(rng, n, 60, 100)
        head_couple(np.maximum(parent - _gap(rng, n), 24))
        add(parent, _sex(rng, n, 0.35))
    elif name == "skipped":
        g = cohort(rng, n, 0, 17)
        head_couple(g + _gap(rng, n) + _gap(rng, n) + 2, 0.8)
        add(g, _sex(rng, n, 0.52))
    elif name.startswith("nuclear"):
        two = name.startswith("nuclear2")
        hi = 18 if "parent" in name else 28
        c1 = cohort(rng, n, 0, hi if not two else min(hi, 24))
        c2 = c1 + rng.integers(1, 9, n) if two else c1
        mother = np.maximum(c1, c2) + _gap(rng, n)
        father = mother + _spouse_gap(rng, n)
        h, hm, s, sm = _couple(rng, father, 0.85, wife=mother)
        add(h, hm)
        add(s, sm)
        add(c1, _sex(rng, n))
        if two:
            add(c2, _sex(rng, n))
        if name in ("nuclear_parent", "nuclear2_parent"):
            add(h + _gap(rng, n), _sex(rng, n, 0.35))
        elif name.endswith("parents"):
            fa = h + _gap(rng, n)
            add(fa, np.ones(n, dtype=bool))
            add(fa - np.rint(rng.normal(2.0, 2.0, n)).astype(int), np.zeros(n, dtype=bool))
    else:  # three-generation households headed by a grandparent
        g1 = cohort(rng, n, 0, 16 if name == "three_gen_big" else 20)
        g2 = g1 + rng.integers(1, 8, n)
        mid = (g2 if name == "three_gen_big" else g1) + _gap(rng, n)
        head_couple(mid + _gap(rng, n) + 2, 0.8)
        mid_male = _sex(rng, n, 0.75)
        add(mid, mid_male)
        if name != "three_gen":
            shift = np.rint(rng.normal(2.0, 2.5, n)).astype(int) * np.where(mid_male, 1, -1)
            add(mid - shift, ~mid_male)
        add(g1, _sex(rng, n, 0.52))
        if name == "three_gen_big":
            add(g2, _sex(rng, n, 0.52))
    return np.stack(ages, axis=1), np.stack(male, axis=1)


def households(ch: Chunk, rng: np.random.Generator, n_persons: int) -> None:
    w = ch.world
    est = int(n_persons / 2.4) + 64
    while True:
        t = rng.choice(len(TEMPLATES), size=est, p=T_P)
        cs = np.cumsum(T_SIZE[t])
        if cs[-1] >= n_persons:
            break
        est *= 2
    n_h = int(np.searchsorted(cs, n_persons)) + 1
    t = t[:n_h]
    size = T_SIZE[t].copy()
    size[-1] -= int(cs[n_h - 1] - n_persons)
    town = rng.choice(w.town_codes.size, size=n_h, p=w.town_p)
    comm = np.searchsorted(w.comm_cum, town + rng.random(n_h), side="right")
    ages = np.full((n_h, 6), -1, dtype=np.int64)
    male = np.zeros((n_h, 6), dtype=bool)
    for k, (name, rels, _) in enumerate(TEMPLATES):
        idx = np.flatnonzero(t == k)
        if idx.size:
            a, m = _template_members(rng, name, idx.size)
            ages[idx, : len(rels)] = a
            male[idx, : len(rels)] = m
    order = np.argsort(comm, kind="stable")
    t, size, town, comm = t[order], size[order], town[order], comm[order]
    ages, male = ages[order], male[order]
    slot_ok = np.arange(6)[None, :] < size[:, None]
    ch.H = n_h
    ch.P = int(size.sum())
    ch.tpl, ch.size, ch.town, ch.comm = t, size, town, comm
    ch.district_h = w.town_district[town]
    ch.hh_start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    ch.hh = np.repeat(np.arange(n_h, dtype=np.int64), size)
    ch.rel = T_REL[t][slot_ok].astype(np.int64)
    ch.age = ages[slot_ok]
    ch.male = male[slot_ok]
    ch.district = ch.district_h[ch.hh]
    # 0.5 % of households are collective (集体户): registered at the town, not a community.
    ch.collective = rng.random(n_h) < 0.005
    ch.village = w.comm_village[comm] & ~ch.collective


def household_numbers(ch: Chunk, state: State) -> None:
    """户号: town code + 7-digit sequence, unique across chunks."""
    town = ch.town
    first = np.zeros(ch.H, dtype=np.int64)
    order = np.argsort(town, kind="stable")
    st = town[order]
    starts = np.flatnonzero(np.r_[True, st[1:] != st[:-1]])
    rank_sorted = np.arange(ch.H) - np.repeat(starts, np.diff(np.r_[starts, ch.H]))
    first[order] = rank_sorted
    seq = state.hh_seq[town] + first + 1
    np.add.at(state.hh_seq, town, 1)
    mat = np.concatenate([codes.digits(ch.world.town_codes[town], 9), codes.digits(seq, 7)], 1)
    ch.household_no = codes.fixed_strings(mat)
    twelve = codes.fixed_strings(codes.digits(ch.world.comm_codes[ch.comm], 12))
    nine = codes.fixed_strings(codes.digits(ch.world.town_codes[town], 9))
    ch.division_h = pc.if_else(pa.array(ch.collective), nine, twelve)


def births(ch: Chunk, rng: np.random.Generator) -> None:
    w = ch.world
    years = (w.year - ch.age + 1 - 1970).astype("datetime64[Y]")
    eoy = years.astype("datetime64[D]").astype(np.int64) - 1
    ch.birth = eoy - rng.integers(0, 365, ch.P)


def id_numbers(ch: Chunk, state: State, rng: np.random.Generator) -> None:
    """Region = the district (some born elsewhere in Jiangsu), birth date, a sequence unique
    per region, birth day and sex across the whole run (odd for men), and the check digit."""
    n_d = ch.world.district_codes.size
    p_else = np.array([0.06, 0.12, 0.015, 0.06, 0.015, 0.06, 0.10])[ch.rel]
    elsewhere = rng.random(ch.P) < p_else
    reg_idx = np.where(
        elsewhere, n_d + rng.integers(0, state.id_regions.size - n_d, ch.P), ch.district
    )
    sex = ch.male.astype(np.int64)
    n_days = state.id_seq.shape[1]
    flat = state.id_seq.reshape(-1)
    birth = ch.birth.copy()
    while True:
        day = birth - state.id_day0
        key = (reg_idx * n_days + day) * 2 + sex
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        rank = np.empty(ch.P, dtype=np.int64)
        rank[order] = np.arange(ch.P) - np.repeat(starts, np.diff(np.r_[starts, ch.P]))
        k = flat[key].astype(np.int64) + rank
        over = k >= 500
        if not over.any():
            break
        birth[over] -= 1  # a full cell (500 per sex): move to the day before
    np.add.at(flat, key, 1)
    offset = (key * 7_919) % 500
    seq = 2 * ((k * 211 + offset) % 500) + sex
    ch.birth = birth
    ch.id_mat = codes.id_numbers(state.id_regions[reg_idx], birth, seq)
    ch.id_void = ch.id_mat.view(np.dtype((np.void, 18))).reshape(-1)


def ids_for(ch: Chunk, person: np.ndarray) -> pa.Array:
    """The ID-number strings of persons (row indices into the chunk)."""
    return codes.fixed_strings(ch.id_void[person].view(np.uint8).reshape(-1, 18))


def person_names(ch: Chunk, rng: np.random.Generator) -> None:
    w = ch.world
    ln = rng.choice(w.last_p.size, size=ch.P, p=w.last_p)
    head = ch.hh_start
    second = np.minimum(head + 1, ch.P - 1)
    has_spouse = (ch.size > 1) & (ch.rel[second] == SPOUSE)
    fam = np.where(ch.male[head] | ~has_spouse, ln[head], ln[second])
    inherit = np.isin(ch.rel, [CHILD, GRANDCHILD, SIBLING]) | (
        (ch.rel == PARENT) & ch.male & ch.male[head][ch.hh]
    )
    inherit &= rng.random(ch.P) < 0.92
    ln = np.where(inherit, fam[ch.hh], ln)
    fm = rng.integers(0, len(w.first_male), ch.P)
    ff = rng.integers(0, len(w.first_female), ch.P)
    first = pc.if_else(pa.array(ch.male), w.first_male.take(fm), w.first_female.take(ff))
    ch.name = pc.binary_join_element_wise(w.last_names.take(ln), first, "")


def deaths_and_moves(ch: Chunk, rng: np.random.Generator) -> None:
    w = ch.world
    a = ch.age.astype(float)
    q = np.exp(-10.2 + 0.088 * a) * np.where(ch.male, 1.25, 0.8)
    q = np.where(ch.age == 0, 0.0025, np.where(ch.age < 5, 0.0003, q))
    p = np.minimum(q * calibration.DEATH_RATE * ch.P / q.sum(), 0.5)
    ch.dead = rng.random(ch.P) < p
    lo = np.maximum(w.jan1, ch.birth + 1)
    ch.death_day = np.where(
        ch.dead, lo + (rng.random(ch.P) * (w.ref - lo + 1)).astype(np.int64), 2**31 - 1
    )
    cand = (ch.rel == CHILD) & (ch.age >= 20) & (ch.age <= 40) & ~ch.dead
    share = min(1.0, 0.003 * ch.P / max(1, int(cand.sum())))
    ch.moved = cand & (rng.random(ch.P) < share)
    ch.living = ~ch.dead & ~ch.moved  # members in December


def disability(ch: Chunk, rng: np.random.Generator) -> None:
    """Certificates: about 6 % of persons, a quarter of them grade 1-2; most issued before
    ``year``, some in it (new, or an upgrade), a few revoked."""
    w = ch.world
    age = ch.age
    f = np.select(
        [age < 1, age < 18, age < 45, age < 60, age < 70, age < 80],
        [0.0, 1.2, 3.0, 6.0, 9.0, 13.0],
        20.0,
    )
    p = np.minimum(f * calibration.DISABILITY_RATE * ch.P / max(f.sum(), 1e-9), 0.9)
    dis = rng.random(ch.P) < p
    young_p = np.array([0.06, 0.10, 0.08, 0.18, 0.30, 0.04, 0.24])
    adult_p = np.array([0.14, 0.24, 0.012, 0.31, 0.05, 0.085, 0.163])
    u = rng.random(ch.P)
    kind = np.where(
        age < 18,
        np.searchsorted(np.cumsum(young_p) / young_p.sum(), u, side="right"),
        np.searchsorted(np.cumsum(adult_p) / adult_p.sum(), u, side="right"),
    ).clip(0, 6)
    grade = 1 + np.searchsorted(np.cumsum([0.10, 0.15, 0.30, 0.45]), rng.random(ch.P), "right")
    grade = grade.clip(1, 4)
    earliest = np.maximum(codes.day_number(2008), ch.birth + 365)
    can_old = earliest < w.jan1
    can_new = np.maximum(w.jan1, ch.birth + 365) <= w.ref
    new = dis & can_new & ((rng.random(ch.P) < 0.04) | ~can_old)
    dis &= can_old | new
    old_day = earliest + (rng.random(ch.P) * np.maximum(w.jan1 - earliest, 1)).astype(np.int64)
    new_lo = np.maximum(w.jan1, ch.birth + 365)
    new_day = new_lo + (rng.random(ch.P) * np.maximum(w.ref - new_lo + 1, 1)).astype(np.int64)
    new_day = np.minimum(new_day, np.where(ch.dead, ch.death_day, w.ref))
    issued = np.where(new, new_day, old_day)
    # Upgrades issued in year: grade 3 physical -> 2 (a new severe disability); grade 2 -> 1
    # (already severe before).
    old = dis & ~new
    up = old & (
        ((kind == PHYSICAL) & (grade == 3) & (rng.random(ch.P) < 0.05))
        | ((grade == 2) & (rng.random(ch.P) < 0.01))
    )
    up_day = np.minimum(w.jan1 + (rng.random(ch.P) * 365).astype(np.int64), w.ref)
    up_day = np.minimum(up_day, np.where(ch.dead, ch.death_day, w.ref))
    revoked = dis & ((ch.dead & (rng.random(ch.P) < 0.4)) | (rng.random(ch.P) < 0.003))
    ch.dis, ch.dis_kind, ch.dis_grade, ch.dis_issued = dis, kind, grade, issued
    ch.dis_up, ch.dis_up_day, ch.dis_revoked = up, up_day, revoked & ~up
    cur_grade = np.where(up, grade - 1, grade)
    ch.grade_now = np.where(dis & ~(revoked & ~up), cur_grade, 0)
    ch.severe = (ch.grade_now >= 1) & (
        (ch.grade_now <= 2) | ((ch.grade_now == 3) & np.isin(kind, [INTELLECTUAL, PSYCHIATRIC]))
    )


def disability_table(ch: Chunk) -> pa.Table:
    person = np.flatnonzero(ch.dis)
    up = np.flatnonzero(ch.dis_up)
    rows = np.concatenate([person, up])
    kind = ch.dis_kind[rows]
    grade = np.concatenate([ch.dis_grade[person], ch.dis_grade[up] - 1])
    issued = np.concatenate([ch.dis_issued[person], ch.dis_up_day[up]])
    status = np.concatenate([ch.dis_revoked[person] | ch.dis_up[person], np.zeros(up.size, bool)])
    cert = np.concatenate(
        [
            ch.id_void[rows].view(np.uint8).reshape(-1, 18),
            (kind + 1 + codes.ASCII_ZERO).astype(np.uint8)[:, None],
            (grade + codes.ASCII_ZERO).astype(np.uint8)[:, None],
        ],
        axis=1,
    )
    order = np.argsort(rows, kind="stable")
    return pa.table(
        {
            "certificate_no": codes.fixed_strings(cert[order]),
            "id_number": ids_for(ch, rows[order]),
            "disability_kind": pa.array(KINDS).take(kind[order]),
            "grade": pa.array(grade[order].astype(np.int64)),
            "issued_date": date_array(issued[order]),
            "status": pa.array(["valid", "revoked"]).take(status[order].astype(np.int64)),
        }
    )


def date_array(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(days, dtype=np.int32), mask=mask)
    return arr.view(pa.date32())


def addresses(ch: Chunk, rng: np.random.Generator) -> pa.Array:
    """Per household: 「…社区XX花园12幢301室」, 「…社区XX路18号」 or 「…村5组23号」."""
    w = ch.world
    n = ch.H
    pick = ch.comm * 3 + rng.integers(0, 3, n)
    num = lambda lo, hi: pc.cast(pa.array(rng.integers(lo, hi, n)), pa.string())  # noqa: E731
    prefix = w.comm_prefix.take(ch.comm)
    estate = pc.binary_join_element_wise(
        prefix, w.estates.take(pick), num(1, 40), "幢", num(1, 7), "0", num(1, 5), "室", ""
    )
    road = pc.binary_join_element_wise(prefix, w.roads.take(pick), num(1, 300), "号", "")
    village = pc.binary_join_element_wise(prefix, num(1, 16), "组", num(1, 80), "号", "")
    collective = pc.binary_join_element_wise(w.town_prefix.take(ch.town), "集体户", "")
    urban = pc.if_else(pa.array(rng.random(n) < 0.7), estate, road)
    out = pc.if_else(pa.array(ch.village), village, urban)
    return pc.if_else(pa.array(ch.collective), collective, out)
