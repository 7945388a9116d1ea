"""Reading the dataset contracts: a field's values taken from another declaration."""

from __future__ import annotations

import pytest

from dajiuzhu.exchange.contracts import ContractError, _parse, all_contracts
from dajiuzhu.policy.catalogue import codes


def test_a_programme_field_allows_exactly_the_catalogues_codes():
    fields = [
        (c.dataset, f)
        for c in all_contracts().values()
        for f in c.fields
        if f.values_from == "programmes"
    ]
    assert {d for d, _f in fields} >= {"assistance_recipients", "assistance_payments"}
    for _dataset, field in fields:
        assert field.type == "enum"
        assert field.values == codes()
        assert len(field.values) == 32


def test_an_unknown_source_of_values_is_refused_when_the_contract_is_read():
    raw = {
        "dataset": "x",
        "title": "x",
        "owner": "minzheng",
        "cycle": "monthly",
        "natural_key": ["a"],
        "fields": [{"name": "a", "type": "enum", "values_from": "departments"}],
    }
    with pytest.raises(ContractError, match="values_from departments"):
        _parse(raw)
