"""The OpenAPI document is one namespace: two different schemas may not share a name (ninja
keeps the last one, and clients and schemathesis then check responses against the wrong one)."""

from __future__ import annotations

import json

from ninja.openapi.schema import OpenAPISchema

from dajiuzhu.api import api


def test_schema_names_are_unique_across_routers(monkeypatch):
    seen: dict[str, set[str]] = {}
    original = OpenAPISchema.add_schema_definitions

    def record(self, definitions):
        for name, definition in definitions.items():
            seen.setdefault(name, set()).add(json.dumps(definition, sort_keys=True))
        return original(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", record)
    document = api.get_openapi_schema()
    clashes = sorted(name for name, definitions in seen.items() if len(definitions) > 1)
    assert clashes == []
    assert set(seen) <= set(document["components"]["schemas"])
    assert "HouseholdMemberOut" in document["components"]["schemas"]


def test_every_operation_is_documented_in_chinese(db):
    """Issue 11: the API's users are the departments' developers; summaries and descriptions
    are Chinese (a new operation gives a Chinese summary= or an entry in api_docs)."""
    import re

    cjk = re.compile(r"[\u4e00-\u9fff]")
    document = api.get_openapi_schema()
    assert cjk.search(document["info"]["description"])
    undocumented = [
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, op in methods.items()
        if not cjk.search(op.get("summary") or "") or not cjk.search(op.get("description") or "")
    ]
    assert undocumented == []
