"""Payments of one chunk (``assistance_payments``): one payment a month of ``year`` for each
特困/低保/低边/支出型 record that covers the month, the record's monthly amount — and the slips a
fund check should catch, at small seeded rates:

* a record ended by the recipient's death keeps being paid to December (PAID_AFTER_DEATH, and
  NO_APPROVAL since the record has ended);
* a payment sent twice in one month under a new payment number (DUPLICATE_PAYMENT);
* a 特困 recipient also paid 低保 in December (EXCLUSIVE, and NO_APPROVAL: no 低保 record).

The household checks (VEHICLE, PROPERTY, BUSINESS) find the recipients the generator already
lists although their household's assets no longer qualify.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.synth import codes
from dajiuzhu.synth.assistance import DIBAO, PROGRAMS, TEKUN, ZHICHU
from dajiuzhu.synth.people import Chunk, date_array, ids_for
from dajiuzhu.synth.world import State

PAID_ON_AFTER_DEATH = 0.5  # of the records ended by a death before December
SENT_TWICE = 0.01  # of the payments
TEKUN_ALSO_DIBAO = 0.1  # of the 特困 records paid in December
PAY_DAY = 10  # payments go out on the 10th of the month


def payments_table(
    ch: Chunk, state: State, rows: dict[str, np.ndarray], rng: np.random.Generator
) -> pa.Table:
    w = ch.world
    core = rows["program"] <= ZHICHU
    person = rows["person"][core]
    program = rows["program"][core]
    start, end, cents = rows["start"][core], rows["end"][core], rows["cents"][core]
    firsts = codes.month_start(np.arange(12), w.year)
    lasts = codes.month_start(np.arange(1, 13), w.year) - 1
    n = person.size
    rec = np.repeat(np.arange(n), 12)
    month = np.tile(np.arange(12), n)
    # a record ended by a death before December: a share of them stay on the payroll
    died = ch.dead[person] & (end == ch.death_day[person]) & (end < lasts[11])
    carried = died & (rng.random(n) < PAID_ON_AFTER_DEATH)
    paid_to = np.where(carried, lasts[11], end)
    active = (start[rec] <= lasts[month]) & (paid_to[rec] >= firsts[month]) & (cents[rec] > 0)
    rec, month = rec[active], month[active]
    prog = program[rec]
    # sent twice
    twice = rng.random(rec.size) < SENT_TWICE
    # 特困 also paid 低保 in December
    dec_tekun = (prog == TEKUN) & (month == 11)
    also = dec_tekun & (rng.random(rec.size) < TEKUN_ALSO_DIBAO)
    rec = np.concatenate([rec, rec[twice], rec[also]])
    month = np.concatenate([month, month[twice], month[also]])
    prog = np.concatenate([prog, prog[twice], np.full(int(also.sum()), DIBAO)])
    seq = state.take("payments", rec.size)
    payment_id = codes.concat_bytes(
        b"ZF", codes.digits(np.full(rec.size, w.year), 4), codes.digits(seq, 10)
    )
    who = person[rec]
    return pa.table(
        {
            "payment_id": codes.fixed_strings(payment_id),
            "id_number": ids_for(ch, who),
            "program_code": pa.array(PROGRAMS).take(pa.array(prog)),
            "household_no": ch.household_no.take(pa.array(ch.hh[who])),
            "month": w.months.take(pa.array(month + 12)),
            "amount": pa.array(cents[rec] / 100.0),
            "paid_date": date_array(firsts[month] + PAY_DAY - 1),
        }
    )
