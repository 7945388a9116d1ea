"""Randomly damaged deliveries (bytes flipped, inserted, deleted — in the file, or inside one
part of an XLSX) each end as a published batch or a refusal with our own message: never
another exception (a traceback, "内部错误"), never a planted value in a message. Seeds are
fixed: the same files every run."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Department
from dajiuzhu.exchange import ingest, sources
from dajiuzhu.exchange.contracts import get_contract
from dajiuzhu.exchange.models import Batch
from tests.exchange.test_malformed import (
    SECRETS,
    csv_bytes,
    parquet_bytes,
    rows_with_planted,
    shared_strings_xlsx,
    values,
    write,
    xlsx_bytes,
)

FILES_PER_KIND = 16
KINDS = {
    # kind: (seed, suffix, what is damaged)
    "csv": (1, "csv", "file"),
    "parquet": (2, "parquet", "file"),
    "xlsx": (3, "xlsx", "file"),
    "xlsx_sheet_xml": (4, "xlsx", "sheet"),
    "xlsx_any_part": (5, "xlsx", "part"),
}


def damage(data: bytes, rnd: random.Random, edits: int) -> bytes:
    b = bytearray(data)
    for _ in range(edits):
        i = rnd.randrange(len(b))
        op = rnd.random()
        if op < 0.5:
            b[i] = rnd.randrange(256)
        elif op < 0.75:
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
        else:
            del b[i : i + rnd.randrange(1, 16)]
    return bytes(b)


def damage_part(data: bytes, rnd: random.Random, part: str | None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    target = part or rnd.choice(src.namelist())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = src.read(name)
            dst.writestr(name, damage(body, rnd, rnd.randrange(1, 6)) if name == target else body)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_damaged_files_end_published_or_refused_with_our_message(db, files, kind):
    seed, suffix, where = KINDS[kind]
    rnd = random.Random(seed)
    rows = rows_with_planted(20)
    if suffix == "csv":
        base = csv_bytes(values(rows))
    elif suffix == "parquet":
        base = parquet_bytes(rows)
    else:
        base = shared_strings_xlsx(rows) if where == "part" else xlsx_bytes(rows, write_only=True)
    contract = get_contract("hukou")
    gongan = Department.objects.get(code="gongan")
    outcomes = []
    for n in range(FILES_PER_KIND):
        if where == "file":
            data = damage(base, rnd, rnd.randrange(1, 10))
        else:
            data = damage_part(base, rnd, "xl/worksheets/sheet1.xml" if where == "sheet" else None)
        path = write(files, f"f{n}.{suffix}", data)
        try:
            ingest.ingest_file(
                contract=contract,
                path=path,
                fmt=None,
                department=gongan,
                steward=None,
                submitted_by="cli",
                channel="cli",
            )
        except (ServiceError, sources.SourceError) as exc:
            outcomes.append(exc.code)
            assert not [s for s in SECRETS if s in exc.message], exc.message
        else:
            outcomes.append("published")
    assert len(outcomes) == FILES_PER_KIND
    assert not Batch.objects.filter(error__startswith="内部错误").exists()
    for batch in Batch.objects.all():
        assert not [s for s in SECRETS if s in batch.error], batch.error
