"""Traffic accidents, safety incidents and natural disasters of one chunk (year − 1 and
year), and the temporary assistance (linshi) some of the hit households receive."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.synth import codes
from dajiuzhu.synth.assistance import LINSHI
from dajiuzhu.synth.people import Chunk, date_array, expand, ids_for
from dajiuzhu.synth.world import State

INJURIES = ["none", "minor", "serious", "fatal"]
INCIDENT_KINDS = ["fire", "flood", "typhoon", "earthquake", "production_safety", "other"]
LOSS_LEVELS = ["minor", "serious", "major", "catastrophic"]
ACCIDENT_RATE = 0.0008  # person-rows per person and year
INCIDENT_RATE = 0.0008


def _alive_on(ch: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (ch.birth[person] <= day) & (day < ch.death_day[person])


def traffic(ch: Chunk, state: State, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    parts = []
    for y in (w.year - 1, w.year):
        jan1 = codes.day_number(y)
        dec31 = codes.day_number(y, 12, 31)
        n_acc = rng.poisson(ch.P * ACCIDENT_RATE / 1.6)
        size = rng.choice([1, 2, 3, 4], n_acc, p=[0.55, 0.35, 0.08, 0.02])
        day = jan1 + rng.integers(0, dec31 - jan1 + 1, n_acc)
        acc = np.repeat(np.arange(n_acc), size)
        person = rng.integers(0, ch.P, acc.size)
        d = day[acc]
        ok = _alive_on(ch, person, d) & (ch.age[person] >= 3) & (ch.age[person] <= 90)
        injury = rng.choice(3, acc.size, p=[0.32, 0.50, 0.18])
        parts.append((y, acc[ok], person[ok], d[ok], injury[ok], n_acc))
    # Fatal: some deaths of the year (younger ones more likely) were road deaths.
    dead = np.flatnonzero(ch.dead & (ch.age >= 5) & (ch.age <= 85) & (ch.death_day >= w.jan1))
    p_fatal = ch.P * ACCIDENT_RATE * 0.045 / max(dead.size, 1)
    young = np.where(ch.age[dead] < 60, 3.0, 0.6)
    norm = young / young.mean() if dead.size else young
    pick = dead[rng.random(dead.size) < np.minimum(p_fatal * norm, 1.0)]
    tables = []
    for y, acc, person, d, injury, n_acc in parts:
        if y == w.year and pick.size:
            f_acc = n_acc + np.arange(pick.size)
            f_day = np.maximum(ch.death_day[pick] - rng.integers(0, 3, pick.size), w.jan1)
            # a fatal accident of the year, sometimes with another (injured) person
            other = rng.integers(0, ch.P, pick.size)
            with_o = (rng.random(pick.size) < 0.4) & _alive_on(ch, other, f_day)
            with_o &= other != pick
            acc = np.concatenate([acc, f_acc, f_acc[with_o]])
            person = np.concatenate([person, pick, other[with_o]])
            d = np.concatenate([d, f_day, f_day[with_o]])
            injury = np.concatenate(
                [injury, np.full(pick.size, 3), rng.choice(3, int(with_o.sum()), p=[0.2, 0.5, 0.3])]
            )
            n_acc += pick.size
        # one row per accident and person
        key = acc * (ch.P + 1) + person
        _, first = np.unique(key, return_index=True)
        first = np.sort(first)
        acc, person, d, injury = acc[first], person[first], d[first], injury[first]
        seq = state.take("accident", n_acc)
        acc_day = np.zeros(n_acc, dtype=np.int64)
        acc_day[acc] = d
        ids = np.concatenate(
            [
                np.broadcast_to(np.frombuffer(b"3204", np.uint8), (n_acc, 4)),
                codes.digits(np.full(n_acc, y), 4),
                codes.digits(seq, 8),
            ],
            axis=1,
        )
        acc_ids = codes.fixed_strings(ids)
        order = np.lexsort((person, d))
        acc, person, d, injury = acc[order], person[order], d[order], injury[order]
        tables.append(
            pa.table(
                {
                    "accident_id": acc_ids.take(pa.array(acc)),
                    "id_number": ids_for(ch, person),
                    "accident_date": date_array(d),
                    "injury": pa.array(INJURIES).take(pa.array(injury)),
                }
            )
        )
        if y == w.year:
            ch.traffic_year = (person, d, injury)
    return pa.concat_tables(tables)


def incidents(ch: Chunk, state: State, rng: np.random.Generator) -> pa.Table:
    w = ch.world
    tables = []
    for y in (w.year - 1, w.year):
        jan1 = codes.day_number(y)
        dec31 = codes.day_number(y, 12, 31)
        n_inc = rng.poisson(ch.P * INCIDENT_RATE / 4.5)
        kind = rng.choice(6, n_inc, p=[0.35, 0.15, 0.10, 0.02, 0.25, 0.13])
        day = jan1 + rng.integers(0, dec31 - jan1 + 1, n_inc)
        # floods, typhoons and earthquakes hit neighbouring households (same community)
        n_hh = np.where(np.isin(kind, [1, 2, 3]), rng.integers(2, 7, n_inc), 1)
        first_hh = rng.integers(0, max(ch.H - 7, 1), n_inc)
        hh = expand(first_hh, n_hh)
        inc_of_hh = np.repeat(np.arange(n_inc), n_hh)
        person = expand(ch.hh_start[hh], ch.size[hh])
        inc = np.repeat(inc_of_hh, ch.size[hh])
        # production-safety incidents: one to three workers instead of a household
        ps = np.isin(kind[inc], [4])
        workers = ch.work_person
        person = person[~ps]
        inc = inc[~ps]
        ps_inc = np.flatnonzero(kind == 4)
        n_w = rng.integers(1, 4, ps_inc.size)
        if workers.size:
            w_person = workers[rng.integers(0, workers.size, int(n_w.sum()))]
            person = np.concatenate([person, w_person])
            inc = np.concatenate([inc, np.repeat(ps_inc, n_w)])
        d = day[inc]
        ok = _alive_on(ch, person, d)
        person, inc, d = person[ok], inc[ok], d[ok]
        key = inc * (ch.P + 1) + person
        _, first = np.unique(key, return_index=True)
        first = np.sort(first)
        person, inc, d = person[first], inc[first], d[first]
        level_p = np.array(
            [
                [0.62, 0.28, 0.08, 0.02],
                [0.55, 0.32, 0.11, 0.02],
                [0.60, 0.30, 0.09, 0.01],
                [0.50, 0.30, 0.15, 0.05],
                [0.55, 0.33, 0.10, 0.02],
                [0.75, 0.20, 0.05, 0.00],
            ]
        )
        cum = np.cumsum(level_p, axis=1)
        level_inc = (rng.random(n_inc)[:, None] > cum[kind]).sum(axis=1).clip(0, 3)
        level = level_inc[inc]
        lo = np.array([500.0, 8_000.0, 60_000.0, 400_000.0])[level]
        hi = np.array([8_000.0, 60_000.0, 400_000.0, 3_000_000.0])[level]
        amount = np.rint(np.exp(rng.uniform(np.log(lo), np.log(hi))) * 100.0) / 100.0
        seq = state.take("incident", n_inc)
        ids = codes.fixed_strings(
            np.concatenate(
                [
                    np.broadcast_to(np.frombuffer(b"YJ3204", np.uint8), (n_inc, 6)),
                    codes.digits(np.full(n_inc, y), 4),
                    codes.digits(seq, 7),
                ],
                axis=1,
            )
        )
        order = np.lexsort((person, inc))
        person, inc, d, level, amount = (
            person[order],
            inc[order],
            d[order],
            level[order],
            amount[order],
        )
        tables.append(
            pa.table(
                {
                    "incident_id": ids.take(pa.array(inc)),
                    "id_number": ids_for(ch, person),
                    "incident_date": date_array(d),
                    "kind": pa.array(INCIDENT_KINDS).take(pa.array(kind[inc])),
                    "loss_level": pa.array(LOSS_LEVELS).take(pa.array(level)),
                    "loss_amount": pa.array(amount),
                }
            )
        )
        if y == w.year:
            ch.incident_year = (person, d, level)
    return pa.concat_tables(tables)


def temporary_assistance_rows(ch: Chunk, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """临时救助 (linshi) for a share of households hit in year: a serious or fatal traffic
    injury, a serious disaster, or the death of a working-age member."""
    w = ch.world
    s = w.standard
    t_person, t_day, injury = ch.traffic_year
    i_person, i_day, level = ch.incident_year
    dead = np.flatnonzero(ch.dead & (ch.age >= 18) & (ch.age <= 59))
    person = np.concatenate([t_person[injury >= 2], i_person[level >= 1], dead])
    day = np.concatenate([t_day[injury >= 2], i_day[level >= 1], ch.death_day[dead]])
    pick = rng.random(person.size) < 0.25
    person, day = person[pick], day[pick]
    # paid to a living member of the household (the head if alive, else the first living)
    hh = ch.hh[person]
    head = ch.hh_start[hh]
    recipient = np.where(ch.living[head], head, person)
    ok = ch.living[recipient]
    recipient, day = recipient[ok], day[ok]
    start = np.minimum(day + rng.integers(15, 60, day.size), w.ref)
    cap = w.figures.linshi_cap_months  # 急难型: at most this many months of the standard
    amount = np.rint(s * rng.uniform(1.0, cap, day.size) / 100.0) * 100.0
    return {
        "person": recipient,
        "program": np.full(recipient.size, LINSHI, dtype=np.int64),
        "start": start,
        "end": start,
        "cents": (amount * 100).astype(np.int64),
    }
