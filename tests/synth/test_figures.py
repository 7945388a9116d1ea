"""The generator is a pure generator (no Django), and the policy figures it builds the city
around are the rules' own dated parameters."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from dajiuzhu.policy.engine import build_system
from dajiuzhu.synth import calibration, figures
from dajiuzhu.synth.assistance import PROGRAMS, medical_rates
from dajiuzhu.synth.world import build_world


def test_synth_imports_no_django():
    code = (
        "import importlib, pkgutil, sys, dajiuzhu.synth as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module(f'dajiuzhu.synth.{m.name}')\n"
        "bad = sorted(n for n in sys.modules if n == 'django' or n.startswith('django.'))\n"
        "print(len(list(pkgutil.iter_modules(s.__path__))), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("14 []"), completed.stdout  # every module was imported


@pytest.mark.parametrize("year", [2022, 2023, 2024])
def test_the_generators_figures_are_the_rules_parameters(year):
    on = date(year, 12, 1)
    p = build_system().parameters(on.isoformat())
    f = figures.figures(on)
    world = build_world(seed=1, year=year, persons=100)
    assert world.figures == f
    assert world.standard == f.standard == p.dibao.standard["320402"]
    assert f.standard == {code: p.dibao.standard[code] for code in figures.DISTRICTS}["320481"]
    assert (f.dibian_multiplier, f.tekun_multiplier) == (
        p.dibian.multiplier,
        p.tekun.basic_multiplier,
    )
    assert f.financial_months == p.assets.financial_months
    assert (f.cost_rate, f.cost_cap) == (
        p.income.employment_cost_rate,
        p.income.employment_cost_cap,
    )
    assert (f.extra_share, f.minimum_share) == (p.dibao.extra_share, p.dibao.minimum_share)
    assert (f.care_full, f.care_partial, f.care_none) == (
        p.tekun.care.full,
        p.tekun.care.partial,
        p.tekun.care.none,
    )
    assert medical_rates(f).tolist() == [
        p.medical.rate.tekun,
        p.medical.rate.dibao,
        p.medical.rate.dibian,
        p.medical.rate.zhichu,
        0.0,
        0.0,
    ]
    assert f.linshi_cap_months == p.linshi.ordinary_cap_months
    # The previous year's disposable income: the rules' figure where one is dated that year.
    previous = build_system().parameters(f"{year - 1}-01-01").statistics.disposable_income
    if figures.disposable_income_of(year - 1) is not None:
        assert world.di_prev == previous


def test_the_generators_own_history_covers_only_what_the_parameters_do_not():
    system = build_system()
    # 低保 standards: the parameters from their first value on, the history only before.
    assert calibration.dibao_standard(date(2022, 7, 1)) == 1005
    assert calibration.dibao_standard(date(2023, 7, 1)) == 1070
    assert system.parameters.dibao.standard.children["320402"]("2022-06-30") is None
    assert calibration.dibao_standard(date(2022, 6, 30)) == 955  # illustrative history
    # Disposable income: the published years are the parameters' values.
    income = system.parameters.statistics.disposable_income
    for year in (2020, 2022):
        assert calibration.disposable_income(year) == income(f"{year}-01-01")
    assert calibration.disposable_income(2021) == 55_900  # interpolated, not 2020's figure


def test_the_generated_programmes_are_catalogue_codes():
    from dajiuzhu.policy.catalogue import codes

    assert PROGRAMS == ["tekun", "dibao", "dibian", "zhichu", "linshi", "yiliao"]
    assert set(PROGRAMS) <= set(codes())
