"""The OpenFisca country package for Changzhou's social assistance (常州市社会救助), and the
Django app of the policy library (programme catalogue, dated parameter values, candidates).

Importable without Django: ``openfisca test --country-package dajiuzhu.policy FILE.yaml``
imports this module and reads :class:`CountryTaxBenefitSystem` (loaded lazily, so that Django
can import the app without loading OpenFisca). The platform calls the rules through
:mod:`dajiuzhu.policy.engine`.
"""

from __future__ import annotations

__all__ = ["CountryTaxBenefitSystem"]


def __getattr__(name: str):
    if name == "CountryTaxBenefitSystem":
        from dajiuzhu.policy.system import CountryTaxBenefitSystem

        return CountryTaxBenefitSystem
    raise AttributeError(name)
