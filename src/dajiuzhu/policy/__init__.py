"""The OpenFisca country package for Changzhou's social assistance (常州市社会救助).

Importable without Django: ``openfisca test --country-package dajiuzhu.policy FILE.yaml``
imports this module and instantiates :class:`CountryTaxBenefitSystem`. The platform calls
the rules through :mod:`dajiuzhu.policy.engine`.
"""

from dajiuzhu.policy.system import CountryTaxBenefitSystem

__all__ = ["CountryTaxBenefitSystem"]
