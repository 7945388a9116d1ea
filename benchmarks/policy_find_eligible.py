"""「政策找人」 over the whole population (issue: policy library).

Claim: `find-eligible` over 5,000,000 persons (about 2 million households), reading its inputs
from the lake, in <= 30 s end to end on this 2-core machine with peak memory <= 8 GiB; and the
ratio against evaluating households one at a time (measured on a sample and scaled).

    .venv/bin/python benchmarks/policy_find_eligible.py [--persons 5000000] [--sample 300]

`--src DIR` runs find-eligible and the one-at-a-time sample with another version's source tree
first on the path (`git worktree add /tmp/base <commit>`, then `--src /tmp/base/src`), on the
same city: a before/after.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city import BIN, ensure_city
from _common import emit

ONE_AT_A_TIME = """
import json, os, sys, time
import numpy as np
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
import django; django.setup()
from dajiuzhu.policy import engine, population
from dajiuzhu.policy.selectors import policy_system
system = policy_system()
pop = population.load_population("2023-12")
population.evaluate(pop, month="2023-12", system=system, batch_households=10)  # supporters
rng = np.random.default_rng(1)
sample = rng.choice(len(pop.household_no), size=int(sys.argv[1]), replace=False)
t0 = time.perf_counter()
for i in sample:
    members = np.flatnonzero(pop.household_index == i)
    persons = {k: v[members] for k, v in pop.persons.items()}
    households = {k: v[i:i + 1] for k, v in pop.households.items()}
    engine.simulate(system, "2023-12", persons, households, np.zeros(len(members), dtype=int),
                    population.HOUSEHOLD_OUTPUTS + population.PERSON_OUTPUTS)
per_household = (time.perf_counter() - t0) / len(sample)
print(json.dumps({"per_household_s": per_household, "households": len(pop.household_no)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=5_000_000)
    parser.add_argument("--synth", default="/tmp/city5m")
    parser.add_argument("--home", default="/tmp/djz-city5m")
    parser.add_argument("--sample", type=int, default=300, help="0: no one-at-a-time sample")
    parser.add_argument("--repeat", type=int, default=1, help="find-eligible runs")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--src", help="run find-eligible with this source tree first on the path (an older version)"
    )
    args = parser.parse_args()
    env, load_seconds = ensure_city(
        persons=args.persons,
        synth=Path(args.synth),
        home=Path(args.home),
        name="dajiuzhu_city5m",
        rebuild=args.rebuild,
    )
    program = [str(BIN / "dajiuzhu")]
    if args.src:  # another version: its modules first, its program run as a module
        env = {**env, "PYTHONPATH": str(Path(args.src).resolve())}
        program = [str(BIN / "python"), "-m", "dajiuzhu.cli"]
    walls = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = subprocess.run(
            [*program, "find-eligible", "--month", "2023-12"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [json.loads(x) for x in out.stdout.strip().splitlines() if x.startswith("{")]
    head, programmes = lines[0], lines[1:]
    result = {
        "benchmark": "policy_find_eligible",
        "persons": head["persons"],
        "households": head["households"],
        "end_to_end_seconds": round(walls[0], 1),
        "end_to_end_seconds_each": [round(w, 1) for w in walls],
        "run_seconds": head["seconds"],
        "timings": head["timings"],
        "peak_rss_mib": round(peak),
        "candidates": {p["programme"]: p["candidates"] for p in programmes},
        "city_load_seconds": None if load_seconds is None else round(load_seconds),
        "src": args.src,
    }
    if args.sample:  # --sample 0: find-eligible only (the sample's supporters take minutes)
        one = json.loads(
            subprocess.run(
                [str(BIN / "python"), "-c", ONE_AT_A_TIME, str(args.sample)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        scaled = one["per_household_s"] * one["households"]
        result |= {
            "one_at_a_time_ms_per_household": round(one["per_household_s"] * 1000, 2),
            "one_at_a_time_scaled_seconds": round(scaled),
            "speed_up_vs_one_at_a_time": round(scaled / head["timings"]["rules"], 1),
        }
    emit(result)


if __name__ == "__main__":
    main()
