"""XLSX bombs and workbooks at the limits (issue 9: bad input never shows a traceback).

Claims: the probe's bomb — one shared string of 300 MB (23.5 s, 3.3 GB and a 314 MB
quarantine row before the fix) — is refused with a message at no cost beyond the process's
start-up (the baseline case: a one-row workbook); so is a 40 MB shared string that does not
compress (the cell cap, found while streaming); a workbook whose shared strings sit just under
the limit (60 of 64 MiB, of the smallest strings: openpyxl's worst case, about 12 MiB of
memory per MiB) loads within the ingestion's bound (peak RSS <= 2 GiB).

    .venv/bin/python benchmarks/exchange_xlsx_limits.py [--bomb-mb 300] [--random-mb 40]
        [--strings-mib 60]

Each file is ingested by `dajiuzhu ingest hukou FILE` in a child process of a fresh home;
its peak RSS is its own (RUSAGE_CHILDREN, read after each child). Use smaller sizes on a
busy machine (e.g. --bomb-mb 30 --random-mb 10 --strings-mib 16).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HEADER = "id_number name sex birth_date household_no relation_to_head division_code address status"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        f'ContentType="{CT}.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{CT}.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
        f'ContentType="{CT}.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        '<sheets><sheet name="hukou" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}


def workbook(path: Path, strings) -> None:
    """Header row and one data row whose address is shared string #9; ``strings`` yields
    the shared strings' XML after the nine header names, in chunks (never all in memory)."""
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(9))
    row = "".join(f'<c r="{chr(65 + i)}2" t="s"><v>{9 if i == 7 else i}</v></c>' for i in range(9))
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
        f'<dimension ref="A1:I2"/><sheetData><row r="1">{cells}</row><row r="2">{row}</row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
            for name in HEADER.split():
                fh.write(f"<si><t>{name}</t></si>".encode())
            for chunk in strings:
                fh.write(chunk)
            fh.write(b"</sst>")


def one_letter(mb: int):
    yield b"<si><t>"
    for _ in range(mb):
        yield b"A" * 1_000_000
    yield b"</t></si>"


def random_text(mb: int):
    yield b"<si><t>"
    for _ in range(mb):
        yield os.urandom(750_000).hex().encode()[:1_000_000]
    yield b"</t></si>"


def tiny_strings(mib: int):
    total, i = 0, 0
    while total < mib << 20:
        chunk = b"".join(f"<si><t>{n:x}</t></si>".encode() for n in range(i, i + 100_000))
        i += 100_000
        total += len(chunk)
        yield chunk


def ingest(path: Path) -> dict:
    home = Path(tempfile.mkdtemp(prefix="djz-xlsx-"))
    env = {**os.environ, "DAJIUZHU_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    subprocess.run([BIN / "dajiuzhu", "audit", "verify"], env=env, capture_output=True)
    # A wrapper process runs the ingest and reports the peak RSS of that child alone.
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
        "sys.exit(r.returncode)"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, BIN / "dajiuzhu", "ingest", "hukou", str(path)],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    err = done.stderr.strip().splitlines()
    peak = int(err.pop().split()[1])
    said = [line for line in err if line.startswith("error:")] + done.stdout.strip().splitlines()
    return {
        "exit": done.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak / 1024),
        "said": said[-1:],
        "traceback": "Traceback" in done.stderr,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bomb-mb", type=int, default=300)
    parser.add_argument("--random-mb", type=int, default=40)
    parser.add_argument("--strings-mib", type=int, default=60)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="djz-xlsx-files-"))
    cases = [
        ("baseline: a one-row workbook (process start, set-up)", 0, one_letter),
        ("bomb: one shared string of one letter", args.bomb_mb, one_letter),
        ("one shared string that does not compress", args.random_mb, random_text),
        ("shared strings of the smallest strings", args.strings_mib, tiny_strings),
    ]
    for label, size, strings in cases:
        path = out / f"{strings.__name__}-{size}.xlsx"
        workbook(path, strings(size))
        info = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml")
        result = ingest(path)
        emit(
            {
                "benchmark": "exchange_xlsx_limits",
                "case": label,
                "file_mib": round(path.stat().st_size / 2**20, 1),
                "shared_strings_mib": round(info.file_size / 2**20, 1),
                **result,
            }
        )
        path.unlink()


if __name__ == "__main__":
    main()
