"""The tax-benefit system of Changzhou's social assistance (no Django here)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from dajiuzhu.policy import variables as variables_package
from dajiuzhu.policy.entities import entities

PACKAGE_DIR = Path(__file__).resolve().parent
PARAMETERS_DIR = PACKAGE_DIR / "parameters"


def _variable_classes() -> list[type[Variable]]:
    """Every variable defined in ``dajiuzhu.policy.variables.*``.

    The modules are imported as ordinary modules (not with OpenFisca's
    ``add_variables_from_directory``, which executes each file under a generated module name),
    so that they can share helpers through normal imports. A class counts as a variable when
    it subclasses ``Variable``, is defined in that module and declares ``value_type`` (which
    leaves out abstract bases like ``common.Money``).
    """
    classes: list[type[Variable]] = []
    for info in sorted(pkgutil.iter_modules(variables_package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{variables_package.__name__}.{info.name}")
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, Variable)
                and obj.__module__ == module.__name__
                and "value_type" in vars(obj)
            ):
                classes.append(obj)
    return classes


class CountryTaxBenefitSystem(TaxBenefitSystem):
    """常州市社会救助: 低保, 低保渐退, 低边, 单人保, 特困, 支出型, 医疗救助 (RULES.md)."""

    def __init__(self) -> None:
        super().__init__(entities)
        self.add_variables(*_variable_classes())
        self.load_parameters(str(PARAMETERS_DIR))
