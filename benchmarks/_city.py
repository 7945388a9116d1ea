"""A 5-million-person synthetic city loaded into a home, shared by the policy benchmarks.

The home (PostgreSQL database + lake) is built once through the real ingestion path, its
large batches sorted by person_key as the worker does after publication (`dajiuzhu lake
optimize`), and reused; `--rebuild` starts again."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG = "postgres://postgres@127.0.0.1:5432/"


def city_env(name: str, home: Path) -> dict[str, str]:
    return {**os.environ, "DAJIUZHU_HOME": str(home), "DATABASE_URL": PG + name}


def ensure_city(
    *, persons: int, synth: Path, home: Path, name: str, rebuild: bool = False
) -> tuple[dict[str, str], float | None]:
    """Returns the environment of the loaded home and the load time (None when reused)."""
    env = city_env(name, home)
    marker = home / "city-loaded"
    if marker.exists() and not rebuild:
        return env, None
    if not (synth / "hukou.parquet").exists():
        subprocess.run(
            [
                str(BIN / "dajiuzhu"),
                "synth",
                "--persons",
                str(persons),
                "--seed",
                "1",
                "--year",
                "2023",
                "--out",
                str(synth),
            ],
            check=True,
        )
    subprocess.run(["psql", PG + "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", PG + "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    subprocess.run(["rm", "-rf", str(home)], check=True)
    t0 = time.perf_counter()
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dajiuzhu.settings');"
        "django.setup();"
        "from dajiuzhu.bootstrap import ensure_database; ensure_database();"
        "from pathlib import Path; from dajiuzhu.demo.population import load_folder;"
        f"[print(s, flush=True) for s in load_folder(Path({str(synth)!r}))]"
    )
    subprocess.run([str(BIN / "python"), "-c", code], env=env, check=True)
    seconds = time.perf_counter() - t0
    # What the worker does after each publication: sort large batches by person_key.
    subprocess.run([str(BIN / "dajiuzhu"), "lake", "optimize"], env=env, check=True)
    marker.write_text(f"{persons} persons loaded in {seconds:.0f} s\n")
    return env, seconds
