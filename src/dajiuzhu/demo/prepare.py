"""Prepare the demo: reference data, the demo accounts, the synthetic population loaded
through the real ingestion path, and the runs that fill the towns' lists."""

from __future__ import annotations

from dajiuzhu.core.reference import reference_data_load
from dajiuzhu.demo.accounts import demo_accounts
from dajiuzhu.demo.cases import demo_cases
from dajiuzhu.demo.phones import demo_phones
from dajiuzhu.demo.population import demo_population
from dajiuzhu.demo.reviews import demo_reviews
from dajiuzhu.demo.staff import demo_town_staff


def demo_prepare(*, persons: int, seed: int) -> list[dict[str, str]]:
    reference_data_load()
    accounts = demo_accounts()
    for summary in demo_population(persons=persons, seed=seed):
        print(
            f"  loaded {summary['dataset']}: {summary['accepted']} rows "
            f"({summary['rejected']} quarantined)",
            flush=True,
        )
    demo_phones()
    town = demo_town_staff()
    named = [a for a in town if not a["username"].startswith(("clerk_", "grid_"))]
    if len(town) > len(named):
        print(
            f"  town staff of {(len(town) - len(named)) // 2} more towns with warnings: "
            "clerk_<town code> (window clerk), grid_<town code> (grid worker)",
            flush=True,
        )
    from dajiuzhu.care.demo import demo_devices

    pendants = demo_devices()
    print(f"  care: {len(pendants)} people with demo devices (e.g. {pendants[:1]})", flush=True)
    demo_cases()
    demo_reviews()
    from dajiuzhu.demo.payments import demo_payments

    paid = demo_payments()
    print(f"  payments: {paid} payments on the rosters of the last three months", flush=True)
    from dajiuzhu.demo.spotchecks import AUDITOR, demo_spot_check

    spot = demo_spot_check()
    if spot is not None:
        print(
            f"  spot check: {spot.cases.count()} cases of {spot.quarter} sampled for {AUDITOR} "
            f"(seed {spot.seed})",
            flush=True,
        )
    from dajiuzhu.demo.complaints import demo_complaints, demo_notice
    from dajiuzhu.demo.population import DEMO_YEAR

    codes = demo_complaints()
    where = f" (follow one at /jubao/track/?code={codes[0]})" if codes else ""
    print(f"  supervision: {len(codes)} demo complaints{where}", flush=True)
    demo_notice(f"{DEMO_YEAR}-12")
    return accounts + named
