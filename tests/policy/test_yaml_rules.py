"""The policy officers' YAML tests, run through OpenFisca's own test runner and its CLI; and
the parameter files' metadata (every value dated, with a unit and a reference)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openfisca_core.parameters import Parameter, ParameterNode
from openfisca_core.tools.test_runner import run_tests

from dajiuzhu.policy import CountryTaxBenefitSystem

YAML_DIR = Path(__file__).resolve().parent / "yaml"
YAML_FILES = sorted(YAML_DIR.glob("*.yaml"))
REPO_ROOT = Path(__file__).resolve().parents[2]

# RULES.md marks these parameters illustrative: their files must say so.
ILLUSTRATIVE = (
    "dibao.standard",
    "tekun.care",
    "income.employment_cost_rate",
    "income.employment_cost_cap",
    "income.exemption_multiplier",
    "dibao.gradual_exit_months",
    "assets.financial_months",
    "assets.zhichu_financial_months",
    "dibao.extra_share",
    "dibao.minimum_share",
    "medical.rate",
    "medical.annual_cap",
    "linshi.ordinary_cap_months",
)


@pytest.fixture(scope="module")
def system() -> CountryTaxBenefitSystem:
    return CountryTaxBenefitSystem()


def test_there_are_at_least_45_yaml_tests():
    count = sum(len(yaml.safe_load(path.read_text(encoding="utf-8"))) for path in YAML_FILES)
    assert count >= 45


@pytest.mark.parametrize("path", YAML_FILES, ids=[p.stem for p in YAML_FILES])
def test_yaml_file_passes_openfisca_test_runner(system, path):
    exit_code = run_tests(system, [str(path)], {"verbose": False})
    assert exit_code == 0, f"OpenFisca YAML tests failed in {path.name}"


def test_openfisca_cli_runs_a_yaml_file():
    openfisca = Path(sys.executable).parent / "openfisca"
    completed = subprocess.run(
        [
            str(openfisca),
            "test",
            "--country-package",
            "dajiuzhu.policy",
            str(YAML_DIR / "dibao_eligibility.yaml"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "passed" in completed.stdout


def _leaves(node: ParameterNode):
    for child in node.children.values():
        if isinstance(child, ParameterNode):
            yield from _leaves(child)
        else:
            yield child


def test_every_parameter_has_description_unit_reference_and_dated_values(system):
    leaves = list(_leaves(system.parameters))
    assert len(leaves) >= 25
    for parameter in leaves:
        assert isinstance(parameter, Parameter)
        assert parameter.description, parameter.name
        assert parameter.metadata.get("unit"), parameter.name
        assert parameter.metadata.get("reference"), parameter.name
        assert parameter.values_list, parameter.name


@pytest.mark.parametrize("name", ILLUSTRATIVE)
def test_illustrative_parameters_say_so(system, name):
    node = system.parameters
    for part in name.split("."):
        node = node.children[part]
    parameters = list(_leaves(node)) if isinstance(node, ParameterNode) else [node]
    for parameter in parameters:
        text = f"{parameter.description} {parameter.metadata.get('reference')}"
        assert "illustrative" in text, parameter.name


def test_the_six_districts_share_the_dated_standard(system):
    standards = system.parameters.dibao.standard
    assert sorted(standards.children) == [
        "320402",
        "320404",
        "320411",
        "320412",
        "320413",
        "320481",
    ]
    for parameter in standards.children.values():
        assert parameter("2022-06-30") is None
        assert parameter("2022-07-01") == 1005
        assert parameter("2023-06-30") == 1005
        assert parameter("2023-07-01") == 1070


def test_statistics_are_yearly_values(system):
    income = system.parameters.statistics.disposable_income
    assert income("2020-01-01") == 52080
    assert income("2022-01-01") == 59514
