"""The demo population: a synthetic Changzhou (:mod:`dajiuzhu.synth`), loaded through the real
ingestion path."""

from __future__ import annotations

import csv
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from dajiuzhu.core.models import Division
from dajiuzhu.core.services import division_create
from dajiuzhu.exchange.contracts import all_contracts
from dajiuzhu.exchange.models import Batch, BatchStatus

log = logging.getLogger("dajiuzhu.demo")
DEMO_YEAR = 2023
# hukou first: it feeds the registry that the other datasets are checked against.
LOAD_ORDER = ["hukou"]


def load_communities(path: Path) -> int:
    """Create the synthetic communities (names included) under their real towns."""
    created = 0
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if Division.objects.filter(code=row["code"]).exists():
                continue
            division_create(
                actor=None, parent_code=row["town_code"], code=row["code"], name=row["name"]
            )
            created += 1
    return created


def load_folder(folder: Path) -> list[dict]:
    """Ingest every dataset file of a synth folder as the owning departments would."""
    from dajiuzhu.exchange.services import batch_ingest_file

    load_communities(folder / "_communities.csv")
    datasets = LOAD_ORDER + sorted(d for d in all_contracts() if d not in LOAD_ORDER)
    summaries = []
    for dataset in datasets:
        path = next((p for p in folder.glob(f"{dataset}.*")), None)
        if path is None:
            continue
        summaries.append(batch_ingest_file(actor=None, dataset=dataset, path=path).summary())
    return summaries


def demo_population(*, persons: int, seed: int) -> list[dict]:
    """Generate (once) and load the demo city. Returns the ingestion summaries."""
    if persons <= 0:
        return []
    if Batch.objects.filter(dataset="hukou", status=BatchStatus.PUBLISHED).exists():
        return []  # the home already holds a city: reuse it
    from dajiuzhu.synth.generator import generate

    folder = Path(settings.HOME) / "synth" / f"city-{persons}-{seed}"
    if not (folder / "hukou.parquet").exists():
        generate(persons=persons, seed=seed, year=DEMO_YEAR, out_dir=folder)
    summaries = load_folder(folder)
    summaries.append(demo_corrections(folder))
    demo_authorisations()
    _demo_runs()
    return summaries


def _demo_runs() -> None:
    """Run 政策找人 for December of the demo year (the synthetic city's calibration month) and
    the early-warning scan of the demo year, so that the towns' candidate lists and warning
    queues have something to follow up."""
    from dajiuzhu.policy.services import find_eligible
    from dajiuzhu.warnings.services import scan_run

    find_eligible(month=f"{DEMO_YEAR}-12")
    scan_run(year=DEMO_YEAR)
    from dajiuzhu.supervision.running import check_run  # the fund checks of December

    check_run(month=f"{DEMO_YEAR}-12")


def demo_corrections(folder: Path) -> dict:
    """A later delivery from 医保 as departments really send them: some corrected claims (the
    same claim_id, a new amount) and three rows the checks refuse, so that the demo shows
    key replacement, quarantine and its download."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from dajiuzhu.exchange.services import batch_ingest_file

    claims = pq.read_table(folder / "medical_claims.parquet").slice(0, 20).to_pylist()
    for row in claims:
        row["out_of_pocket"] = round(row["out_of_pocket"] * 0.9, 2)
        row["in_policy_out_of_pocket"] = min(row["in_policy_out_of_pocket"], row["out_of_pocket"])
    bad_id = claims[0]["id_number"][:17] + ("0" if claims[0]["id_number"][17] != "0" else "1")
    claims[1]["id_number"] = bad_id  # a check digit that fails
    claims[2]["settlement_date"] = timezone.localdate() + timedelta(days=30)  # a date in the future
    claims[3]["out_of_pocket"] = claims[3]["total_cost"] + 100  # more than the total cost
    path = folder / "medical_claims_corrections.csv"
    import pyarrow as pa

    pacsv.write_csv(pa.Table.from_pylist(claims), path)
    return batch_ingest_file(actor=None, dataset="medical_claims", path=path).summary()


def demo_authorisations(limit: int = 30) -> int:
    """Signed authorisations for the adults of some 天宁区 households, so that the household
    check can be tried at once in the demo (each is recorded and audited like any other)."""
    from dajiuzhu.registry.models import Household, Membership
    from dajiuzhu.registry.selectors import age_on
    from dajiuzhu.verification.services import authorisation_record

    today = timezone.localdate()
    count = 0
    for household in Household.objects.filter(division__code__startswith="320402").order_by(
        "household_no"
    )[:limit]:
        for m in Membership.objects.filter(
            household=household, end_date__isnull=True
        ).select_related("person"):
            if m.person.status == "normal" and age_on(m.person.birth_date, today) >= 18:
                authorisation_record(
                    actor=None,
                    person_id=m.person.pk,
                    signed_on=today,
                    expires_on=today + timedelta(days=365),
                    document_ref=f"DEMO-{household.household_no}",
                )
                count += 1
    return count
