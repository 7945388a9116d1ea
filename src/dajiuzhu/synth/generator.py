"""A deterministic synthetic Changzhou written as the departments' datasets.

``generate(persons=…, seed=…, year=…, out_dir=…)`` writes every contract dataset of
/work/shared/contracts/DATASETS.md as ``out_dir/<dataset>.<parquet|csv|xlsx>`` and the
synthetic communities as ``out_dir/_communities.csv``.

The population is built in chunks of whole households (200,000 persons each) with numpy;
each chunk's random streams derive from (seed, chunk, stage), and the few counters that
keep codes unique (ID sequences, 户号, claim and property numbers, plates …) are carried from
chunk to chunk, so the same arguments give byte-identical files. Chunks are streamed to one
writer per dataset (Parquet or CSV) on a background thread; XLSX collects the (small) tables
and is refused above Excel's 1,048,576 rows.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import queue
import threading
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dajiuzhu.synth import (
    assets,
    assistance,
    calibration,
    events,
    health,
    income,
    payments,
    people,
)
from dajiuzhu.synth.world import State, World, build_world, new_state, stream

CHUNK_PERSONS = 200_000
KNOWN_ANSWER = "_known_answer"  # the generator's known answer, written on request
XLSX_MAX_ROWS = 1_048_576  # per sheet, the header row included
FORMATS = ("parquet", "csv", "xlsx")

_S, _D, _F, _I = pa.string(), pa.date32(), pa.float64(), pa.int64()
SCHEMAS: dict[str, pa.Schema] = {
    "hukou": pa.schema(
        [
            ("id_number", _S),
            ("name", _S),
            ("sex", _S),
            ("birth_date", _D),
            ("household_no", _S),
            ("relation_to_head", _S),
            ("division_code", _S),
            ("address", _S),
            ("status", _S),
        ]
    ),
    "deaths": pa.schema([("id_number", _S), ("death_date", _D), ("reported_at", _D)]),
    "disability_certificates": pa.schema(
        [
            ("certificate_no", _S),
            ("id_number", _S),
            ("disability_kind", _S),
            ("grade", _I),
            ("issued_date", _D),
            ("status", _S),
        ]
    ),
    "insured_persons": pa.schema(
        [("id_number", _S), ("year", _I), ("insurance_type", _S), ("division_code", _S)]
    ),
    "medical_claims": pa.schema(
        [
            ("claim_id", _S),
            ("id_number", _S),
            ("settlement_date", _D),
            ("claim_type", _S),
            ("total_cost", _F),
            ("fund_paid", _F),
            ("critical_illness_paid", _F),
            ("assistance_paid", _F),
            ("out_of_pocket", _F),
            ("in_policy_out_of_pocket", _F),
            ("hospital_code", _S),
        ]
    ),
    "wages": pa.schema([("id_number", _S), ("month", _S), ("employer_code", _S), ("wage", _F)]),
    "unemployment": pa.schema([("id_number", _S), ("registered_date", _D), ("ended_date", _D)]),
    "pensions": pa.schema([("id_number", _S), ("month", _S), ("pension_type", _S), ("amount", _F)]),
    "real_estate": pa.schema(
        [
            ("property_id", _S),
            ("id_number", _S),
            ("usage", _S),
            ("area_m2", _F),
            ("registered_date", _D),
            ("status", _S),
        ]
    ),
    "vehicles": pa.schema(
        [
            ("plate_no", _S),
            ("id_number", _S),
            ("vehicle_type", _S),
            ("registered_date", _D),
            ("status", _S),
        ]
    ),
    "businesses": pa.schema(
        [
            ("credit_code", _S),
            ("id_number", _S),
            ("role", _S),
            ("registered_capital", _F),
            ("status", _S),
        ]
    ),
    "provident_fund": pa.schema(
        [("id_number", _S), ("month", _S), ("deposit_base", _F), ("balance", _F)]
    ),
    "deposits": pa.schema(
        [("id_number", _S), ("institution_code", _S), ("as_of_date", _D), ("balance", _F)]
    ),
    "traffic_accidents": pa.schema(
        [("accident_id", _S), ("id_number", _S), ("accident_date", _D), ("injury", _S)]
    ),
    "incidents": pa.schema(
        [
            ("incident_id", _S),
            ("id_number", _S),
            ("incident_date", _D),
            ("kind", _S),
            ("loss_level", _S),
            ("loss_amount", _F),
        ]
    ),
    "assistance_recipients": pa.schema(
        [
            ("id_number", _S),
            ("program_code", _S),
            ("household_no", _S),
            ("start_date", _D),
            ("end_date", _D),
            ("monthly_amount", _F),
        ]
    ),
    "disposable_income": pa.schema([("year", _I), ("amount", _F)]),
    "assistance_payments": pa.schema(
        [
            ("payment_id", _S),
            ("id_number", _S),
            ("program_code", _S),
            ("household_no", _S),
            ("month", _S),
            ("amount", _F),
            ("paid_date", _D),
        ]
    ),
}
DATASETS = tuple(SCHEMAS)

# Columns worth a Parquet dictionary (few distinct values, or ids repeated month by month).
_DICTIONARY = {
    "hukou": ["sex", "relation_to_head", "division_code", "status"],
    "insured_persons": ["insurance_type", "division_code"],
    "medical_claims": ["claim_type", "hospital_code"],
    "wages": ["id_number", "month", "employer_code"],
    "pensions": ["id_number", "month", "pension_type"],
    "provident_fund": ["id_number", "month"],
    "disability_certificates": ["disability_kind", "status"],
    "real_estate": ["usage", "status"],
    "vehicles": ["vehicle_type", "status"],
    "businesses": ["role", "status"],
    "deposits": ["institution_code"],
    "traffic_accidents": ["injury"],
    "incidents": ["kind", "loss_level"],
    "assistance_recipients": ["program_code"],
    "assistance_payments": ["program_code", "month"],
}
# A lower bound of the rows per person of the longest dataset (claims are calibrated to 12 a
# person): above it xlsx is refused before any work; otherwise the exact count decides.
_ROWS_PER_PERSON = {"medical_claims": 11.9}


# ---------------------------------------------------------------- output


class _Sink:
    """One writer per dataset; Parquet and CSV stream, XLSX collects."""

    def __init__(self, out_dir: Path, fmt: str) -> None:
        self.out_dir = out_dir
        self.fmt = fmt
        self.rows = dict.fromkeys(DATASETS, 0)
        self.writers: dict[str, Any] = {}
        self.collected: dict[str, list[pa.Table]] = {name: [] for name in DATASETS}
        if fmt != "xlsx":
            for name, schema in SCHEMAS.items():
                path = out_dir / f"{name}.{fmt}"
                if fmt == "parquet":
                    self.writers[name] = pq.ParquetWriter(
                        path,
                        schema,
                        compression="snappy",
                        use_dictionary=_DICTIONARY.get(name, []),
                        write_statistics=True,
                    )
                else:
                    self.writers[name] = pacsv.CSVWriter(
                        path, schema, write_options=pacsv.WriteOptions(quoting_style="needed")
                    )

    def write(self, name: str, table: pa.Table) -> None:
        table = table.select(SCHEMAS[name].names).cast(SCHEMAS[name])
        self.rows[name] += table.num_rows
        if self.fmt == "xlsx":
            if self.rows[name] > XLSX_MAX_ROWS - 1:
                raise ValueError(_xlsx_refusal(name, self.rows[name]))
            self.collected[name].append(table)
        elif table.num_rows:
            self.writers[name].write_table(table)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        if self.fmt == "xlsx":
            for name in DATASETS:
                schema = SCHEMAS[name]
                table = pa.concat_tables(self.collected[name] or [schema.empty_table()])
                _write_xlsx(self.out_dir / f"{name}.xlsx", name, table)

    def abort(self) -> None:
        for writer in self.writers.values():
            with contextlib.suppress(Exception):  # best effort while failing
                writer.close()


def _xlsx_refusal(name: str, rows: int, about: bool = False) -> str:
    return (
        f"xlsx refused: dataset {name!r} would have {'about ' if about else ''}{rows:,} rows, "
        f"more than an Excel sheet holds ({XLSX_MAX_ROWS - 1:,} data rows plus the header); "
        "use fmt='parquet' or 'csv'"
    )


_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _write_xlsx(path: Path, name: str, table: pa.Table) -> None:
    """First sheet, header row, dates as dates, ID numbers as text; byte-identical runs
    (fixed document times and zip entry times)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=name[:31])
    ws.append(table.column_names)
    date_cols = {i for i, f in enumerate(table.schema) if pa.types.is_date(f.type)}
    columns = [col.to_pylist() for col in table.columns]
    for row in zip(*columns, strict=True):
        if date_cols:
            out = []
            for i, v in enumerate(row):
                if i in date_cols and v is not None:
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = "yyyy-mm-dd"
                    out.append(cell)
                else:
                    out.append(v)
            ws.append(out)
        else:
            ws.append(row)
    stamp = datetime(2000, 1, 1)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))


class _Writer(threading.Thread):
    """Writes chunks in order on a background thread while the next chunk is generated.

    A chunk is handed over only when the previous one is written, so at most one chunk's
    tables wait in memory besides the one being generated."""

    def __init__(self, sink: _Sink) -> None:
        super().__init__(daemon=True)
        self.sink = sink
        self.queue: queue.Queue[dict[str, pa.Table] | None] = queue.Queue()
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    for name, table in item.items():
                        self.sink.write(name, table)
            except BaseException as exc:  # noqa: BLE001 (re-raised by put/finish)
                self.error = exc
            finally:
                del item
                self.queue.task_done()

    def put(self, tables: dict[str, pa.Table]) -> None:
        self.queue.join()
        if self.error is not None:
            raise self.error
        self.queue.put(tables)

    def finish(self) -> None:
        self.queue.join()
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise self.error


# ---------------------------------------------------------------- one chunk


def _chunk(world: World, state: State, index: int, n_persons: int) -> tuple[dict, dict]:
    seed = world.seed

    def rng(stage: int) -> np.random.Generator:
        return stream(seed, index, stage)

    ch = people.Chunk(index, world)
    people.households(ch, rng(1), n_persons)
    people.household_numbers(ch, state)
    people.births(ch, rng(2))
    people.id_numbers(ch, state, rng(3))
    people.person_names(ch, rng(4))
    people.deaths_and_moves(ch, rng(5))
    people.disability(ch, rng(6))
    address_h = people.addresses(ch, rng(7))

    income.classes(ch, rng(10))
    income.employment(ch, rng(11))
    income.plan_incomes(ch, rng(12))
    out: dict[str, pa.Table] = {}
    out["wages"] = income.wages_table(ch)
    out["pensions"] = income.pensions_table(ch)
    out["unemployment"] = income.unemployment_table(ch, rng(14))
    out["provident_fund"] = income.provident_table(ch, rng(15))
    assets.assets(ch, state, rng(16))
    out.update(ch.tables_assets)
    assistance.eligibility(ch, rng(17))
    rows = assistance.recipients_rows(ch)
    assistance.assistance_window(ch, rows)

    out["insured_persons"] = health.insurance(ch, rng(20))
    out["medical_claims"] = health.claims(ch, state, rng(21))
    out["traffic_accidents"] = events.traffic(ch, state, rng(30))
    out["incidents"] = events.incidents(ch, state, rng(31))
    extra = [
        events.temporary_assistance_rows(ch, rng(32)),
        health.medical_assistance_rows(ch, rng(33)),
    ]
    out["assistance_recipients"] = assistance.recipients_table(ch, rows, extra)
    out["assistance_payments"] = payments.payments_table(ch, state, rows, rng(42))

    status = np.where(ch.dead, 1, np.where(ch.moved, 2, 0))
    out["hukou"] = pa.table(
        {
            "id_number": people.ids_for(ch, np.arange(ch.P)),
            "name": ch.name,
            "sex": pa.array(["F", "M"]).take(pa.array(ch.male.astype(np.int64))),
            "birth_date": people.date_array(ch.birth),
            "household_no": ch.household_no.take(pa.array(ch.hh)),
            "relation_to_head": pa.array(people.RELATIONS).take(pa.array(ch.rel)),
            "division_code": ch.division_h.take(pa.array(ch.hh)),
            "address": address_h.take(pa.array(ch.hh)),
            "status": pa.array(["normal", "deceased", "moved_out"]).take(pa.array(status)),
        }
    )
    dead = np.flatnonzero(ch.dead)
    r = rng(40)
    lag = np.minimum(r.geometric(0.35, dead.size) - 1, 20)
    reported = np.minimum(ch.death_day[dead] + lag, world.ref)
    out["deaths"] = pa.table(
        {
            "id_number": people.ids_for(ch, dead),
            "death_date": people.date_array(ch.death_day[dead]),
            "reported_at": people.date_array(reported),
        }
    )
    out["disability_certificates"] = people.disability_table(ch)
    out[KNOWN_ANSWER] = assistance.known_answer(ch)
    return out, _chunk_stats(ch)


def _chunk_stats(ch: people.Chunk) -> dict[str, float]:
    s = ch.world.standard
    live = ch.n_live > 0
    st = {
        "persons": ch.P,
        "households": ch.H,
        "living_households": int(live.sum()),
        "under_standard": int((live & (ch.pm < s)).sum()),
        "under_1_5_standard": int((live & (ch.pm < 1.5 * s)).sum()),
        "covered_households": int(ch.covered.sum()),
        "listed_covered": int(ch.listed.sum()),
        "missed_covered": int((ch.covered & ~ch.listed).sum()),
        "stale_listed": int(ch.stale.sum()),
        "deaths": int(ch.dead.sum()),
        "disabled": int(ch.dis.sum()),
    }
    st.update({k: float(v) for k, v in ch.stats.items()})
    return st


# ---------------------------------------------------------------- public


def _check_args(persons: int, seed: int, year: int, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if isinstance(persons, bool) or not isinstance(persons, numbers.Integral) or persons < 10:
        raise ValueError("persons must be an integer of at least 10")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError("seed must be a non-negative integer")
    if isinstance(year, bool) or not isinstance(year, numbers.Integral) or not 2020 <= year <= 2100:
        raise ValueError("year must be between 2020 and 2100")
    if fmt == "xlsx":
        for name, per_person in _ROWS_PER_PERSON.items():
            expected = int(persons * per_person)
            if expected > XLSX_MAX_ROWS - 1:
                raise ValueError(_xlsx_refusal(name, expected, about=True))


def _chunk_sizes(persons: int) -> list[int]:
    n = max(1, -(-persons // CHUNK_PERSONS))
    base, rest = divmod(persons, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


def generate(
    *,
    persons: int,
    seed: int,
    year: int,
    out_dir: Path,
    fmt: str = "parquet",
    known_answer: bool = False,
) -> dict:
    """Write the synthetic population's datasets into ``out_dir``; return a summary:
    ``{"persons", "households", "seed", "year", "format", "rows": {dataset: n},
    "seconds", "stats": {...}}``.

    With ``known_answer`` also ``out_dir/_known_answer.parquet``: per household, what the
    generator knows to be true for December of ``year`` (:func:`assistance.known_answer`) —
    the answer 政策找人 is tested against. The datasets are the same either way."""
    t0 = time.perf_counter()
    _check_args(persons, seed, year, fmt)
    persons, seed, year = int(persons), int(seed), int(year)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(seed=seed, year=year, persons=persons)
    state = new_state(world)
    (out_dir / "_communities.csv").write_text(world.communities_csv(), encoding="utf-8")
    sink = _Sink(out_dir, fmt)
    writer = _Writer(sink)
    writer.start()
    stats: dict[str, float] = {}
    answers = None
    try:
        for index, n in enumerate(_chunk_sizes(persons)):
            tables, st = _chunk(world, state, index, n)
            answer = tables.pop(KNOWN_ANSWER)
            if known_answer:
                if answers is None:
                    answers = pq.ParquetWriter(out_dir / f"{KNOWN_ANSWER}.parquet", answer.schema)
                answers.write_table(answer)
            for k, v in st.items():
                stats[k] = stats.get(k, 0) + v
            writer.put(tables)
            del tables
        income = pa.table(
            {
                "year": pa.array(list(range(2019, year)), pa.int64()),
                "amount": pa.array(
                    [float(calibration.disposable_income(y)) for y in range(2019, year)]
                ),
            }
        )
        writer.put({"disposable_income": income})
        writer.finish()
        sink.close()
        if answers is not None:
            answers.close()
    except BaseException:
        if writer.is_alive():
            writer.queue.put(None)
            writer.join()
        sink.abort()
        if answers is not None:
            with contextlib.suppress(Exception):  # best effort while failing
                answers.close()
        raise
    return {
        "persons": persons,
        "households": int(stats.get("households", 0)),
        "seed": seed,
        "year": year,
        "format": fmt,
        "out_dir": str(out_dir),
        "rows": dict(sink.rows),
        "seconds": round(time.perf_counter() - t0, 3),
        "stats": stats,
    }
